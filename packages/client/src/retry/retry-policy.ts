/**
 * Transport retries as small pure functions (after ky's retry-timing): which
 * failures are worth another try, how long to wait before it, and how to read
 * `Retry-After`. Nothing here sleeps, so all of it is tested without clocks.
 */
import { InvalidOptionError, isJobwaitError } from '../errors/errors.js';

/** The most `setTimeout` accepts; longer delays fire at once. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** How transport failures (network errors, timeouts, 408/429/5xx) are retried. */
export interface RetryOptions {
  /**
   * Most consecutive retries after a failed request before the failure is thrown.
   * A wait also stops at its own deadline, whichever comes first.
   * @default 10
   */
  limit?: number;
  /**
   * Upper bound of the first backoff; each later retry doubles it (full jitter:
   * the real delay is uniform in [0, bound]).
   * @default 200
   */
  baseDelayMs?: number;
  /**
   * Largest backoff bound.
   * @default 10000
   */
  maxDelayMs?: number;
  /**
   * `Retry-After` is honoured but never beyond this; a server asking for more is clamped.
   * @default 60000
   */
  maxRetryAfterMs?: number;
  /**
   * HTTP statuses that are retried.
   * @default [408, 425, 429, 500, 502, 503, 504]
   */
  statusCodes?: readonly number[];
}

/** {@link RetryOptions} with every default filled in. */
export type NormalizedRetryOptions = Required<RetryOptions>;

/** Defaults of {@link RetryOptions}, in one place. */
export const RETRY_DEFAULTS: NormalizedRetryOptions = Object.freeze({
  limit: 10,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
  statusCodes: Object.freeze([408, 425, 429, 500, 502, 503, 504]),
});

/**
 * Fills defaults and rejects bad values early. Accepts a number as shorthand for `{limit}`
 * and `false` for no retries.
 * @example normalizeRetryOptions(3) // {limit: 3, baseDelayMs: 200, ...}
 */
export function normalizeRetryOptions(input: RetryOptions | number | false | undefined): NormalizedRetryOptions {
  if (input === undefined) return RETRY_DEFAULTS;
  if (input === false) return { ...RETRY_DEFAULTS, limit: 0 };
  if (typeof input !== 'number' && (typeof input !== 'object' || input === null)) {
    throw new InvalidOptionError(`retry must be an object, a number or false, got ${String(input)}`);
  }
  const options = typeof input === 'number' ? { limit: input } : input;
  const merged = { ...RETRY_DEFAULTS, ...stripUndefined(options) };
  requireCount('retry.limit', merged.limit);
  requireDelay('retry.baseDelayMs', merged.baseDelayMs);
  requireDelay('retry.maxDelayMs', merged.maxDelayMs);
  requireDelay('retry.maxRetryAfterMs', merged.maxRetryAfterMs);
  if (!Array.isArray(merged.statusCodes) || !merged.statusCodes.every((s) => Number.isInteger(s) && s >= 100 && s <= 599)) {
    throw new InvalidOptionError('retry.statusCodes must be an array of HTTP status codes');
  }
  return merged;
}

/** What to do about one failed attempt. */
export type RetryDecision = { retry: false } | { retry: true; delayMs: number };

/**
 * Problem codes of a jobwait server refusing to *hold* a request (a long-poll or an event stream):
 * the key holds as many as it may (429), or the server as many as its descriptors allow (503).
 * Nothing failed; the caller comes back later or reads without holding.
 */
export const HOLD_REFUSAL_CODES: ReadonlySet<string> = new Set(['JOBWAIT_ERR_TOO_MANY_HELD', 'JOBWAIT_ERR_SERVER_AT_CAPACITY']);

/** A failure as seen by the retry policy. */
export interface AttemptFailure {
  /** The error the attempt ended with. */
  error: unknown;
  /** HTTP status, when the server answered. */
  status?: number;
  /** The server's problem `code`, when it sent one. */
  serverCode?: string | undefined;
  /** Raw `Retry-After` header, when the server sent one. */
  retryAfter?: string | null;
}

/**
 * Decides whether failed attempt number `retryCount` (0 for the first retry) is retried, and after how long.
 * `random` is injectable so tests can check exact delays.
 */
export function decideRetry(
  failure: AttemptFailure,
  retryCount: number,
  options: NormalizedRetryOptions,
  now: number = Date.now(),
  random: () => number = Math.random,
): RetryDecision {
  const refusedHold = isHoldRefusal(failure);
  // A refused hold is the server pacing a waiter, not a failure: it never uses up the retries.
  if (retryCount >= options.limit && !refusedHold) return { retry: false };
  if (!refusedHold && !isRetryableFailure(failure, options)) return { retry: false };
  const hinted = failure.retryAfter == null ? undefined : parseRetryAfter(failure.retryAfter, now);
  if (hinted !== undefined) return { retry: true, delayMs: Math.min(hinted, options.maxRetryAfterMs) };
  return { retry: true, delayMs: backoffDelay(retryCount, options, random) };
}

/** True when the server refused to hold a request (see {@link HOLD_REFUSAL_CODES}). */
export function isHoldRefusal(failure: Pick<AttemptFailure, 'status' | 'serverCode'>): boolean {
  return (failure.status === 429 || failure.status === 503) && failure.serverCode !== undefined && HOLD_REFUSAL_CODES.has(failure.serverCode);
}

/** True for failures that another attempt may fix: network errors, per-request timeouts, unreadable bodies and the retryable statuses. */
export function isRetryableFailure(failure: AttemptFailure, options: NormalizedRetryOptions): boolean {
  if (failure.status !== undefined) return options.statusCodes.includes(failure.status);
  const { error } = failure;
  if (!isJobwaitError(error)) return false;
  return error.code === 'JOBWAIT_ERR_NETWORK' || error.code === 'JOBWAIT_ERR_REQUEST_TIMEOUT' || error.code === 'JOBWAIT_ERR_BAD_RESPONSE';
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base * 2^retryCount)]. */
export function backoffDelay(retryCount: number, options: Pick<NormalizedRetryOptions, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const bound = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(retryCount, 52));
  return Math.min(MAX_TIMER_DELAY_MS, Math.floor(random() * bound));
}

/**
 * Parses `Retry-After` (delta-seconds or an HTTP date) into milliseconds from `now`.
 * Returns undefined for anything unreadable, so a broken header falls back to backoff.
 */
export function parseRetryAfter(value: string, now: number = Date.now()): number | undefined {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.min(MAX_TIMER_DELAY_MS, Math.round(Number(trimmed) * 1000));
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_TIMER_DELAY_MS, Math.max(0, at - now));
}

function requireCount(name: string, value: unknown): void {
  if (typeof value !== 'number' || !(Number.isInteger(value) || value === Infinity) || value < 0) {
    throw new InvalidOptionError(`${name} must be a whole number >= 0, got ${String(value)}`);
  }
}

function requireDelay(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(`${name} must be a finite number of milliseconds >= 0, got ${String(value)}`);
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
