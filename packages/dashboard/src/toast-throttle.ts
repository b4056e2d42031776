/**
 * How many "job finished" notices a person can take in: a few one by one, the rest summed up.
 * Hundreds of jobs finish each second on a busy server; a toast each would bury the page.
 */
import type { JobStatus } from '@jobwait/client';

/** A final status. */
export type FinalStatus = Exclude<JobStatus, 'pending'>;

/** Options of {@link ToastThrottle}. */
export interface ToastThrottleOptions {
  /**
   * Notices shown one by one within any `periodMs`.
   * @default 3
   */
  burst?: number;
  /**
   * The sliding period of `burst`, in milliseconds; also how long held notices wait for their summary.
   * @default 5000
   */
  periodMs?: number;
}

/** Defaults of {@link ToastThrottleOptions}. */
export const TOAST_THROTTLE_DEFAULTS: Readonly<Required<ToastThrottleOptions>> = Object.freeze({ burst: 3, periodMs: 5000 });

/** Held notices, summed up by status. */
export interface HeldSummary {
  total: number;
  byStatus: Record<FinalStatus, number>;
}

/** Lets `burst` notices through per period and counts the others for one summary. */
export class ToastThrottle {
  /** The sliding period, in milliseconds. */
  readonly periodMs: number;
  private readonly burst: number;
  /** Times of the notices shown within the last period, oldest first. */
  private readonly shown: number[] = [];
  private held: HeldSummary = emptySummary();

  constructor(options: ToastThrottleOptions = {}) {
    this.burst = options.burst ?? TOAST_THROTTLE_DEFAULTS.burst;
    this.periodMs = options.periodMs ?? TOAST_THROTTLE_DEFAULTS.periodMs;
    if (!Number.isInteger(this.burst) || this.burst < 1) throw new RangeError(`burst must be a positive integer, got ${this.burst}`);
    if (!(this.periodMs > 0)) throw new RangeError(`periodMs must be > 0, got ${this.periodMs}`);
  }

  /** True when a notice about a job that ended as `status` may be shown at `now`; otherwise it is held for the summary. */
  admit(status: FinalStatus, now: number): boolean {
    while (this.shown.length > 0 && this.shown[0]! <= now - this.periodMs) this.shown.shift();
    // While a summary is due, everything joins it: notices must not overtake the ones held before them.
    if (this.held.total === 0 && this.shown.length < this.burst) {
      this.shown.push(now);
      return true;
    }
    this.held.total++;
    this.held.byStatus[status]++;
    return false;
  }

  /** True while notices wait for their summary. */
  get holding(): boolean {
    return this.held.total > 0;
  }

  /** The notices held so far, and a fresh start; undefined when none were held. */
  takeSummary(now: number): HeldSummary | undefined {
    if (this.held.total === 0) return undefined;
    const summary = this.held;
    this.held = emptySummary();
    // The summary is itself a notice.
    this.shown.push(now);
    return summary;
  }
}

/** The words of a summary: "42 more jobs finished: 30 completed, 10 failed, 2 canceled." */
export function describeSummary(summary: HeldSummary): string {
  const parts: string[] = [];
  if (summary.byStatus.completed > 0) parts.push(`${summary.byStatus.completed} completed`);
  if (summary.byStatus.error > 0) parts.push(`${summary.byStatus.error} failed`);
  if (summary.byStatus.canceled > 0) parts.push(`${summary.byStatus.canceled} canceled`);
  const jobs = summary.total === 1 ? '1 more job' : `${summary.total} more jobs`;
  return `${jobs} finished: ${parts.join(', ')}.`;
}

function emptySummary(): HeldSummary {
  return { total: 0, byStatus: { completed: 0, error: 0, canceled: 0 } };
}
