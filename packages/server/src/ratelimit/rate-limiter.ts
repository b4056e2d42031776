/** Rate limiting behind one interface: in-process for one instance, Redis-shared for a cluster (in its engine). */
import type { RateDecision } from './token-bucket.js';

/** Per-key rate limit: a token bucket. */
export interface RateLimitPolicy {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: the most requests in a burst. */
  burst: number;
}

/** Takes tokens from named buckets. */
export interface RateLimiter {
  /** Takes one token from `bucket` under `policy`. */
  take(bucket: string, policy: RateLimitPolicy): Promise<RateDecision>;
}
