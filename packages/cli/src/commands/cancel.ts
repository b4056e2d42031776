/** `jobwait cancel <id>`: cancels a pending job. */
import { type Command, GLOBAL_HELP, ONE_SHOT, clientFor, parseCommandArgs } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { jobLine } from '../output/job-format.js';
import { json, line } from '../output/terminal.js';

const USAGE = `Usage: jobwait cancel <id>

Cancels a pending job (exit 4 if it already finished or does not exist).

${GLOBAL_HELP}`;

/** The `cancel` command. */
export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'cancel a pending job',
  usage: USAGE,
  async run({ argv, terminal, env, signal }) {
    const { values, positionals } = parseCommandArgs(argv, {});
    if (values.help) return line(terminal, USAGE), EXIT.ok;
    if (positionals.length !== 1) throw new UsageError('cancel takes exactly one argument: the job id');
    const job = await clientFor(values, env, ONE_SHOT).cancelJob(positionals[0]!, { signal });
    if (values.json) json(terminal, job);
    else line(terminal, jobLine(job));
    return EXIT.ok;
  },
};
