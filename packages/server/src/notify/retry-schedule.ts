/**
 * When to try a delivery again, as small pure functions (after ky's
 * `retry-timing.ts`): exponential steps with full jitter, `Retry-After`
 * parsing and clamping. Tested without sleeping.
 */

/** The most `setTimeout` takes; every delay is capped to it. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Upper bounds of the waits between attempts, in milliseconds: the first attempt is immediate,
 * the n-th retry waits a random time up to the n-th step (full jitter). 10 retries, up to ~23.7 h in all.
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = Object.freeze([
  5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000,
]);

/** Longest `Retry-After` honoured; a receiver cannot park a delivery for longer. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Delay before the retry that follows `failedAttempts` failed attempts, or `undefined` when the
 * schedule is used up. Full jitter: uniform in [0, step] (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"), so receivers that fail together are not retried together.
 * @example retryDelay([5000, 30000], 1, () => 0.5) // 2500
 */
export function retryDelay(schedule: readonly number[], failedAttempts: number, random: () => number = Math.random): number | undefined {
  const step = schedule[failedAttempts - 1];
  if (failedAttempts < 1 || step === undefined) return undefined;
  return Math.min(MAX_TIMER_DELAY_MS, Math.round(step * Math.min(1, Math.max(0, random()))));
}

/**
 * Milliseconds a `Retry-After` value asks to wait: delay-seconds or an HTTP-date (RFC 9110 §10.2.3);
 * `undefined` when absent or malformed. Dates in the past give 0.
 * @example parseRetryAfter('120', Date.now()) // 120000
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** How long to wait before the next attempt; `undefined` when no attempt is left. */
export function nextAttemptDelay(options: {
  schedule: readonly number[];
  failedAttempts: number;
  /** From the receiver's `Retry-After`, if it sent one: used instead of the scheduled step, clamped. */
  retryAfterMs?: number | undefined;
  maxRetryAfterMs?: number;
  random?: () => number;
}): number | undefined {
  const scheduled = retryDelay(options.schedule, options.failedAttempts, options.random);
  if (scheduled === undefined) return undefined;
  if (options.retryAfterMs === undefined) return scheduled;
  return Math.min(options.maxRetryAfterMs ?? MAX_RETRY_AFTER_MS, MAX_TIMER_DELAY_MS, Math.max(0, options.retryAfterMs));
}

/** Checks a retry schedule: a non-empty list of finite delays >= 0 (ms); returns a frozen copy or throws `TypeError`. */
export function normalizeRetrySchedule(schedule: readonly number[]): readonly number[] {
  if (!Array.isArray(schedule) || schedule.length === 0 || schedule.length > 100) throw new TypeError('must be a list of 1 to 100 delays in milliseconds');
  for (const step of schedule) {
    if (typeof step !== 'number' || !Number.isFinite(step) || step < 0 || step > MAX_TIMER_DELAY_MS) {
      throw new TypeError(`every delay must be a number of milliseconds from 0 to ${MAX_TIMER_DELAY_MS}, got ${String(step)}`);
    }
  }
  return Object.freeze([...schedule]);
}
