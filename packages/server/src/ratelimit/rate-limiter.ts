/** Rate limiting behind one interface: in-process for one instance, Redis-shared for a cluster. */
import type { RateLimitPolicy } from '../auth/key-store.js';
import type { RateDecision } from './token-bucket.js';

/** Takes tokens from named buckets. */
export interface RateLimiter {
  /** Takes one token from `bucket` under `policy`. */
  take(bucket: string, policy: RateLimitPolicy): Promise<RateDecision>;
  close(): Promise<void>;
}
