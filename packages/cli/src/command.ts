/** What every `jobwait` command shares: global flags, the client, and error-to-exit-code mapping. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { JobwaitClient, isJobwaitError, type ClientOptions, type Job } from '@jobwait/client';
import { EXIT, UsageError } from './exit-codes.js';
import type { Terminal } from './output/terminal.js';

/** Default server URL. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** Flags every client command takes. */
export const GLOBAL_FLAGS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** Help lines of the global flags. */
export const GLOBAL_HELP = `Global options:
  --url <url>        server URL (env JOBWAIT_URL, default ${DEFAULT_URL})
  --api-key <key>    API key (env JOBWAIT_API_KEY)
  --json             print JSON instead of text
  -h, --help         show help for the command`;

/** Context of one command run. */
export interface CommandContext {
  argv: string[];
  terminal: Terminal;
  env: NodeJS.ProcessEnv;
  /** Fires on Ctrl-C. */
  signal: AbortSignal;
}

/** A subcommand. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(context: CommandContext): Promise<number>;
}

/** parseArgs with the global flags, turning its errors into UsageError. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...GLOBAL_FLAGS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * Transport retries of a single request (`status`, `ls`, `cancel`, `start`): a few quick tries,
 * so a server that is down is reported in about a second. The client's default (10 retries,
 * backoff up to 10 s) took ~27 s to report it; waits keep that default to ride out restarts.
 */
export const ONE_SHOT: Pick<ClientOptions, 'retry'> = Object.freeze({ retry: Object.freeze({ limit: 3, maxDelayMs: 1000 }) });

/** The client for the `--url`/`--api-key` flags or their environment variables. */
export function clientFor(
  values: { url?: string | boolean | undefined; 'api-key'?: string | boolean | undefined },
  env: NodeJS.ProcessEnv,
  tuning: Pick<ClientOptions, 'retry' | 'requestTimeoutMs'> = {},
): JobwaitClient {
  const baseUrl = (typeof values.url === 'string' ? values.url : undefined) ?? env.JOBWAIT_URL ?? DEFAULT_URL;
  const apiKey = (typeof values['api-key'] === 'string' ? values['api-key'] : undefined) ?? env.JOBWAIT_API_KEY;
  try {
    return new JobwaitClient({ ...tuning, baseUrl, apiKey: apiKey || undefined });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Parses a number of seconds given on the command line. */
export function seconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a number of seconds > 0, got ${JSON.stringify(value)}`);
  return n;
}

/** Exit code of a finished job. */
export function exitCodeOf(job: Job): number {
  return job.status === 'completed' ? EXIT.ok : EXIT.jobFailed;
}

/** Exit code and message of an error thrown by a command. */
export function describeFailure(error: unknown): { code: number; message: string } {
  if (error instanceof UsageError) return { code: EXIT.usage, message: error.message };
  if (isJobwaitError(error)) {
    if (error.code === 'JOBWAIT_ERR_TIMEOUT') return { code: EXIT.timeout, message: error.message };
    if (error.code === 'JOBWAIT_ERR_ABORTED') return { code: EXIT.interrupted, message: 'interrupted' };
    if (error.code === 'JOBWAIT_ERR_INVALID_OPTION') return { code: EXIT.usage, message: error.message };
    // A worker's report to a canceled job: the worker should stop, as for a job that failed.
    if (error.code === 'JOBWAIT_ERR_JOB_CANCELED') return { code: EXIT.jobFailed, message: error.message };
    return { code: EXIT.requestFailed, message: error.message };
  }
  return { code: EXIT.requestFailed, message: error instanceof Error ? error.message : String(error) };
}
