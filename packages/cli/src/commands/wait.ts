/** `jobwait wait <id>`: follows a job until it ends. */
import type { Job, WaitStrategy } from '@jobwait/client';
import { type Command, GLOBAL_HELP, clientFor, parseCommandArgs, seconds } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { SetSummary } from '../output/set-summary.js';
import { json, line } from '../output/terminal.js';
import { follow, peekJob } from './wait-for.js';

const USAGE = `Usage: jobwait wait <id> [--timeout <s>] [--strategy auto|long-poll|sse|poll]
       jobwait wait --tag <tag> | --batch <id> [--timeout <s>]

Waits until the job ends: exit 0 completed, 1 error or canceled, 3 timeout, 130 interrupted.
A progress bar is drawn on a terminal; plain lines otherwise.
With --tag or --batch, waits on every job of the tag or batch over one stream: a summary bar
(n of N done, failures) on a terminal, a line per job as it ends otherwise; the failures are
listed at the end, and the exit is 1 if any job failed or was canceled.
  --tag <tag>        wait on every job with this tag
  --batch <id>       wait on every job of this batch
  --timeout <s>      give up after <s> seconds (one last look is taken at the deadline)
  --strategy <s>     how to wait (default auto: the best the server offers)

${GLOBAL_HELP}`;

/** Longest the first look before a wait may take; the wait itself is bounded by --timeout. */
const PEEK_TIMEOUT_MS = 2000;

const STRATEGIES = ['auto', 'long-poll', 'sse', 'poll'] as const;

/** Checks a `--strategy` value. */
export function parseStrategy(value: string | undefined): WaitStrategy {
  if (value === undefined) return 'auto';
  if (!(STRATEGIES as readonly string[]).includes(value)) throw new UsageError(`--strategy must be one of ${STRATEGIES.join(', ')}`);
  return value as WaitStrategy;
}

/** The `wait` command. */
export const waitCommand: Command = {
  name: 'wait',
  summary: 'wait until a job ends',
  usage: USAGE,
  async run({ argv, terminal, env, signal }) {
    const { values, positionals } = parseCommandArgs(argv, { timeout: { type: 'string' }, strategy: { type: 'string' }, tag: { type: 'string' }, batch: { type: 'string' } });
    if (values.help) return line(terminal, USAGE), EXIT.ok;
    const timeoutMs = seconds('--timeout', values.timeout);
    if (values.tag !== undefined || values.batch !== undefined) {
      if (positionals.length > 0 || (values.tag !== undefined && values.batch !== undefined)) throw new UsageError('wait takes a job id, or one of --tag and --batch');
      if (values.strategy !== undefined) throw new UsageError('--strategy is for one job: a tag or batch is waited on over one stream');
      const set = values.tag !== undefined ? { tag: values.tag } : { batch: values.batch! };
      const summary = values.json ? undefined : new SetSummary(terminal);
      const ended: Job[] = [];
      const wait = clientFor(values, env).waitForJobs(set, { signal, timeoutMs: timeoutMs && timeoutMs * 1000, onCounts: (counts) => summary?.setTotal(counts.total) });
      try {
        for await (const job of wait) {
          ended.push(job);
          summary?.ended(job);
        }
      } finally {
        summary?.finish();
      }
      if (values.json) json(terminal, ended);
      return ended.every((job) => job.status === 'completed') ? EXIT.ok : EXIT.jobFailed;
    }
    if (positionals.length !== 1) throw new UsageError('wait takes exactly one argument: the job id');
    const strategy = parseStrategy(values.strategy);
    const id = positionals[0]!;
    const client = clientFor(values, env);
    const peek = clientFor(values, env, { retry: false, requestTimeoutMs: Math.min(PEEK_TIMEOUT_MS, timeoutMs ? timeoutMs * 1000 : Infinity) });
    return follow(client, id, terminal, {
      asJson: values.json ?? false,
      initial: values.json ? undefined : await peekJob(peek, id, signal),
      timeoutMs: timeoutMs && timeoutMs * 1000,
      strategy,
      signal,
    });
  },
};
