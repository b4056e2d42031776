/** `jobwait fail <id>`: a worker ends its job as failed. */
import { type Command, GLOBAL_HELP, ONE_SHOT, clientFor, parseCommandArgs } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { jobLine } from '../output/job-format.js';
import { json, line } from '../output/terminal.js';
import { REPORT_FLAGS, REPORT_HELP, parseErrorCode, parseMessage, reportJobId, reportToken } from '../report/report-flags.js';

const USAGE = `Usage: jobwait fail <id> [--code <CODE>] [--message <text>]

Fails a job as its worker, with an error code and message. Repeating the same failure is safe
(exit 0); a job that ended otherwise exits 4, a canceled one 1.
${REPORT_HELP.replace('a short note shown with the job', "the error's message")}
  --code <CODE>          stable error code (default JOB_FAILED)

${GLOBAL_HELP}`;

/** The `fail` command. */
export const failCommand: Command = {
  name: 'fail',
  summary: 'fail a job as its worker, with an error',
  usage: USAGE,
  async run({ argv, terminal, env }) {
    const { values, positionals } = parseCommandArgs(argv, { ...REPORT_FLAGS, code: { type: 'string' } });
    if (values.help) return line(terminal, USAGE), EXIT.ok;
    const id = reportJobId('fail', positionals);
    const token = reportToken(values.token, env);
    const code = parseErrorCode(values.code);
    const message = parseMessage(values.message) ?? 'the worker reported a failure';
    const job = await clientFor(values, env, ONE_SHOT).reporter(id, token).fail({ code, message });
    if (values.json) json(terminal, job);
    else line(terminal, jobLine(job));
    return EXIT.ok;
  },
};
