import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../errors/errors.js';
import { MAX_TIMER_DELAY_MS } from '../retry/retry-policy.js';
import { SCHEDULE_DEFAULTS, SEED_SCHEDULE, nextPollDelay, normalizeScheduleOptions, type NormalizedScheduleOptions, type ScheduleOptions } from './schedule.js';

interface Detection {
  /** When the look that saw the job done happened, ms from the start. */
  seenAtMs: number;
  /** How long after the job finished that was. */
  latenessMs: number;
  /** Looks taken, the first one at 0 included. */
  polls: number;
  /** Time of every look. */
  times: number[];
}

/**
 * Replays poll()'s "still pending" loop without sleeping: look at 0, then after each pending look
 * wait nextPollDelay(looks - 1, elapsed). A job of `durationMs` reads as done from `durationMs` on.
 */
function detect(durationMs: number, schedule: NormalizedScheduleOptions): Detection {
  const times: number[] = [];
  let now = 0;
  for (;;) {
    times.push(now);
    if (now >= durationMs) return { seenAtMs: now, latenessMs: now - durationMs, polls: times.length, times };
    const delay = nextPollDelay(times.length - 1, now, schedule);
    assert.ok(Number.isFinite(delay) && delay >= 0, `delay after look ${times.length} at ${now} ms is ${delay}`);
    assert.ok(times.length < 10_000, 'the schedule never reached the end of the job');
    now += delay;
  }
}

function isInvalidOption(error: unknown): boolean {
  assert.ok(error instanceof InvalidOptionError, `expected InvalidOptionError, got ${String(error)}`);
  assert.equal(error.code, 'JOBWAIT_ERR_INVALID_OPTION');
  return true;
}

describe('nextPollDelay', () => {
  test('waits initialDelayMs before the second look', () => {
    assert.equal(nextPollDelay(0, 0, SCHEDULE_DEFAULTS), 500);
  });

  test('grows by factor until the elapsed-relative bound takes over', () => {
    const unbounded = { ...SCHEDULE_DEFAULTS, maxRelativeDelay: Infinity };
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((attempt) => nextPollDelay(attempt, 1_000_000, unbounded)),
      [500, 1000, 2000, 4000, 8000],
    );
    // After 10 s of waiting the bound is 500 + 0.193 * 10000 = 2430 ms.
    assert.equal(nextPollDelay(10, 10_000, SCHEDULE_DEFAULTS), 2430);
    assert.equal(nextPollDelay(2, 10_000, SCHEDULE_DEFAULTS), 2000);
  });

  test('never exceeds minDelayMs + maxRelativeDelay * elapsed', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      for (const elapsed of [0, 1, 999, 5000, 61_000, 300_000, 3_600_000]) {
        const delay = nextPollDelay(attempt, elapsed, SCHEDULE_DEFAULTS);
        assert.ok(delay <= 500 + 0.193 * elapsed, `attempt ${attempt}, elapsed ${elapsed}: ${delay}`);
      }
    }
  });

  test('caps every delay at maxDelayMs', () => {
    assert.equal(nextPollDelay(30, 10 * 3_600_000, SCHEDULE_DEFAULTS), 60_000);
    assert.equal(nextPollDelay(30, 10 * 3_600_000, { ...SCHEDULE_DEFAULTS, maxDelayMs: 1234 }), 1234);
  });

  test('never exceeds 2^31-1 ms, even with no cap and a huge attempt count', () => {
    assert.equal(nextPollDelay(5000, 1e15, { ...SEED_SCHEDULE }), MAX_TIMER_DELAY_MS);
    assert.equal(nextPollDelay(100, 1e15, { ...SCHEDULE_DEFAULTS, maxDelayMs: Infinity }), MAX_TIMER_DELAY_MS);
  });

  test('returns whole milliseconds and treats a negative elapsed as 0', () => {
    assert.equal(nextPollDelay(5, 1234, SCHEDULE_DEFAULTS), Math.floor(500 + 0.193 * 1234));
    assert.equal(nextPollDelay(5, -50_000, SCHEDULE_DEFAULTS), 500);
  });

  test('follows the seed schedule: 4 s, then doubling, from the very first look', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((attempt) => nextPollDelay(attempt, 0, SEED_SCHEDULE)),
      [4000, 8000, 16_000, 32_000, 64_000],
    );
  });
});

describe('the default schedule, simulated without sleeping', () => {
  test('sees a job of T seconds at most 0.2*T + 0.5 s late, for every T from 1 to 300 s', () => {
    for (let seconds = 1; seconds <= 300; seconds++) {
      const { latenessMs } = detect(seconds * 1000, SCHEDULE_DEFAULTS);
      assert.ok(latenessMs >= 0, `T=${seconds} s: ${latenessMs} ms`);
      assert.ok(latenessMs <= 0.2 * seconds * 1000 + 500, `T=${seconds} s: ${latenessMs} ms late`);
    }
  });

  test('also holds between whole seconds (T = 0.1 s .. 30 s in 10 ms steps)', () => {
    for (let durationMs = 100; durationMs <= 30_000; durationMs += 10) {
      const { latenessMs } = detect(durationMs, SCHEDULE_DEFAULTS);
      assert.ok(latenessMs <= 0.2 * durationMs + 500, `T=${durationMs} ms: ${latenessMs} ms late`);
    }
  });

  test('uses fewer polls than fixed 1 s polling (ceil(T) + 1) for every job of 10 s or more', () => {
    // 0.193 (not 0.19) puts the 10th look at 10.09 s, after a 10 s job ends, instead of 9.96 s just before it.
    for (let seconds = 10; seconds <= 300; seconds += 0.25) {
      const { polls } = detect(seconds * 1000, SCHEDULE_DEFAULTS);
      assert.ok(polls < Math.ceil(seconds) + 1, `T=${seconds} s: ${polls} polls`);
    }
  });

  test('needs only logarithmically many polls: under 30 for a 5-minute job', () => {
    const fiveMinutes = detect(300_000, SCHEDULE_DEFAULTS).polls;
    assert.ok(fiveMinutes < 30, `${fiveMinutes} polls`);
    // An hour is bounded by the 60 s cap: about 60 polls plus the ramp-up.
    const anHour = detect(3_600_000, SCHEDULE_DEFAULTS).polls;
    assert.ok(anHour < 100, `${anHour} polls`);
  });

  test('looks at 0, 0.5 s, then at gaps that grow', () => {
    const { times } = detect(10_000, SCHEDULE_DEFAULTS);
    assert.deepEqual(times.slice(0, 3), [0, 500, 1096]);
    for (let i = 2; i < times.length; i++) {
      assert.ok(times[i]! - times[i - 1]! >= times[i - 1]! - times[i - 2]!, `gap ${i} shrank: ${times.join(', ')}`);
    }
  });
});

describe('the seed schedule, simulated without sleeping', () => {
  test('sees a 1 s job 3 s late', () => {
    assert.deepEqual(detect(1000, SEED_SCHEDULE), { seenAtMs: 4000, latenessMs: 3000, polls: 2, times: [0, 4000] });
  });

  test('sees a 61 s job 63 s late', () => {
    const seen = detect(61_000, SEED_SCHEDULE);
    assert.equal(seen.latenessMs, 63_000);
    assert.deepEqual(seen.times, [0, 4000, 12_000, 28_000, 60_000, 124_000]);
  });

  test('sees a 300 s job 208 s late, where the default schedule is within 60.5 s', () => {
    assert.equal(detect(300_000, SEED_SCHEDULE).latenessMs, 208_000);
    const ours = detect(300_000, SCHEDULE_DEFAULTS).latenessMs;
    assert.ok(ours <= 0.2 * 300_000 + 500, `${ours} ms late`);
  });
});

describe('normalizeScheduleOptions', () => {
  test('returns the defaults for nothing and fills missing fields', () => {
    assert.deepEqual(normalizeScheduleOptions(undefined), SCHEDULE_DEFAULTS);
    assert.deepEqual(normalizeScheduleOptions({}), SCHEDULE_DEFAULTS);
    assert.deepEqual(normalizeScheduleOptions({ initialDelayMs: 10, factor: 1.5 }), { ...SCHEDULE_DEFAULTS, initialDelayMs: 10, factor: 1.5 });
  });

  test('accepts the seed schedule and Infinity as "no relative bound"', () => {
    assert.deepEqual(normalizeScheduleOptions(SEED_SCHEDULE), SEED_SCHEDULE);
    assert.equal(normalizeScheduleOptions({ maxRelativeDelay: Infinity }).maxRelativeDelay, Infinity);
  });

  test('leaves the defaults untouched', () => {
    normalizeScheduleOptions({ initialDelayMs: 1, maxDelayMs: 2 });
    assert.equal(SCHEDULE_DEFAULTS.initialDelayMs, 500);
    assert.equal(Object.isFrozen(SCHEDULE_DEFAULTS), true);
  });

  const bad: [string, unknown][] = [
    ['a negative initialDelayMs', { initialDelayMs: -1 }],
    ['NaN as initialDelayMs', { initialDelayMs: Number.NaN }],
    ['a string initialDelayMs', { initialDelayMs: '500' }],
    ['a negative minDelayMs', { minDelayMs: -0.5 }],
    ['a negative maxDelayMs', { maxDelayMs: -100 }],
    ['a factor below 1', { factor: 0.5 }],
    ['an infinite factor', { factor: Infinity }],
    ['NaN as factor', { factor: Number.NaN }],
    ['a zero maxRelativeDelay', { maxRelativeDelay: 0 }],
    ['a negative maxRelativeDelay', { maxRelativeDelay: -0.1 }],
    ['NaN as maxRelativeDelay', { maxRelativeDelay: Number.NaN }],
    ['null', null],
    ['a number', 500],
  ];
  for (const [what, value] of bad) {
    test(`rejects ${what} with InvalidOptionError`, () => {
      assert.throws(() => normalizeScheduleOptions(value as ScheduleOptions), isInvalidOption);
    });
  }
});
