import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadResponseError, HttpError, InvalidOptionError, NetworkError, RequestTimeoutError, TimeoutError } from '../errors/errors.js';
import {
  MAX_TIMER_DELAY_MS,
  RETRY_DEFAULTS,
  backoffDelay,
  decideRetry,
  isRetryableFailure,
  normalizeRetryOptions,
  parseRetryAfter,
  type AttemptFailure,
  type RetryOptions,
} from './retry-policy.js';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);
const options = normalizeRetryOptions(undefined);
const half = (): number => 0.5;

function isInvalidOption(error: unknown): boolean {
  assert.ok(error instanceof InvalidOptionError, `expected InvalidOptionError, got ${String(error)}`);
  assert.equal(error.code, 'JOBWAIT_ERR_INVALID_OPTION');
  assert.equal(error.name, 'InvalidOptionError');
  return true;
}

function httpFailure(status: number, retryAfter?: string): AttemptFailure {
  const error = new HttpError(status, undefined, 'GET', 'http://x/y', retryAfter);
  return retryAfter === undefined ? { error, status } : { error, status, retryAfter };
}

describe('normalizeRetryOptions', () => {
  test('fills every default when given nothing', () => {
    assert.deepEqual(normalizeRetryOptions(undefined), {
      limit: 10,
      baseDelayMs: 200,
      maxDelayMs: 10_000,
      maxRetryAfterMs: 60_000,
      statusCodes: [408, 425, 429, 500, 502, 503, 504],
    });
    assert.deepEqual(normalizeRetryOptions({}), RETRY_DEFAULTS);
  });

  test('takes a number as shorthand for the retry limit', () => {
    assert.deepEqual(normalizeRetryOptions(3), { ...RETRY_DEFAULTS, limit: 3 });
    assert.equal(normalizeRetryOptions(0).limit, 0);
    assert.equal(normalizeRetryOptions(Infinity).limit, Infinity);
  });

  test('takes false as "no retries"', () => {
    assert.deepEqual(normalizeRetryOptions(false), { ...RETRY_DEFAULTS, limit: 0 });
  });

  test('keeps given fields and fills the rest, ignoring fields set to undefined', () => {
    const input: RetryOptions = { baseDelayMs: 1, maxDelayMs: 5, statusCodes: [503] };
    assert.deepEqual(normalizeRetryOptions(input), { ...RETRY_DEFAULTS, baseDelayMs: 1, maxDelayMs: 5, statusCodes: [503] });
    const withUndefined = { limit: undefined, baseDelayMs: 7 } as unknown as RetryOptions;
    assert.deepEqual(normalizeRetryOptions(withUndefined), { ...RETRY_DEFAULTS, baseDelayMs: 7 });
  });

  test('does not mutate the defaults', () => {
    normalizeRetryOptions({ limit: 1, baseDelayMs: 1 });
    normalizeRetryOptions(false);
    assert.equal(RETRY_DEFAULTS.limit, 10);
    assert.equal(RETRY_DEFAULTS.baseDelayMs, 200);
    assert.equal(Object.isFrozen(RETRY_DEFAULTS), true);
  });

  const badInputs: [string, unknown][] = [
    ['a negative limit', -1],
    ['a fractional limit', 1.5],
    ['NaN as limit', Number.NaN],
    ['a string limit', { limit: '3' }],
    ['a negative baseDelayMs', { baseDelayMs: -1 }],
    ['an infinite baseDelayMs', { baseDelayMs: Infinity }],
    ['NaN as maxDelayMs', { maxDelayMs: Number.NaN }],
    ['a string maxDelayMs', { maxDelayMs: '5' }],
    ['a negative maxRetryAfterMs', { maxRetryAfterMs: -5 }],
    ['statusCodes that are not an array', { statusCodes: 503 }],
    ['a status code out of range', { statusCodes: [503, 99] }],
    ['a status code above 599', { statusCodes: [600] }],
    ['a fractional status code', { statusCodes: [503.5] }],
    ['null', null],
    ['a string', 'three'],
    ['true', true],
  ];
  for (const [what, value] of badInputs) {
    test(`rejects ${what} with InvalidOptionError`, () => {
      assert.throws(() => normalizeRetryOptions(value as RetryOptions), isInvalidOption);
    });
  }
});

describe('decideRetry', () => {
  for (const status of [408, 425, 429, 500, 502, 503, 504]) {
    test(`retries HTTP ${status}`, () => {
      assert.deepEqual(decideRetry(httpFailure(status), 0, options, NOW, half), { retry: true, delayMs: 100 });
    });
  }

  for (const status of [400, 401, 403, 404, 409, 422, 501]) {
    test(`does not retry HTTP ${status}`, () => {
      assert.deepEqual(decideRetry(httpFailure(status), 0, options, NOW, half), { retry: false });
    });
  }

  test('retries network errors, per-request timeouts and unreadable answers', () => {
    const failures = [
      new NetworkError('GET', 'http://x', new Error('ECONNRESET')),
      new RequestTimeoutError('GET', 'http://x', 100),
      new BadResponseError('GET', 'http://x', 'body is not JSON'),
    ];
    for (const error of failures) {
      assert.deepEqual(decideRetry({ error }, 0, options, NOW, half), { retry: true, delayMs: 100 }, error.name);
    }
  });

  test('does not retry errors it does not know, nor a wait timeout', () => {
    assert.deepEqual(decideRetry({ error: new Error('boom') }, 0, options, NOW, half), { retry: false });
    assert.deepEqual(decideRetry({ error: new TypeError('fetch failed') }, 0, options, NOW, half), { retry: false });
    assert.deepEqual(decideRetry({ error: new TimeoutError(10, undefined) }, 0, options, NOW, half), { retry: false });
    assert.deepEqual(decideRetry({ error: 'a string' }, 0, options, NOW, half), { retry: false });
  });

  test('uses the configured status list instead of the default one', () => {
    const custom = normalizeRetryOptions({ statusCodes: [418] });
    assert.equal(decideRetry(httpFailure(418), 0, custom, NOW, half).retry, true);
    assert.equal(decideRetry(httpFailure(503), 0, custom, NOW, half).retry, false);
  });

  test('respects the limit: retry number `limit` is refused', () => {
    const three = normalizeRetryOptions(3);
    const failure = httpFailure(503);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((n) => decideRetry(failure, n, three, NOW, half).retry),
      [true, true, true, false, false],
    );
  });

  test('a refused hold is retried after its Retry-After however many retries came before, even with retries off', () => {
    const off = normalizeRetryOptions(false);
    for (const [status, serverCode] of [[429, 'JOBWAIT_ERR_TOO_MANY_HELD'], [503, 'JOBWAIT_ERR_SERVER_AT_CAPACITY']] as const) {
      const failure = { ...httpFailure(status), serverCode, retryAfter: '5' };
      assert.deepEqual(decideRetry(failure, 50, off, NOW, half), { retry: true, delayMs: 5000 });
    }
    // The code alone is not enough: another status with it is an ordinary failure.
    assert.equal(decideRetry({ ...httpFailure(400), serverCode: 'JOBWAIT_ERR_TOO_MANY_HELD' }, 0, off, NOW, half).retry, false);
    assert.equal(decideRetry({ ...httpFailure(429), serverCode: 'JOBWAIT_ERR_RATE_LIMITED' }, 0, off, NOW, half).retry, false);
  });

  test('never retries when retries are off, even with Retry-After: 0', () => {
    const off = normalizeRetryOptions(false);
    assert.deepEqual(decideRetry(httpFailure(503, '0'), 0, off, NOW, half), { retry: false });
    assert.deepEqual(decideRetry({ error: new NetworkError('GET', 'http://x', 'x') }, 0, off, NOW, half), { retry: false });
  });

  test('honours Retry-After in seconds instead of the backoff', () => {
    assert.deepEqual(decideRetry(httpFailure(503, '3'), 0, options, NOW, half), { retry: true, delayMs: 3000 });
    assert.deepEqual(decideRetry(httpFailure(429, '1.5'), 5, options, NOW, half), { retry: true, delayMs: 1500 });
  });

  test('honours Retry-After: 0 and retries at once', () => {
    assert.deepEqual(decideRetry(httpFailure(503, '0'), 0, options, NOW, () => 0.99), { retry: true, delayMs: 0 });
  });

  test('honours Retry-After as an HTTP date', () => {
    const inFiveSeconds = new Date(NOW + 5000).toUTCString();
    assert.deepEqual(decideRetry(httpFailure(503, inFiveSeconds), 0, options, NOW, half), { retry: true, delayMs: 5000 });
  });

  test('clamps Retry-After seconds and dates to maxRetryAfterMs', () => {
    assert.deepEqual(decideRetry(httpFailure(503, '3600'), 0, options, NOW, half), { retry: true, delayMs: 60_000 });
    const inAnHour = new Date(NOW + 3_600_000).toUTCString();
    assert.deepEqual(decideRetry(httpFailure(429, inAnHour), 0, options, NOW, half), { retry: true, delayMs: 60_000 });
    const tight = normalizeRetryOptions({ maxRetryAfterMs: 250 });
    assert.deepEqual(decideRetry(httpFailure(503, '2'), 0, tight, NOW, half), { retry: true, delayMs: 250 });
  });

  test('falls back to the backoff when Retry-After is unreadable', () => {
    assert.deepEqual(decideRetry(httpFailure(503, 'soon'), 1, options, NOW, half), { retry: true, delayMs: 200 });
    assert.deepEqual(decideRetry({ ...httpFailure(503), retryAfter: null }, 1, options, NOW, half), { retry: true, delayMs: 200 });
  });

  test('does not let Retry-After make a non-retryable status retryable', () => {
    assert.deepEqual(decideRetry(httpFailure(400, '0'), 0, options, NOW, half), { retry: false });
    assert.deepEqual(decideRetry(httpFailure(404, '1'), 0, options, NOW, half), { retry: false });
  });
});

describe('isRetryableFailure', () => {
  test('judges by status when the server answered, whatever the error', () => {
    const error = new NetworkError('GET', 'http://x', 'x');
    assert.equal(isRetryableFailure({ error, status: 400 }, options), false);
    assert.equal(isRetryableFailure({ error: new Error('plain'), status: 503 }, options), true);
  });
});

describe('backoffDelay (full jitter)', () => {
  const small = { baseDelayMs: 100, maxDelayMs: 1000 };

  test('is uniform in [0, base * 2^retry]: exact values with an injected random', () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((n) => backoffDelay(n, small, half)),
      [50, 100, 200, 400],
    );
    assert.equal(backoffDelay(0, small, () => 0), 0);
    assert.equal(backoffDelay(2, small, () => 0.25), 100);
    assert.equal(backoffDelay(0, small, () => 0.999), 99);
  });

  test('rounds down to whole milliseconds', () => {
    assert.equal(backoffDelay(0, { baseDelayMs: 3, maxDelayMs: 100 }, half), 1);
    assert.ok(Number.isInteger(backoffDelay(1, { baseDelayMs: 7, maxDelayMs: 100 }, () => 0.123)));
  });

  test('caps the bound at maxDelayMs', () => {
    assert.equal(backoffDelay(4, small, half), 500);
    assert.equal(backoffDelay(10, small, half), 500);
    assert.equal(backoffDelay(10, small, () => 0.999_999), 999);
    assert.equal(backoffDelay(1000, small, () => 0.999_999), 999);
  });

  test('uses the defaults: 200 ms base, doubling, capped at 10 s', () => {
    assert.equal(backoffDelay(0, RETRY_DEFAULTS, half), 100);
    assert.equal(backoffDelay(5, RETRY_DEFAULTS, half), 3200);
    assert.equal(backoffDelay(6, RETRY_DEFAULTS, half), 5000);
  });

  test('never exceeds 2^31-1 ms, the most setTimeout takes', () => {
    const huge = { baseDelayMs: 1e12, maxDelayMs: 1e15 };
    assert.equal(MAX_TIMER_DELAY_MS, 2 ** 31 - 1);
    assert.equal(backoffDelay(0, huge, () => 0.999), MAX_TIMER_DELAY_MS);
    assert.equal(backoffDelay(1_000_000, { baseDelayMs: 1, maxDelayMs: Number.MAX_VALUE }, () => 0.999), MAX_TIMER_DELAY_MS);
    for (let n = 0; n < 200; n += 7) {
      const delay = backoffDelay(n, { baseDelayMs: 1000, maxDelayMs: 1e300 }, () => 0.9999);
      assert.ok(Number.isFinite(delay) && delay >= 0 && delay <= MAX_TIMER_DELAY_MS, `retry ${n}: ${delay}`);
    }
  });

  test('stays within bounds with the real Math.random', () => {
    for (let i = 0; i < 500; i++) {
      const n = i % 8;
      const delay = backoffDelay(n, small);
      assert.ok(delay >= 0 && delay <= Math.min(1000, 100 * 2 ** n), `retry ${n}: ${delay}`);
    }
  });
});

describe('parseRetryAfter', () => {
  test('reads delta-seconds, including 0, fractions and surrounding spaces', () => {
    assert.equal(parseRetryAfter('0', NOW), 0);
    assert.equal(parseRetryAfter('120', NOW), 120_000);
    assert.equal(parseRetryAfter('2.5', NOW), 2500);
    assert.equal(parseRetryAfter('  7 ', NOW), 7000);
  });

  test('reads an IMF-fixdate relative to now', () => {
    assert.equal(parseRetryAfter(new Date(NOW + 30_000).toUTCString(), NOW), 30_000);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 12:00:10 GMT', NOW), 10_000);
  });

  test('reads the obsolete RFC 850 date form', () => {
    assert.equal(parseRetryAfter('Wednesday, 01-Jan-25 12:00:20 GMT', NOW), 20_000);
  });

  test('turns a date in the past into 0', () => {
    assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW), 0);
    assert.equal(parseRetryAfter(new Date(NOW - 1000).toUTCString(), NOW), 0);
  });

  test('returns undefined for garbage', () => {
    for (const value of ['', '   ', 'soon', 'abc', '-1', '+5', '1e3', '5s', '12abc', 'NaN', 'Infinity', '0x10', '1,5', '.5', '1.', 'in 5 minutes']) {
      assert.equal(parseRetryAfter(value, NOW), undefined, JSON.stringify(value));
    }
  });

  test('caps huge values at 2^31-1 ms', () => {
    assert.equal(parseRetryAfter('99999999999', NOW), MAX_TIMER_DELAY_MS);
    assert.equal(parseRetryAfter('Fri, 01 Jan 2100 00:00:00 GMT', NOW), MAX_TIMER_DELAY_MS);
  });
});
