/**
 * Token-bucket arithmetic as pure functions: the same rules run in memory and
 * (as Lua) in Redis, and are tested without clocks.
 */
import type { RateLimitPolicy } from './rate-limiter.js';

/** A bucket's stored state. */
export interface BucketState {
  tokens: number;
  /** When `tokens` was computed (ms since epoch). */
  at: number;
}

/** The answer to one request. */
export interface RateDecision {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Milliseconds until one token is available (0 when some are). */
  retryAfterMs: number;
  /** Milliseconds until the bucket is full again. */
  fullInMs: number;
  /** The policy applied. */
  policy: RateLimitPolicy;
}

/** Refills `state` up to `now` and takes `cost` tokens if there are enough. */
export function takeToken(state: BucketState | undefined, policy: RateLimitPolicy, now: number, cost = 1): { state: BucketState; decision: RateDecision } {
  const ratePerMs = policy.perSecond / 1000;
  const elapsed = state ? Math.max(0, now - state.at) : 0;
  const available = Math.min(policy.burst, (state ? state.tokens : policy.burst) + elapsed * ratePerMs);
  const allowed = available >= cost;
  const tokens = allowed ? available - cost : available;
  const missing = Math.max(0, cost - tokens);
  return {
    state: { tokens, at: now },
    decision: {
      allowed,
      remaining: Math.floor(tokens),
      retryAfterMs: missing > 0 ? Math.ceil(missing / ratePerMs) : 0,
      fullInMs: Math.ceil((policy.burst - tokens) / ratePerMs),
      policy,
    },
  };
}

/**
 * `RateLimit-Policy` and `RateLimit` headers (IETF draft-ietf-httpapi-ratelimit-headers):
 * q = bucket size, w = seconds to refill it; r = requests left; t = seconds until one more is
 * allowed when none is left, else until the bucket is full.
 */
export function rateLimitHeaders(decision: RateDecision): { 'ratelimit-policy': string; ratelimit: string } {
  const { policy } = decision;
  const window = Math.max(1, Math.ceil(policy.burst / policy.perSecond));
  const t = Math.ceil((decision.remaining === 0 ? Math.max(decision.retryAfterMs, 1) : decision.fullInMs) / 1000);
  return {
    'ratelimit-policy': `"default";q=${policy.burst};w=${window}`,
    ratelimit: `"default";r=${decision.remaining};t=${t}`,
  };
}
