/** The token bucket on a fake clock: bursts, refill, waits and headers, with no sleeps. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalRateLimiter } from './local-rate-limiter.js';
import { rateLimitHeaders, takeToken } from './token-bucket.js';

const policy = { perSecond: 2, burst: 3 };

describe('token bucket', () => {
  it('allows a burst, then one request per refill interval, and says how long to wait', async () => {
    let now = 1_000_000;
    const limiter = new LocalRateLimiter(() => now);
    try {
      for (let i = 3; i > 0; i--) {
        const decision = await limiter.take('key:a', policy);
        assert.deepEqual([decision.allowed, decision.remaining], [true, i - 1]);
      }
      const refused = await limiter.take('key:a', policy);
      assert.deepEqual([refused.allowed, refused.retryAfterMs], [false, 500], 'one token every 500 ms');
      now += 250;
      const stillRefused = await limiter.take('key:a', policy);
      assert.deepEqual([stillRefused.allowed, stillRefused.retryAfterMs], [false, 250], 'a refused request costs nothing');
      now += 250;
      assert.equal((await limiter.take('key:a', policy)).allowed, true);
      assert.equal((await limiter.take('key:a', policy)).allowed, false);
      assert.equal((await limiter.take('key:b', policy)).allowed, true, 'another bucket is untouched');
      now += 60_000;
      const full = await limiter.take('key:a', policy);
      assert.deepEqual([full.allowed, full.remaining], [true, 2], 'refills up to the burst, not beyond');
    } finally {
      limiter.close();
    }
  });

  it('ignores a clock that steps back, and reports full-again times', () => {
    const first = takeToken(undefined, policy, 10_000);
    const back = takeToken(first.state, policy, 9_000);
    assert.equal(back.decision.remaining, 1, 'no tokens made from a clock that went back');
    assert.equal(back.decision.fullInMs, 1000, 'two tokens short at 2/s');
  });

  it('writes RateLimit-Policy and RateLimit: the wait for a token when none is left, else until full', () => {
    let state = takeToken(undefined, policy, 0);
    assert.deepEqual(rateLimitHeaders(state.decision), { 'ratelimit-policy': '"default";q=3;w=2', ratelimit: '"default";r=2;t=1' });
    state = takeToken(state.state, policy, 0);
    state = takeToken(state.state, policy, 0);
    assert.deepEqual(rateLimitHeaders(state.decision), { 'ratelimit-policy': '"default";q=3;w=2', ratelimit: '"default";r=0;t=1' });
  });
});
