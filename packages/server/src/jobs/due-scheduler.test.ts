/** The due scheduler keeps firing however its timer and its ticks interleave. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { openTestEngine } from '../../../../test/helpers/engines.js';
import { DueScheduler } from './due-scheduler.js';
import { JobIdFactory } from './job-id.js';
import type { JobRecord } from './job-record.js';

const ids = new JobIdFactory();
const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} } as unknown as FastifyBaseLogger;

function makeJob(dueIn: number): JobRecord {
  const now = Date.now();
  return { id: ids.next(now), tenant: 'public', state: 'pending', outcome: 'completed', createdAt: now, dueAt: now + dueIn, updatedAt: now, duration: dueIn / 1000, version: 1 };
}

describe('DueScheduler', () => {
  it('still arms for later jobs after its timer fired during a slow settle', async () => {
    const store = openTestEngine('memory').engine.jobs;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const settleDue = store.settleDue.bind(store);
    let calls = 0;
    store.settleDue = async (now, limit) => {
      if (calls++ === 0) await gate;
      return settleDue(now, limit);
    };
    const settled: string[] = [];
    const scheduler = new DueScheduler(store, async (job) => void settled.push(job.id), silent);
    const starting = scheduler.start();
    try {
      // A job falls due while the first settle is still running: its timer fires mid-tick.
      const first = makeJob(20);
      await store.create(first);
      scheduler.jobScheduled(first.dueAt!);
      await delay(60);
      release();
      await starting;
      await delay(20);
      assert.deepEqual(settled, [first.id]);
      // The next job must get a timer of its own.
      const second = makeJob(30);
      await store.create(second);
      scheduler.jobScheduled(second.dueAt!);
      await delay(300);
      assert.deepEqual(settled, [first.id, second.id]);
    } finally {
      scheduler.stop();
    }
  });
});
