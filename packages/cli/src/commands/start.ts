/** `jobwait start <seconds>` (a simulated job) or `jobwait start --reported` (a job a worker ends): starts it, and with `--wait` follows it to the end. */
import { type Command, GLOBAL_HELP, ONE_SHOT, clientFor, parseCommandArgs, seconds } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { json, line } from '../output/terminal.js';
import { follow } from './wait-for.js';
import { parseStrategy } from './wait.js';

const USAGE = `Usage: jobwait start <seconds> [--wait] [--timeout <s>] [--outcome completed|error] [--metadata <json>] [--tag <tag>]...
       jobwait start --reported [--heartbeat-timeout <s>] [--job-timeout <s>] [--wait] [--metadata <json>] [--tag <tag>]...

Starts a simulated job that runs <seconds>. Prints its id (or the job with --json).
With --reported, starts a job without a duration that a worker ends (jobwait report/complete/fail):
prints its id and its report token, the worker's capability, on one line: job_… jwr_…
  --reported             a reported job: no duration, pending until its worker reports
  --heartbeat-timeout <s>  reported: a started job silent this long fails as JOBWAIT_ERR_JOB_STALLED
  --job-timeout <s>      reported: a job not finished this long after its creation fails as JOBWAIT_ERR_JOB_EXPIRED
  --wait                 follow the job until it ends (exit 0 completed, 1 failed, 3 timeout)
  --timeout <s>          give up waiting after <s> seconds
  --strategy <s>         auto | long-poll | sse | poll (default auto)
  --outcome <o>          force the outcome: completed or error
  --metadata <json>      JSON object kept with the job
  --tag <tag>            label the job (repeat for more; wait on them all with jobwait wait --tag)

${GLOBAL_HELP}`;

/** The `start` command. */
export const startCommand: Command = {
  name: 'start',
  summary: 'start a job (and wait for it with --wait)',
  usage: USAGE,
  async run({ argv, terminal, env, signal }) {
    const { values, positionals } = parseCommandArgs(argv, {
      wait: { type: 'boolean' },
      timeout: { type: 'string' },
      strategy: { type: 'string' },
      outcome: { type: 'string' },
      metadata: { type: 'string' },
      tag: { type: 'string', multiple: true },
      reported: { type: 'boolean' },
      'heartbeat-timeout': { type: 'string' },
      'job-timeout': { type: 'string' },
    });
    if (values.help) return line(terminal, USAGE), EXIT.ok;
    const reported = values.reported ?? false;
    if (reported && positionals.length !== 0) throw new UsageError('start --reported takes no duration: its worker ends it');
    if (!reported && positionals.length !== 1) throw new UsageError('start takes exactly one argument: the duration in seconds (or --reported, for a job a worker ends)');
    if (!reported && (values['heartbeat-timeout'] !== undefined || values['job-timeout'] !== undefined)) {
      throw new UsageError('--heartbeat-timeout and --job-timeout go with --reported (a simulated job ends at its duration)');
    }
    const duration = reported ? undefined : seconds('duration', positionals[0])!;
    const outcome = values.outcome;
    if (outcome !== undefined && reported) throw new UsageError('--outcome is for simulated jobs: a reported job ends as its worker reports');
    if (outcome !== undefined && outcome !== 'completed' && outcome !== 'error') throw new UsageError('--outcome must be completed or error');
    const heartbeatTimeoutSeconds = seconds('--heartbeat-timeout', values['heartbeat-timeout']);
    const timeoutSeconds = seconds('--job-timeout', values['job-timeout']);
    let metadata: Record<string, unknown> | undefined;
    if (values.metadata !== undefined) {
      try {
        metadata = JSON.parse(values.metadata) as Record<string, unknown>;
      } catch {
        throw new UsageError('--metadata must be a JSON object');
      }
      if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new UsageError('--metadata must be a JSON object');
    }
    const timeoutMs = seconds('--timeout', values.timeout);
    const strategy = parseStrategy(values.strategy);
    const job = await clientFor(values, env, ONE_SHOT).createJob(
      {
        ...(duration !== undefined ? { duration } : {}),
        ...(outcome ? { outcome } : {}),
        ...(heartbeatTimeoutSeconds !== undefined ? { heartbeatTimeoutSeconds } : {}),
        ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
        ...(metadata ? { metadata } : {}),
        ...(values.tag ? { tags: values.tag } : {}),
      },
      { signal },
    );
    if (!values.wait) {
      if (values.json) json(terminal, job);
      // One line a shell splits in two: `read -r id token < <(jobwait start --reported)`.
      else line(terminal, reported ? `${job.id} ${job.reportToken ?? ''}` : job.id);
      return EXIT.ok;
    }
    // A reported job's token is said even with --json: the worker needs it, and the final job no longer carries it.
    if (!values.json || reported) terminal.err.write(reported ? `started ${job.id} (reported; report token ${job.reportToken ?? '?'})\n` : `started ${job.id} (${duration}s)\n`);
    return follow(clientFor(values, env), job.id, terminal, { asJson: values.json ?? false, timeoutMs: timeoutMs && timeoutMs * 1000, strategy, signal, initial: job });
  },
};
