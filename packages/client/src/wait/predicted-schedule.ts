/**
 * When to look at a job whose end the server predicts from history (docs/predicted-waits.md).
 *
 * A look costs one request; looking late costs lateness. Waiting `g` more before the next look
 * adds, on average, `E[(g - R)+]` of lateness (R: the remaining time), which grows slowly where
 * the job is unlikely to end and fast where it is likely. The next look is the latest at which
 * that expected lateness is still within what a look is worth: `lookWorthShare` of the job's
 * length by then, at most `maxLookWorthMs`. So looks are few where the end is unlikely and dense
 * where it is likely; a look is worth more on a longer job, as lateness matters in proportion.
 * Two hard bounds on top: once the job has run as long as the shortest 0.5% of jobs like it, no
 * job is seen later than 10% of its length + 1 s (`maxLateness`: a bound on each job, not on the
 * average; the 0.5% it leaves out are where covering a job costs a look for every job); before
 * that, no gap exceeds `minDelayMs + maxRelativeDelay * waited`, so a job that ends against the
 * prediction is still seen within a bounded multiple of its length. Without a prediction the
 * bounded schedule (wait/schedule.ts) decides.
 */
import { InvalidOptionError } from '../errors/errors.js';
import { MAX_TIMER_DELAY_MS } from '../retry/retry-policy.js';
import { EndDistribution, isEndPrediction, type EndPrediction } from './end-distribution.js';
import { SCHEDULE_DEFAULTS, nextPollDelay, type NormalizedScheduleOptions } from './schedule.js';

/** Shape of the prediction-driven schedule. */
export interface PredictedScheduleOptions {
  /**
   * Shortest gap between looks (it wins over every other bound).
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
   * @default 3000
   */
  maxLookWorthMs?: number;
  /**
   * No gap exceeds `minDelayMs + maxRelativeDelay * waited`: a job ending against the prediction
   * (before the low end `maxLateness` starts at) is seen at most this multiple of the time
   * waited (plus `minDelayMs`) late.
   * @default 20
   */
  maxRelativeDelay?: number;
  /**
   * Absolute cap of any gap.
   * @default 2^31-1 (none but setTimeout's)
   */
  maxDelayMs?: number;
  /**
   * A hard bound on lateness once the job is likely to end: from the moment the job has run as
   * long as the shortest `fromQuantile` of the predicted lengths, no job is seen more than
   * `share` × its length + `slackMs` after it ends, however long it runs. Before that (the low
   * tail, where covering a job costs a look for every job) the look-worth rule and
   * `maxRelativeDelay` decide. `false` turns the bound off: fewer requests, but a later mean
   * and no bound on any one job but `maxRelativeDelay`'s.
   * @default { share: 0.1, slackMs: 1000, fromQuantile: 0.005 }
   */
  maxLateness?: LatenessBound | false | undefined;
}

/** A bound on lateness relative to the job's length, once it has run as long as the shortest predicted lengths (see `maxLateness`). */
export interface LatenessBound {
  /**
   * Share of the job's length a look may come after its end (> 0).
   * @default 0.1
   */
  share?: number;
  /**
   * Added to the bound, in milliseconds: short jobs are not looked at every few hundred milliseconds.
   * @default 1000
   */
  slackMs?: number;
  /**
   * The bound holds once the job has run as long as this share of jobs like it (a quantile of the
   * predicted length, 0..0.5): jobs shorter than that are the few a look costs the most to cover.
   * @default 0.005
   */
  fromQuantile?: number;
}

/** {@link PredictedScheduleOptions} with every default filled in. */
export type NormalizedPredictedScheduleOptions = Required<Omit<PredictedScheduleOptions, 'maxLateness'>> & {
  /** The lateness bound, or false when it is off. */
  maxLateness: Readonly<Required<LatenessBound>> | false;
};

/** Defaults of {@link LatenessBound}. */
export const LATENESS_BOUND_DEFAULTS: Readonly<Required<LatenessBound>> = Object.freeze({ share: 0.1, slackMs: 1000, fromQuantile: 0.005 });

/**
 * Defaults of {@link PredictedScheduleOptions}, chosen by bench/predict.ts: with them the schedule
 * sees 99% of jobs within 10% of their length + 1 s, at a mean delay no worse than the bounded
 * schedule's with under 60% of its requests (docs/predicted-waits.md).
 */
export const PREDICTED_SCHEDULE_DEFAULTS: NormalizedPredictedScheduleOptions = Object.freeze({
  minDelayMs: 500,
  lookWorthShare: 0.02,
  maxLookWorthMs: 3000,
  maxRelativeDelay: 20,
  maxDelayMs: MAX_TIMER_DELAY_MS,
  maxLateness: LATENESS_BOUND_DEFAULTS,
});

/** Fills defaults and rejects bad values early. */
export function normalizePredictedScheduleOptions(input: PredictedScheduleOptions | undefined): NormalizedPredictedScheduleOptions {
  if (input === undefined) return PREDICTED_SCHEDULE_DEFAULTS;
  if (typeof input !== 'object' || input === null) throw new InvalidOptionError(`predicted schedule must be an object, got ${String(input)}`);
  const { maxLateness, ...numbers } = input;
  const merged: NormalizedPredictedScheduleOptions = { ...PREDICTED_SCHEDULE_DEFAULTS, maxLateness: normalizeLatenessBound(maxLateness) };
  for (const [key, value] of Object.entries(numbers) as [Exclude<keyof PredictedScheduleOptions, 'maxLateness'>, number | undefined][]) {
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

function normalizeLatenessBound(input: LatenessBound | false | undefined): Readonly<Required<LatenessBound>> | false {
  if (input === undefined) return LATENESS_BOUND_DEFAULTS;
  if (input === false) return false;
  if (typeof input !== 'object' || input === null) throw new InvalidOptionError(`maxLateness must be an object or false, got ${String(input)}`);
  const bound = { ...LATENESS_BOUND_DEFAULTS };
  for (const key of ['share', 'slackMs', 'fromQuantile'] as const) {
    const value = input[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidOptionError(`maxLateness.${key} must be a finite number`);
    bound[key] = value;
  }
  if (!(bound.share > 0)) throw new InvalidOptionError('maxLateness.share must be a number > 0');
  if (!(bound.slackMs >= 0)) throw new InvalidOptionError('maxLateness.slackMs must be a number >= 0');
  if (!(bound.fromQuantile > 0 && bound.fromQuantile <= 0.5)) throw new InvalidOptionError('maxLateness.fromQuantile must be a number above 0, at most 0.5');
  return Object.freeze(bound);
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
  const relative = options.minDelayMs + options.maxRelativeDelay * waited;
  const ceiling = Math.min(relative, options.maxDelayMs, MAX_TIMER_DELAY_MS, latenessCeiling(end, waited, options.maxLateness));
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

/**
 * Longest gap from `waited` that sees every job ending past `lo` (the `fromQuantile` of the
 * predicted length) within `share` × its length + `slackMs`. The job most late after a gap is
 * the one ending just after its start, or at `lo` when the gap starts before it: so the next
 * look may come at `(1 + share) × max(waited, lo) + slackMs`.
 */
function latenessCeiling(end: EndDistribution, waited: number, bound: Readonly<Required<LatenessBound>> | false): number {
  if (bound === false) return Infinity;
  return (1 + bound.share) * Math.max(waited, end.lengthQuantile(bound.fromQuantile)) + bound.slackMs - waited;
}
