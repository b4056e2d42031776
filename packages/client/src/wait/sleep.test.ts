import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { AbortError } from '../errors/errors.js';
import { sleep, throwIfAborted } from './sleep.js';

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

function isAbortWith(reason: unknown) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof AbortError, `expected AbortError, got ${String(error)}`);
    assert.equal(error.code, 'JOBWAIT_ERR_ABORTED');
    assert.equal(error.name, 'AbortError');
    assert.equal(error.cause, reason);
    return true;
  };
}

describe('sleep', () => {
  test('resolves after the given time', async () => {
    const started = performance.now();
    await sleep(30);
    const took = performance.now() - started;
    assert.ok(took >= 25 && took < 500, `took ${took} ms`);
  });

  test('resolves promptly for 0, negative and NaN delays', async () => {
    const started = performance.now();
    await sleep(0);
    await sleep(-100);
    await sleep(Number.NaN);
    const took = performance.now() - started;
    assert.ok(took < 100, `took ${took} ms`);
  });

  test('rejects at once with AbortError when the signal has already fired, and starts no timer', async () => {
    const reason = new Error('stop');
    const before = activeTimers();
    const pending = sleep(10_000, AbortSignal.abort(reason));
    assert.equal(activeTimers(), before);
    await assert.rejects(pending, isAbortWith(reason));
  });

  test('rejects mid-sleep the moment the signal fires', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const pending = sleep(10_000, controller.signal);
    setTimeout(() => controller.abort('user left'), 20);
    await assert.rejects(pending, isAbortWith('user left'));
    const took = performance.now() - started;
    assert.ok(took < 500, `took ${took} ms`);
  });

  test('clears its timer on abort', async () => {
    const controller = new AbortController();
    const before = activeTimers();
    const pending = sleep(10_000, controller.signal);
    assert.equal(activeTimers(), before + 1);
    controller.abort();
    await assert.rejects(pending, AbortError);
    assert.equal(activeTimers(), before);
  });

  test('removes its abort listener once it has slept', async () => {
    const controller = new AbortController();
    await sleep(1, controller.signal);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    controller.abort(); // must not reject anything or throw now
  });

  test('does not fire early for delays beyond what setTimeout takes', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    const controller = new AbortController();
    let settled = false;
    const pending = sleep(2 ** 40, controller.signal).then(
      () => (settled = true),
      () => (settled = true),
    );
    const forever = sleep(Infinity, controller.signal).catch(() => {});
    await delay(30);
    assert.equal(settled, false);
    controller.abort();
    await Promise.all([pending, forever]);
    process.off('warning', onWarning);
    assert.deepEqual(
      warnings.filter((w) => w.name === 'TimeoutOverflowWarning').map((w) => w.message),
      [],
    );
  });
});

describe('throwIfAborted', () => {
  test('does nothing without a signal or before it fires', () => {
    throwIfAborted(undefined);
    throwIfAborted(new AbortController().signal);
  });

  test('throws AbortError carrying the reason once the signal has fired', () => {
    const reason = new Error('gone');
    assert.throws(() => throwIfAborted(AbortSignal.abort(reason)), isAbortWith(reason));
  });
});
