import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETRY_SCHEDULE_MS, MAX_RETRY_AFTER_MS, nextAttemptDelay, normalizeRetrySchedule, parseRetryAfter, retryDelay } from './retry-schedule.js';

describe('retry schedule', () => {
  it('waits a random time up to the step of each retry (full jitter)', () => {
    const schedule = [1000, 5000];
    assert.equal(retryDelay(schedule, 1, () => 0), 0);
    assert.equal(retryDelay(schedule, 1, () => 0.5), 500);
    assert.equal(retryDelay(schedule, 2, () => 0.999999), 5000);
    for (let i = 0; i < 1000; i++) {
      const delay = retryDelay(schedule, 2)!;
      assert.ok(delay >= 0 && delay <= 5000);
    }
  });

  it('gives up when the schedule is used up', () => {
    assert.equal(retryDelay([10, 20], 3), undefined);
    assert.equal(retryDelay([10, 20], 0), undefined);
    assert.equal(nextAttemptDelay({ schedule: [10], failedAttempts: 2, retryAfterMs: 5 }), undefined);
  });

  it('by default retries 10 times over at most about a day', () => {
    const total = DEFAULT_RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    assert.equal(DEFAULT_RETRY_SCHEDULE_MS.length, 10);
    assert.ok(total > 20 * 3600_000 && total <= 24 * 3600_000, String(total));
  });

  it('parses Retry-After as seconds or an HTTP date, and ignores garbage', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Mon, 01 Jan 2024 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('Sun, 31 Dec 2023 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('-1', now), undefined);
    assert.equal(parseRetryAfter('1.5', now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it('honours Retry-After instead of the step, clamped to the maximum', () => {
    assert.equal(nextAttemptDelay({ schedule: [10, 10], failedAttempts: 1, retryAfterMs: 2000, random: () => 1 }), 2000);
    assert.equal(nextAttemptDelay({ schedule: [10, 10], failedAttempts: 1, retryAfterMs: 0, random: () => 1 }), 0);
    assert.equal(nextAttemptDelay({ schedule: [10], failedAttempts: 1, retryAfterMs: 10 * MAX_RETRY_AFTER_MS }), MAX_RETRY_AFTER_MS);
    assert.equal(nextAttemptDelay({ schedule: [10], failedAttempts: 1, retryAfterMs: 5000, maxRetryAfterMs: 1000 }), 1000);
  });

  it('refuses schedules that are empty or hold bad delays', () => {
    assert.deepEqual(normalizeRetrySchedule([1, 2]), [1, 2]);
    for (const bad of [[], [-1], [Number.NaN], [2 ** 31], ['5' as unknown as number]]) assert.throws(() => normalizeRetrySchedule(bad), TypeError);
  });
});
