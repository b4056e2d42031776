/** `jobwait wait <id>`: follows a job until it ends. */
import type { WaitStrategy } from '@jobwait/client';
import { type Command, GLOBAL_HELP, clientFor, parseCommandArgs, seconds } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { line } from '../output/terminal.js';
import { follow, peekJob } from './wait-for.js';

const USAGE = `Usage: jobwait wait <id> [--timeout <s>] [--strategy auto|long-poll|sse|poll]

Waits until the job ends: exit 0 completed, 1 error or canceled, 3 timeout, 130 interrupted.
A progress bar is drawn on a terminal; plain lines otherwise.
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
    const { values, positionals } = parseCommandArgs(argv, { timeout: { type: 'string' }, strategy: { type: 'string' } });
    if (values.help) return line(terminal, USAGE), EXIT.ok;
    if (positionals.length !== 1) throw new UsageError('wait takes exactly one argument: the job id');
    const timeoutMs = seconds('--timeout', values.timeout);
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
