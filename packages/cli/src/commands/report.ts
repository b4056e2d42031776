/** `jobwait report <id>`: a worker's progress, start or heartbeat, with the job's report token. */
import { type Command, GLOBAL_HELP, ONE_SHOT, clientFor, parseCommandArgs } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { jobLine } from '../output/job-format.js';
import { json, line } from '../output/terminal.js';
import { REPORT_FLAGS, REPORT_HELP, parseEta, parseMessage, parseProgress, reportJobId, reportToken } from '../report/report-flags.js';

const USAGE = `Usage: jobwait report <id> [--progress <0..1|N%>] [--message <text>] [--eta <s>] [--event started|progress|heartbeat]

Reports on a job as its worker: progress, a message, an expected end. Any report is also a
heartbeat. Exit 0 when accepted; 1 when the job was canceled (stop working on it); 4 when it
already ended or the report was refused.
${REPORT_HELP}
  --progress <p>         fraction done, 0..1 or a percentage (40%)
  --eta <s>              seconds until the worker expects to finish (leave out when unknown)
  --event <e>            started, progress or heartbeat (default: progress, or heartbeat when
                         nothing else is given)

${GLOBAL_HELP}`;

const EVENTS = new Set(['started', 'progress', 'heartbeat']);

/** The `report` command. */
export const reportCommand: Command = {
  name: 'report',
  summary: "report a job's progress as its worker",
  usage: USAGE,
  async run({ argv, terminal, env, signal }) {
    const { values, positionals } = parseCommandArgs(argv, { ...REPORT_FLAGS, progress: { type: 'string' }, eta: { type: 'string' }, event: { type: 'string' } });
    if (values.help) return line(terminal, USAGE), EXIT.ok;
    const id = reportJobId('report', positionals);
    const token = reportToken(values.token, env);
    const progress = parseProgress(values.progress);
    const message = parseMessage(values.message);
    const etaSeconds = parseEta(values.eta);
    const said = progress !== undefined || message !== undefined || etaSeconds !== undefined;
    const event = values.event ?? (said ? 'progress' : 'heartbeat');
    if (!EVENTS.has(event)) throw new UsageError(`--event must be started, progress or heartbeat, got ${JSON.stringify(event)} (use 'jobwait complete' or 'jobwait fail' to end a job)`);
    if (event === 'heartbeat' && said) throw new UsageError('a heartbeat carries nothing: leave out --event to report progress');
    const reporter = clientFor(values, env, ONE_SHOT).reporter(id, token, { progressIntervalMs: 0 });
    const stop = (): void => reporter.close();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const details = { ...(message !== undefined ? { message } : {}), ...(etaSeconds !== undefined ? { etaSeconds } : {}) };
      if (event === 'started') await reporter.started(details);
      else if (event === 'heartbeat') await reporter.heartbeat();
      else if (progress !== undefined) await reporter.progress(progress, details);
      else await reporter.started(details);
    } finally {
      signal.removeEventListener('abort', stop);
      reporter.close();
    }
    const job = reporter.job!;
    if (values.json) json(terminal, job);
    else line(terminal, jobLine(job));
    return EXIT.ok;
  },
};
