/**
 * One deadline shared by every loop of a wait: the "still pending" loop and the
 * transport retry loop both ask it how much time is left.
 */
import { InvalidOptionError } from '../errors/errors.js';

/** A point in time after which a wait takes one final look and then gives up. */
export class Deadline {
  /** Absolute time (ms since epoch) of the deadline; Infinity for none. */
  readonly at: number;
  /** The timeout the deadline was made from. */
  readonly timeoutMs: number;
  /** When the wait began. */
  readonly startedAt: number;

  constructor(timeoutMs: number | undefined, now: number = Date.now()) {
    const ms = timeoutMs ?? Infinity;
    if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
      throw new InvalidOptionError(`timeoutMs must be a number of milliseconds >= 0 (or Infinity), got ${String(timeoutMs)}`);
    }
    this.timeoutMs = ms;
    this.startedAt = now;
    this.at = now + ms;
  }

  /** Milliseconds left, never negative. */
  remaining(now: number = Date.now()): number {
    return Math.max(0, this.at - now);
  }

  /** Milliseconds since the wait began. */
  elapsed(now: number = Date.now()): number {
    return now - this.startedAt;
  }

  /** True once the deadline has passed. */
  expired(now: number = Date.now()): boolean {
    return now >= this.at;
  }
}
