/** Token buckets in one process. */
import type { RateLimiter, RateLimitPolicy } from './rate-limiter.js';
import { takeToken, type BucketState, type RateDecision } from './token-bucket.js';

/** Buckets idle and full are dropped on this interval, so memory follows active clients only. */
const SWEEP_MS = 60_000;

/** {@link RateLimiter} in a Map. */
export class LocalRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, BucketState & { policy: RateLimitPolicy }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  async take(bucket: string, policy: RateLimitPolicy): Promise<RateDecision> {
    const { state, decision } = takeToken(this.buckets.get(bucket), policy, this.now());
    this.buckets.set(bucket, { ...state, policy });
    return decision;
  }

  /** Stops the sweeper and forgets every bucket. */
  close(): void {
    clearInterval(this.sweeper);
    this.buckets.clear();
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, state] of this.buckets) {
      if (state.tokens + ((now - state.at) * state.policy.perSecond) / 1000 >= state.policy.burst) this.buckets.delete(key);
    }
  }
}
