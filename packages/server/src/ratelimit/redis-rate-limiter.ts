/** Token buckets in Redis, shared by every instance of a cluster; one atomic Lua call per request. */
import type { Redis } from 'ioredis';
import type { RateLimitPolicy } from '../auth/key-store.js';
import type { RateLimiter } from './rate-limiter.js';
import type { RateDecision } from './token-bucket.js';

// Same arithmetic as token-bucket.ts. Redis TIME is the clock, so instances with skewed clocks agree.
const TAKE = `
local rate = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return { allowed, tostring(tokens) }
`;

/** {@link RateLimiter} on Redis. */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.redis.defineCommand('jobwaitTakeToken', { numberOfKeys: 1, lua: TAKE });
  }

  async take(bucket: string, policy: RateLimitPolicy): Promise<RateDecision> {
    const [allowed, raw] = (await (this.redis as unknown as { jobwaitTakeToken(key: string, rate: number, burst: number): Promise<[number, string]> }).jobwaitTakeToken(
      `${this.prefix}ratelimit:${bucket}`,
      policy.perSecond,
      policy.burst,
    )) as [number, string];
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

  async close(): Promise<void> {}
}
