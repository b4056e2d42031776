/** Token buckets in Redis, shared by every instance of a cluster; one atomic Lua call (lua/take-token-1.lua) per request. */
import type { RateLimiter, RateLimitPolicy } from '../../ratelimit/rate-limiter.js';
import type { RateDecision } from '../../ratelimit/token-bucket.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisScripts } from './redis-scripts.js';

/** {@link RateLimiter} on Redis. */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly keys: RedisKeys,
    private readonly scripts: RedisScripts,
  ) {}

  async take(bucket: string, policy: RateLimitPolicy): Promise<RateDecision> {
    const [allowed, raw] = await this.scripts.run<[number, string]>('take-token', [this.keys.rateLimit(bucket)], [policy.perSecond, policy.burst]);
    const tokens = Number(raw);
    const ratePerMs = policy.perSecond / 1000;
    const missing = Math.max(0, 1 - tokens);
    return {
      allowed: allowed === 1,
      remaining: Math.floor(tokens),
      retryAfterMs: allowed === 1 || missing === 0 ? 0 : Math.ceil(missing / ratePerMs),
      fullInMs: Math.ceil((policy.burst - tokens) / ratePerMs),
      policy,
    };
  }
}
