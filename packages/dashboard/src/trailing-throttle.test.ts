import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { trailingThrottle, type ThrottleTimers } from './trailing-throttle.js';

/** A clock that moves only when told, with the timers due by then run in order. */
function fakeTimers(): ThrottleTimers & { advance(ms: number): void } {
  let now = 0;
  let nextHandle = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    now: () => now,
    setTimeout(callback, ms) {
      const handle = ++nextHandle;
      timers.set(handle, { at: now + ms, callback });
      return handle;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].callback();
      }
      now = end;
    },
  };
}

describe('trailingThrottle', () => {
  test('runs at once, then at most once per interval, and once more after the last call', () => {
    const timers = fakeTimers();
    const runs: number[] = [];
    const throttle = trailingThrottle(() => runs.push(timers.now()), 500, timers);
    throttle.call();
    assert.deepEqual(runs, [0]);
    for (let t = 0; t < 1200; t += 10) {
      throttle.call();
      timers.advance(10);
    }
    timers.advance(2000);
    assert.deepEqual(runs, [0, 500, 1000, 1500]);
  });

  test('never runs an async task twice at once; a call during a run asks for one more run', async () => {
    const timers = fakeTimers();
    let running = 0;
    let most = 0;
    let runs = 0;
    const finishers: (() => void)[] = [];
    const throttle = trailingThrottle(
      () =>
        new Promise<void>((resolve) => {
          runs++;
          running++;
          most = Math.max(most, running);
          finishers.push(() => {
            running--;
            resolve();
          });
        }),
      100,
      timers,
    );
    throttle.call();
    timers.advance(1000);
    throttle.call();
    throttle.call();
    timers.advance(1000);
    assert.equal(runs, 1, 'the first run is still in flight');
    finishers.shift()!();
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(runs, 2, 'the calls made during the run are served by one run right after it');
    finishers.shift()!();
    await Promise.resolve();
    timers.advance(1000);
    assert.equal(runs, 2);
    assert.equal(most, 1);
  });

  test('cancel drops a planned run; a task that throws does not stop later runs', () => {
    const timers = fakeTimers();
    let runs = 0;
    const throttle = trailingThrottle(() => {
      runs++;
      throw new Error('boom');
    }, 100, timers);
    throttle.call();
    throttle.call();
    throttle.cancel();
    timers.advance(500);
    assert.equal(runs, 1);
    throttle.call();
    assert.equal(runs, 2);
  });

  test('refuses an interval that is not a finite number >= 0', () => {
    assert.throws(() => trailingThrottle(() => {}, -1), RangeError);
    assert.throws(() => trailingThrottle(() => {}, Number.NaN), RangeError);
  });
});
