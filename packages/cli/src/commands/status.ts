/** `jobwait status <id>`: one look at a job. */
import { type Command, GLOBAL_HELP, ONE_SHOT, clientFor, parseCommandArgs } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { jobLine } from '../output/job-format.js';
import { json, line } from '../output/terminal.js';

const USAGE = `Usage: jobwait status <id>

Prints the job's status once (exit 0 whatever the status; 4 if it cannot be read).

${GLOBAL_HELP}`;

/** The `status` command. */
export const statusCommand: Command = {
  name: 'status',
  summary: "show a job's status",
  usage: USAGE,
  async run({ argv, terminal, env, signal }) {
    const { values, positionals } = parseCommandArgs(argv, {});
    if (values.help) return line(terminal, USAGE), EXIT.ok;
    if (positionals.length !== 1) throw new UsageError('status takes exactly one argument: the job id');
    const job = await clientFor(values, env, ONE_SHOT).getJob(positionals[0]!, { signal });
    if (values.json) json(terminal, job);
    else line(terminal, jobLine(job));
    return EXIT.ok;
  },
};
