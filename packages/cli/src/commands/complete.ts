/** `jobwait complete <id>`: a worker ends its job with a result. */
import { type Command, GLOBAL_HELP, ONE_SHOT, clientFor, parseCommandArgs } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { jobLine } from '../output/job-format.js';
import { json, line } from '../output/terminal.js';
import { REPORT_FLAGS, REPORT_HELP, parseMessage, parseResult, reportJobId, reportToken } from '../report/report-flags.js';

const USAGE = `Usage: jobwait complete <id> [--result <json|text>] [--message <text>]

Completes a job as its worker. Repeating the same completion is safe (exit 0); a job that
ended otherwise exits 4, a canceled one 1.
${REPORT_HELP}
  --result <value>       what the job produced: JSON if it parses ({"url":"…"}, 42), else the text

${GLOBAL_HELP}`;

/** The `complete` command. */
export const completeCommand: Command = {
  name: 'complete',
  summary: 'complete a job as its worker, with a result',
  usage: USAGE,
  async run({ argv, terminal, env }) {
    const { values, positionals } = parseCommandArgs(argv, { ...REPORT_FLAGS, result: { type: 'string' } });
    if (values.help) return line(terminal, USAGE), EXIT.ok;
    const id = reportJobId('complete', positionals);
    const token = reportToken(values.token, env);
    const message = parseMessage(values.message);
    const result = parseResult(values.result);
    const reporter = clientFor(values, env, ONE_SHOT).reporter(id, token);
    const job = await reporter.complete(result, message === undefined ? {} : { message });
    if (values.json) json(terminal, job);
    else line(terminal, jobLine(job));
    return EXIT.ok;
  },
};
