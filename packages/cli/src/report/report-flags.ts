/**
 * What `jobwait report`, `complete` and `fail` share: the job's report token (a worker holds it
 * instead of an API key) and the parsing of the values a worker reports.
 */
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from '../exit-codes.js';

/** Environment variable a worker's shell can hold the token in, so it stays out of `ps` and shell history. */
export const REPORT_TOKEN_ENV = 'JOBWAIT_REPORT_TOKEN';

/** Flags of every report command. */
export const REPORT_FLAGS = {
  token: { type: 'string' },
  message: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Help lines of {@link REPORT_FLAGS}. */
export const REPORT_HELP = `  --token <jwr_…>        the job's report token (env ${REPORT_TOKEN_ENV}); no API key is needed
  --message <text>       a short note shown with the job (at most 1000 characters)`;

/** The report token from `--token` or the environment; a usage error when there is none. */
export function reportToken(flag: string | boolean | undefined, env: NodeJS.ProcessEnv): string {
  const token = (typeof flag === 'string' ? flag : undefined) ?? env[REPORT_TOKEN_ENV];
  if (!token) throw new UsageError(`a report token is needed: --token <jwr_…> or ${REPORT_TOKEN_ENV} (the reportToken the job's create answered)`);
  return token;
}

/** The one job id a report command takes. */
export function reportJobId(command: string, positionals: readonly string[]): string {
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one argument: the job id`);
  return positionals[0]!;
}

/** `--progress`: a fraction 0..1, or a percentage written with `%` (`40%`). */
export function parseProgress(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const percent = text.endsWith('%');
  const n = Number(percent ? text.slice(0, -1) : text);
  const fraction = percent ? n / 100 : n;
  if (text === '' || text === '%' || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw new UsageError(`--progress must be a fraction from 0 to 1 (or a percentage like 40%), got ${JSON.stringify(value)}`);
  }
  return fraction;
}

/** `--message`, checked against the server's limit here so the mistake is a usage error, not a 400. */
export function parseMessage(value: string | boolean | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.length > 1000) throw new UsageError(`--message is at most 1000 characters, got ${value.length}`);
  return value;
}

/** `--eta`: seconds until the worker expects to finish, > 0. */
export function parseEta(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--eta must be a number of seconds > 0 (leave it out when unknown), got ${JSON.stringify(value)}`);
  return n;
}

/**
 * `--result`: JSON when the text parses as JSON (`{"url":…}`, `42`, `"text"`), else the text
 * itself, so `--result https://cdn.example/v.mp4` needs no quoting.
 */
export function parseResult(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** `--code` of `fail`: a stable code, printable ASCII without spaces. */
export function parseErrorCode(value: string | undefined): string {
  if (value === undefined) return 'JOB_FAILED';
  if (!/^[\x21-\x7e]{1,100}$/.test(value)) throw new UsageError(`--code must be 1 to 100 printable characters without spaces, got ${JSON.stringify(value)}`);
  return value;
}
