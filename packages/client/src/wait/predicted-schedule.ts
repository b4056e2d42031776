/**
 * When to look at a job whose end the server predicts from history (docs/predicted-waits.md).
 *
 * A look costs one request; looking late costs lateness. Waiting `g` more before the next look
 * adds, on average, `E[(g - R)+]` of lateness (R: the remaining time), which grows slowly where
 * the job is unlikely to end and fast where it is likely. The next look is the latest at which
 * that expected lateness is still within what a look is worth: `lookWorthShare` of the job's
 * length by then, at most `maxLookWorthMs`. So looks are few where the end is unlikely and dense
 * where it is likely; a look is worth more on a longer job, as lateness matters in proportion.
 * No gap exceeds `minDelayMs + maxRelativeDelay * waited`: a job that ends against the prediction
 * is still seen within a bounded share of its length. Without a prediction the bounded schedule
 * (wait/schedule.ts) decides.
 */
import { InvalidOptionError } from '../errors/errors.js';
import { MAX_TIMER_DELAY_MS } from '../retry/retry-policy.js';
import { EndDistribution, isEndPrediction, type EndPrediction } from './end-distribution.js';
import { SCHEDULE_DEFAULTS, nextPollDelay, type NormalizedScheduleOptions } from './schedule.js';

/** Shape of the prediction-driven schedule. */
export interface PredictedScheduleOptions {
  /**
   * Shortest gap between looks.
   * @default 500
   */
  minDelayMs?: number;
  /**
   * What one look is worth, as a share of the job's length at the look: the expected lateness a
   * gap may add before the look is taken.
   * @default 0.02
   */
  lookWorthShare?: number;
  /**
   * Cap of what one look is worth, in milliseconds of expected lateness: on long jobs a look is
   * still cheap next to a minute of delay.
   * @default 1500
   */
  maxLookWorthMs?: number;
  /**
   * No gap exceeds `minDelayMs + maxRelativeDelay * waited`: a job ending against the prediction
   * is seen at most this multiple of the time waited (plus `minDelayMs`) late.
   * @default 2
   */
  maxRelativeDelay?: number;
  /**
   * Absolute cap of any gap.
   * @default 2^31-1 (none but setTimeout's)
   */
  maxDelayMs?: number;
}

/** {@link PredictedScheduleOptions} with every default filled in. */
export type NormalizedPredictedScheduleOptions = Required<PredictedScheduleOptions>;

/** Defaults of {@link PredictedScheduleOptions} (chosen by bench/predict.ts: the mean delay of the bounded schedule with about half its requests). */
export const PREDICTED_SCHEDULE_DEFAULTS: NormalizedPredictedScheduleOptions = Object.freeze({
  minDelayMs: 500,
  lookWorthShare: 0.02,
  maxLookWorthMs: 1500,
  maxRelativeDelay: 2,
  maxDelayMs: MAX_TIMER_DELAY_MS,
});

/** Fills defaults and rejects bad values early. */
export function normalizePredictedScheduleOptions(input: PredictedScheduleOptions | undefined): NormalizedPredictedScheduleOptions {
  if (input === undefined) return PREDICTED_SCHEDULE_DEFAULTS;
  if (typeof input !== 'object' || input === null) throw new InvalidOptionError(`predicted schedule must be an object, got ${String(input)}`);
  const merged: NormalizedPredictedScheduleOptions = { ...PREDICTED_SCHEDULE_DEFAULTS };
  for (const [key, value] of Object.entries(input) as [keyof PredictedScheduleOptions, number | undefined][]) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value)) throw new InvalidOptionError(`predicted schedule ${key} must be a number`);
    merged[key] = value;
  }
  if (!(merged.minDelayMs >= 0 && Number.isFinite(merged.minDelayMs))) throw new InvalidOptionError('minDelayMs must be a finite number >= 0');
  if (!(merged.lookWorthShare > 0 && merged.lookWorthShare < 1)) throw new InvalidOptionError('lookWorthShare must be a number between 0 and 1');
  if (!(merged.maxLookWorthMs > 0)) throw new InvalidOptionError('maxLookWorthMs must be a number > 0');
  if (!(merged.maxRelativeDelay > 0)) throw new InvalidOptionError('maxRelativeDelay must be a number > 0');
  if (!(merged.maxDelayMs >= merged.minDelayMs)) throw new InvalidOptionError('maxDelayMs must be a number >= minDelayMs');
  return merged;
}

/** Where a wait stands when it picks its next look. */
export interface PredictedWaitState {
  /** Milliseconds waited so far: the job's age when it is known, else the time since the wait began. */
  waitedMs: number;
  /** Looks taken so far (the fallback schedule grows with it). */
  attempt: number;
  /** The server's prediction as of the look just taken; undefined when it has none. */
  prediction: PredictedLength | undefined;
}

/** What a server tells of a pending job's end from history: the quantiles of jobs like it, and its age. */
export interface PredictedLength {
  /** Quantiles of the length of jobs like this one, from creation. */
  length: EndPrediction;
  /** The job's age at the answer, in milliseconds. */
  ageMs: number;
}

/**
 * Milliseconds until the next look. With a usable prediction, the rule above; without (or past every
 * length the history holds), the bounded schedule's `nextPollDelay(attempt, waitedMs)` with `fallback`'s shape.
 * @example nextPredictedDelay({ waitedMs: 20_000, attempt: 5, prediction: { ageMs: 20_000, length: { p50Ms: 60_000, p90Ms: 90_000, p99Ms: 130_000 } } })
 */
export function nextPredictedDelay(
  state: PredictedWaitState,
  options: NormalizedPredictedScheduleOptions = PREDICTED_SCHEDULE_DEFAULTS,
  fallback: NormalizedScheduleOptions = SCHEDULE_DEFAULTS,
): number {
  const waited = Math.max(0, state.waitedMs);
  const prediction = state.prediction;
  const end = prediction && isEndPrediction(prediction.length) && prediction.ageMs >= 0 ? new EndDistribution(prediction.length, prediction.ageMs) : undefined;
  if (!end?.usable) return nextPollDelay(state.attempt, waited, fallback);
  const ceiling = Math.min(options.minDelayMs + options.maxRelativeDelay * waited, options.maxDelayMs, MAX_TIMER_DELAY_MS);
  const worth = (gap: number): number => Math.min(options.lookWorthShare * (waited + gap), options.maxLookWorthMs);
  if (end.expectedLateness(ceiling) <= worth(ceiling)) return Math.floor(Math.max(options.minDelayMs, ceiling));
  // Expected lateness grows faster than the worth of a look (it is convex, the worth at most linear
  // with a smaller slope once the job is likely over): one crossing, found by bisection.
  let low = 0;
  let high = ceiling;
  for (let i = 0; i < 40 && high - low > 1; i++) {
    const middle = (low + high) / 2;
    if (end.expectedLateness(middle) <= worth(middle)) low = middle;
    else high = middle;
  }
  return Math.floor(Math.min(ceiling, Math.max(options.minDelayMs, low)));
}
