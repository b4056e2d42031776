/**
 * The "still pending" schedule used when the server gives no hint.
 *
 * A pure exponential backoff (the seed's 4 s doubling) is late in proportion to
 * the job's length: a 61 s job is seen 63 s late. Here every delay is also
 * bounded by `minDelayMs + maxRelativeDelay * elapsed`. A job still pending
 * after `elapsed` lasts at least that long, so lateness stays below
 * `minDelayMs + maxRelativeDelay * duration` for every job, while requests
 * grow only logarithmically with the job's length.
 */
import { InvalidOptionError } from '../errors/errors.js';
import { MAX_TIMER_DELAY_MS } from '../retry/retry-policy.js';

/** Shape of the polling schedule used when the server offers no hint. */
export interface ScheduleOptions {
  /**
   * Delay before the first look.
   * @default 500
   */
  initialDelayMs?: number;
  /**
   * Growth of the delay from one look to the next.
   * @default 2
   */
  factor?: number;
  /**
   * Floor of the elapsed-relative bound (see `maxRelativeDelay`).
   * @default 500
   */
  minDelayMs?: number;
  /**
   * No delay exceeds `minDelayMs + maxRelativeDelay * elapsed`: the waiter is never later
   * than this fraction of the job's own length (plus `minDelayMs`). `Infinity` turns the bound off.
   * @default 0.193
   */
  maxRelativeDelay?: number;
  /**
   * Absolute cap of any delay.
   * @default 60000
   */
  maxDelayMs?: number;
}

/** {@link ScheduleOptions} with every default filled in. */
export type NormalizedScheduleOptions = Required<ScheduleOptions>;

/** Defaults of {@link ScheduleOptions}: late by at most 19.3% of the job's length + 0.5 s (the 10th look of a 10 s job lands after it ends, so a 10 s job costs fewer looks than fixed 1 s polling). */
export const SCHEDULE_DEFAULTS: NormalizedScheduleOptions = Object.freeze({
  initialDelayMs: 500,
  factor: 2,
  minDelayMs: 500,
  maxRelativeDelay: 0.193,
  maxDelayMs: 60_000,
});

/** The seed's own schedule (first look at 4 s, then doubling, no bound), for comparison and compatibility. */
export const SEED_SCHEDULE: NormalizedScheduleOptions = Object.freeze({
  initialDelayMs: 4000,
  factor: 2,
  minDelayMs: 0,
  maxRelativeDelay: Infinity,
  maxDelayMs: MAX_TIMER_DELAY_MS,
});

/** Fills defaults and rejects bad values early. */
export function normalizeScheduleOptions(input: ScheduleOptions | undefined): NormalizedScheduleOptions {
  if (input === undefined) return SCHEDULE_DEFAULTS;
  if (typeof input !== 'object' || input === null) throw new InvalidOptionError(`schedule must be an object, got ${String(input)}`);
  const merged: NormalizedScheduleOptions = { ...SCHEDULE_DEFAULTS };
  for (const [key, value] of Object.entries(input) as [keyof ScheduleOptions, number | undefined][]) {
    if (value !== undefined) merged[key] = value;
  }
  for (const key of ['initialDelayMs', 'minDelayMs', 'maxDelayMs'] as const) {
    if (typeof merged[key] !== 'number' || !(merged[key] >= 0)) throw new InvalidOptionError(`schedule.${key} must be a number >= 0`);
  }
  if (typeof merged.factor !== 'number' || !(merged.factor >= 1) || !Number.isFinite(merged.factor)) {
    throw new InvalidOptionError('schedule.factor must be a finite number >= 1');
  }
  if (typeof merged.maxRelativeDelay !== 'number' || !(merged.maxRelativeDelay > 0)) {
    throw new InvalidOptionError('schedule.maxRelativeDelay must be a number > 0 (Infinity to disable)');
  }
  return merged;
}

/**
 * Delay before look number `attempt + 1`, given `attempt` looks so far and `elapsedMs` since the wait began.
 * @example nextPollDelay(0, 0, SCHEDULE_DEFAULTS) // 500
 */
export function nextPollDelay(attempt: number, elapsedMs: number, options: NormalizedScheduleOptions): number {
  const exponential = options.initialDelayMs * options.factor ** Math.min(attempt, 1000);
  // Infinity * 0 is NaN: with the bound off (the seed schedule), the first delay would be NaN.
  const relative = Number.isFinite(options.maxRelativeDelay) ? options.minDelayMs + options.maxRelativeDelay * Math.max(0, elapsedMs) : Infinity;
  const delay = Math.min(exponential, relative, options.maxDelayMs, MAX_TIMER_DELAY_MS);
  return Math.max(0, Math.floor(delay));
}
