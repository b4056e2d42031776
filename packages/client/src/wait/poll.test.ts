import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  AbortError,
  AttemptsExhaustedError,
  BadResponseError,
  HttpError,
  InvalidOptionError,
  NetworkError,
  RequestTimeoutError,
  TimeoutError,
} from '../errors/errors.js';
import { Deadline } from './deadline.js';
import { isTransientError, poll, type PollContext } from './poll.js';
import type { ScheduleOptions } from './schedule.js';

interface Status {
  state: 'pending' | 'done';
  n: number;
}

/** A schedule of a steady 5 ms, so tests that do not care about timing stay fast. */
const FAST: ScheduleOptions = { initialDelayMs: 5, factor: 1, minDelayMs: 5, maxRelativeDelay: 1, maxDelayMs: 5 };
/** A schedule that would sleep for 10 s: a test that finishes quickly proves something else decided. */
const SLOW: ScheduleOptions = { initialDelayMs: 10_000, factor: 1, minDelayMs: 10_000, maxRelativeDelay: 1, maxDelayMs: 10_000 };
const isDone = (s: Status): boolean => s.state === 'done';

interface Call {
  at: number;
  context: PollContext;
}

/** A fake status endpoint: `answer` decides what call number n (from 1) returns or throws. */
function fakeCheck(answer: (n: number, context: PollContext) => Status | Error) {
  const calls: Call[] = [];
  const started = performance.now();
  const check = async (context: PollContext): Promise<Status> => {
    calls.push({ at: performance.now() - started, context: { ...context } });
    const result = answer(calls.length, context);
    if (result instanceof Error) throw result;
    return result;
  };
  return { check, calls, elapsed: () => performance.now() - started };
}

const pendingUntil =
  (doneAt: number) =>
  (n: number): Status => ({ state: n >= doneAt ? 'done' : 'pending', n });

function gaps(calls: readonly Call[]): number[] {
  return calls.slice(1).map((call, i) => call.at - calls[i]!.at);
}

function hasCode(code: string) {
  return (error: unknown): boolean => {
    assert.equal((error as { code?: unknown }).code, code);
    return true;
  };
}

describe('poll', () => {
  test('resolves with the first value that is done', async () => {
    const { check, calls } = fakeCheck(pendingUntil(4));
    const seen: [Status, number][] = [];
    const value = await poll(check, { isDone, schedule: FAST, onPoll: (v, attempt) => seen.push([v, attempt]) });
    assert.deepEqual(value, { state: 'done', n: 4 });
    assert.equal(calls.length, 4);
    assert.deepEqual(
      calls.map((c) => [c.context.attempt, c.context.final]),
      [
        [0, false],
        [1, false],
        [2, false],
        [3, false],
      ],
    );
    assert.deepEqual(
      seen.map(([v, attempt]) => [v.n, attempt]),
      [
        [1, 0],
        [2, 1],
        [3, 2],
        [4, 3],
      ],
    );
  });

  test('looks once and does not sleep when the first look is done', async () => {
    const { check, calls, elapsed } = fakeCheck(pendingUntil(1));
    assert.deepEqual(await poll(check, { isDone, schedule: SLOW }), { state: 'done', n: 1 });
    assert.equal(calls.length, 1);
    assert.ok(elapsed() < 100, `took ${elapsed()} ms`);
  });

  test('passes the signal and the shared deadline to check', async () => {
    const controller = new AbortController();
    const deadline = new Deadline(5000);
    const { check, calls } = fakeCheck(pendingUntil(2));
    await poll(check, { isDone, schedule: FAST, signal: controller.signal, deadline });
    assert.equal(calls[0]!.context.signal, controller.signal);
    assert.equal(calls[0]!.context.deadline, deadline);
  });

  test('waits as long as the server hint says instead of the schedule', async () => {
    const { check, calls, elapsed } = fakeCheck(pendingUntil(4));
    const hinted: number[] = [];
    const value = await poll(check, {
      isDone,
      schedule: SLOW,
      hintMs: (v) => {
        hinted.push(v.n);
        return 15;
      },
    });
    assert.equal(value.n, 4);
    assert.deepEqual(hinted, [1, 2, 3]);
    for (const gap of gaps(calls)) assert.ok(gap >= 10, `gap of ${gap} ms is shorter than the 15 ms hint`);
    assert.ok(elapsed() < 1000, `took ${elapsed()} ms: the 10 s schedule was used`);
  });

  test('takes a hint of 0 as "look again at once"', async () => {
    const { check, calls, elapsed } = fakeCheck(pendingUntil(5));
    await poll(check, { isDone, schedule: SLOW, hintMs: () => 0 });
    assert.equal(calls.length, 5);
    assert.ok(elapsed() < 500, `took ${elapsed()} ms`);
  });

  test('falls back to the schedule when the hint is absent, negative or not a number', async () => {
    const hints = [undefined, -1, Number.NaN, Infinity];
    const { check, calls } = fakeCheck(pendingUntil(5));
    const schedule: ScheduleOptions = { initialDelayMs: 15, factor: 1, minDelayMs: 15, maxRelativeDelay: 1, maxDelayMs: 15 };
    await poll(check, { isDone, schedule, hintMs: (v) => hints[v.n - 1] });
    assert.equal(calls.length, 5);
    for (const gap of gaps(calls)) assert.ok(gap >= 10 && gap < 1000, `gap of ${gap} ms is not the 15 ms schedule`);
  });

  test('waits the first delay of a schedule with no relative bound (the seed shape) instead of looking again at once', async () => {
    const seedLike: ScheduleOptions = { initialDelayMs: 40, factor: 2, minDelayMs: 0, maxRelativeDelay: Infinity, maxDelayMs: 1000 };
    const { check, calls } = fakeCheck(pendingUntil(2));
    await poll(check, { isDone, schedule: seedLike });
    const [gap] = gaps(calls);
    assert.ok(gap !== undefined && gap >= 35, `second look came ${gap} ms after the first`);
  });

  test('takes a final look at the deadline and then rejects with TimeoutError', async () => {
    const { check, calls, elapsed } = fakeCheck((n) => ({ state: 'pending', n }));
    const error = await poll(check, { isDone, schedule: FAST, timeoutMs: 60 }).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(error.code, 'JOBWAIT_ERR_TIMEOUT');
    assert.equal(error.timeoutMs, 60);
    const last = calls.at(-1)!;
    assert.deepEqual(error.lastValue, { state: 'pending', n: calls.length });
    assert.equal(last.context.final, true);
    assert.equal(calls.filter((c) => c.context.final).length, 1);
    assert.ok(last.at >= 55, `final look at ${last.at} ms, before the 60 ms deadline`);
    assert.ok(elapsed() < 1000, `took ${elapsed()} ms`);
  });

  test('resolves with the value of the final look when the job is done by then', async () => {
    const { check, calls } = fakeCheck((n, context) => ({ state: context.final ? 'done' : 'pending', n }));
    const seen: number[] = [];
    const value = await poll(check, { isDone, schedule: FAST, timeoutMs: 50, onPoll: (v) => seen.push(v.n) });
    assert.deepEqual(value, { state: 'done', n: calls.length });
    assert.equal(calls.at(-1)!.context.final, true);
    assert.equal(seen.at(-1), calls.length);
    assert.ok(calls.at(-1)!.at >= 45, `final look at ${calls.at(-1)!.at} ms`);
  });

  test('takes the final look at the deadline when the hint points past it', async () => {
    const { check, calls, elapsed } = fakeCheck((n, context) => ({ state: context.final ? 'done' : 'pending', n }));
    const value = await poll(check, { isDone, hintMs: () => 10_000, timeoutMs: 40 });
    assert.deepEqual(value, { state: 'done', n: 2 });
    assert.ok(calls[1]!.at >= 35, `final look at ${calls[1]!.at} ms`);
    assert.ok(elapsed() < 1000, `took ${elapsed()} ms: the hint was followed past the deadline`);
  });

  test('uses a deadline it is given, shared with other loops', async () => {
    const { check } = fakeCheck((n) => ({ state: 'pending', n }));
    await assert.rejects(poll(check, { isDone, schedule: FAST, deadline: new Deadline(30), timeoutMs: 60_000 }), (error: unknown) => {
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.timeoutMs, 30);
      return true;
    });
  });

  test('rejects with AttemptsExhaustedError after maxAttempts pending looks', async () => {
    const { check, calls } = fakeCheck((n) => ({ state: 'pending', n }));
    await assert.rejects(poll(check, { isDone, schedule: FAST, maxAttempts: 3 }), (error: unknown) => {
      assert.ok(error instanceof AttemptsExhaustedError, String(error));
      assert.equal(error.code, 'JOBWAIT_ERR_ATTEMPTS_EXHAUSTED');
      assert.equal(error.attempts, 3);
      assert.deepEqual(error.lastValue, { state: 'pending', n: 3 });
      return true;
    });
    assert.equal(calls.length, 3);
  });

  test('resolves when the last allowed attempt is done', async () => {
    const { check } = fakeCheck(pendingUntil(3));
    assert.deepEqual(await poll(check, { isDone, schedule: FAST, maxAttempts: 3 }), { state: 'done', n: 3 });
  });

  test('rejects bad options with InvalidOptionError before looking', async () => {
    const { check, calls } = fakeCheck(pendingUntil(1));
    for (const options of [{ maxAttempts: 0 }, { maxAttempts: Number.NaN }, { timeoutMs: -1 }, { timeoutMs: Number.NaN }, { schedule: { factor: 0 } }]) {
      await assert.rejects(poll(check, { isDone, ...options }), InvalidOptionError, JSON.stringify(options));
    }
    assert.equal(calls.length, 0);
  });

  test('rejects at once with AbortError when aborted mid-sleep, and never looks again', async () => {
    const controller = new AbortController();
    const { check, calls, elapsed } = fakeCheck((n) => ({ state: 'pending', n }));
    const reason = new Error('user navigated away');
    setTimeout(() => controller.abort(reason), 20);
    await assert.rejects(poll(check, { isDone, schedule: SLOW, timeoutMs: 60_000, signal: controller.signal }), (error: unknown) => {
      assert.ok(error instanceof AbortError, String(error));
      assert.equal(error.code, 'JOBWAIT_ERR_ABORTED');
      assert.equal(error.cause, reason);
      return true;
    });
    assert.ok(elapsed() < 500, `took ${elapsed()} ms to notice the abort`);
    await delay(30);
    assert.equal(calls.length, 1);
  });

  test('rejects with AbortError and never looks when the signal has already fired', async () => {
    const { check, calls } = fakeCheck(pendingUntil(1));
    await assert.rejects(poll(check, { isDone, signal: AbortSignal.abort() }), hasCode('JOBWAIT_ERR_ABORTED'));
    assert.equal(calls.length, 0);
  });

  test('rejects at once with AbortError when aborted while waiting for the final look', async () => {
    const controller = new AbortController();
    const { check, calls, elapsed } = fakeCheck(() => new NetworkError('GET', 'http://x', 'ECONNREFUSED'));
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(poll(check, { isDone, timeoutMs: 60_000, signal: controller.signal }), AbortError);
    assert.ok(elapsed() < 500, `took ${elapsed()} ms to notice the abort`);
    await delay(30);
    assert.equal(calls.length, 1);
  });

  test('rejects with AbortError when aborted during a look whose request honours the signal', async () => {
    const controller = new AbortController();
    let calls = 0;
    // Like fetch: the request rejects with the DOM "AbortError" when its signal fires.
    const check = (context: PollContext): Promise<Status> => {
      calls++;
      return new Promise((_, reject) => {
        context.signal?.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError')), { once: true });
      });
    };
    setTimeout(() => controller.abort(), 10);
    await assert.rejects(poll(check, { isDone, timeoutMs: 60_000, signal: controller.signal }), (error: unknown) => {
      assert.ok(error instanceof AbortError, `expected the jobwait AbortError, got ${String(error)}`);
      assert.equal(error.code, 'JOBWAIT_ERR_ABORTED');
      return true;
    });
    await delay(20);
    assert.equal(calls, 1);
  });

  test('rejects with AbortError when aborted during the final look', async () => {
    const controller = new AbortController();
    const { check, calls } = fakeCheck((n, context) => {
      if (context.final) {
        controller.abort();
        return new DOMException('This operation was aborted', 'AbortError');
      }
      return { state: 'pending', n };
    });
    await assert.rejects(poll(check, { isDone, schedule: FAST, timeoutMs: 20, signal: controller.signal }), hasCode('JOBWAIT_ERR_ABORTED'));
    assert.equal(calls.at(-1)!.context.final, true);
  });

  test('after a transient error, keeps looking on the schedule and takes the final look at the deadline instead of failing early', async () => {
    const { check, calls } = fakeCheck((n, context) => {
      if (context.final) return { state: 'done', n };
      if (n === 2) return new NetworkError('GET', 'http://x/status', 'ECONNRESET');
      return { state: 'pending', n };
    });
    const value = await poll(check, { isDone, schedule: FAST, timeoutMs: 80 });
    assert.equal((value as { state: string }).state, 'done');
    assert.ok(calls.length >= 4, `looks after the error: ${calls.length}`);
    assert.equal(calls[2]!.context.final, false, 'the look after the error is an ordinary one');
    const last = calls.at(-1)!;
    assert.equal(last.context.final, true);
    assert.ok(last.at >= 75, `final look at ${last.at} ms, before the 80 ms deadline`);
  });

  test('rejects with TimeoutError carrying the cause when the final look fails transiently too', async () => {
    const failure = new HttpError(503, undefined, 'GET', 'http://x/status');
    const { check, calls } = fakeCheck((n) => (n === 1 ? { state: 'pending', n } : failure));
    await assert.rejects(poll(check, { isDone, schedule: FAST, timeoutMs: 40 }), (error: unknown) => {
      assert.ok(error instanceof TimeoutError, String(error));
      assert.equal(error.cause, failure);
      assert.deepEqual(error.lastValue, { state: 'pending', n: 1 });
      return true;
    });
    assert.ok(calls.length >= 3);
    assert.equal(calls.at(-1)!.context.final, true);
  });

  test('rethrows a transient error at once when there is no deadline to look at', async () => {
    const failure = new RequestTimeoutError('GET', 'http://x/status', 100);
    const { check, calls } = fakeCheck(() => failure);
    await assert.rejects(poll(check, { isDone, schedule: FAST }), (error: unknown) => error === failure);
    assert.equal(calls.length, 1);
  });

  test('rethrows a non-transient error at once, well before the deadline', async () => {
    for (const failure of [new HttpError(404, { code: 'JOBWAIT_ERR_JOB_NOT_FOUND' }, 'GET', 'http://x/status'), new TypeError('bug in check')]) {
      const { check, calls, elapsed } = fakeCheck((n) => (n === 1 ? { state: 'pending', n } : failure));
      await assert.rejects(poll(check, { isDone, schedule: FAST, timeoutMs: 60_000 }), (error: unknown) => error === failure);
      assert.equal(calls.length, 2);
      assert.ok(elapsed() < 500, `took ${elapsed()} ms`);
    }
  });

  test('lets isTransient decide which errors lead to the final look', async () => {
    const failure = new Error('flaky');
    const { check, calls } = fakeCheck((n, context) => (context.final ? { state: 'done', n } : failure));
    const value = await poll(check, { isDone, timeoutMs: 30, isTransient: (e) => e === failure });
    assert.deepEqual(value, { state: 'done', n: 2 });
    assert.equal(calls.length, 2);
  });

  test('reports an error thrown by onPoll as a rejection, not a crash', async () => {
    const { check } = fakeCheck(pendingUntil(3));
    const failure = new Error('listener broke');
    await assert.rejects(
      poll(check, {
        isDone,
        schedule: FAST,
        onPoll: () => {
          throw failure;
        },
      }),
      (error: unknown) => error === failure,
    );
  });
});

describe('isTransientError', () => {
  test('counts network errors, request timeouts, unreadable answers and retryable statuses as transient', () => {
    for (const error of [
      new NetworkError('GET', 'http://x', 'x'),
      new RequestTimeoutError('GET', 'http://x', 5),
      new BadResponseError('GET', 'http://x', 'not JSON'),
      new HttpError(503, undefined, 'GET', 'http://x'),
      new HttpError(429, undefined, 'GET', 'http://x'),
    ]) {
      assert.equal(isTransientError(error), true, error.message);
    }
  });

  test('counts client errors, aborts, timeouts and foreign errors as final', () => {
    for (const error of [
      new HttpError(400, undefined, 'GET', 'http://x'),
      new HttpError(404, undefined, 'GET', 'http://x'),
      new AbortError(),
      new TimeoutError(1, undefined),
      new Error('x'),
      'string',
      undefined,
    ]) {
      assert.equal(isTransientError(error), false, String(error));
    }
  });
});

describe('poll with notBeforeMs', () => {
  test('takes no look before it, then looks as usual', async () => {
    const calls: number[] = [];
    const started = Date.now();
    const value = await poll(
      async () => {
        calls.push(Date.now() - started);
        return calls.length >= 2 ? 'done' : 'pending';
      },
      { isDone: (v) => v === 'done', notBeforeMs: 50, schedule: { initialDelayMs: 1 } },
    );
    assert.equal(value, 'done');
    assert.equal(calls.length, 2);
    assert.ok(calls[0]! >= 45, `first look at ${calls[0]} ms`);
  });

  test('takes only the final look when the deadline comes first', async () => {
    let calls = 0;
    await assert.rejects(
      poll(async () => (calls++, 'pending'), { isDone: (v) => v === 'done', notBeforeMs: 10_000, timeoutMs: 20 }),
      (error: unknown) => error instanceof TimeoutError,
    );
    assert.equal(calls, 1);
  });

  test('rejects a negative notBeforeMs', async () => {
    await assert.rejects(poll(async () => 'done', { isDone: () => true, notBeforeMs: -1 }), InvalidOptionError);
  });
});
