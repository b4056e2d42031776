import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFrameScheduler } from './frame-scheduler.js';

/** A fake `requestAnimationFrame` whose frames run when the test says. */
function fakeFrames(): { request: (callback: () => void) => void; runFrame: () => void; readonly waiting: number } {
  let queue: (() => void)[] = [];
  return {
    request: (callback) => void queue.push(callback),
    runFrame: () => {
      const due = queue;
      queue = [];
      for (const callback of due) callback();
    },
    get waiting() {
      return queue.length;
    },
  };
}

describe('createFrameScheduler', () => {
  test('renders once per frame, however many changes were scheduled', () => {
    const frames = fakeFrames();
    let renders = 0;
    const scheduler = createFrameScheduler(() => renders++, frames.request);
    for (let i = 0; i < 1000; i++) scheduler.schedule();
    assert.equal(frames.waiting, 1);
    assert.equal(renders, 0);
    frames.runFrame();
    assert.equal(renders, 1);
    frames.runFrame();
    assert.equal(renders, 1, 'nothing new: no render');
  });

  test('a render that schedules again runs in the next frame, not in a loop', () => {
    const frames = fakeFrames();
    let renders = 0;
    const scheduler = createFrameScheduler(() => {
      renders++;
      scheduler.schedule();
    }, frames.request);
    scheduler.schedule();
    frames.runFrame();
    frames.runFrame();
    assert.equal(renders, 2);
    assert.equal(scheduler.pending, true);
  });

  test('flush renders at once, and the frame asked for before does nothing more', () => {
    const frames = fakeFrames();
    let renders = 0;
    const scheduler = createFrameScheduler(() => renders++, frames.request);
    scheduler.schedule();
    scheduler.flush();
    assert.equal(renders, 1);
    scheduler.flush();
    assert.equal(renders, 1);
    frames.runFrame();
    assert.equal(renders, 1);
  });
});
