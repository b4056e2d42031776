/** The job service on a memory engine: the subscribe-then-read wait, and final-state work owned by the outbox. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { openTestEngine, type TestEngine } from '../../../../test/helpers/engines.js';
import type { JobRecord } from './job-record.js';
import { JobService } from './job-service.js';

const silent = pino({ level: 'silent' });

describe('JobService', () => {
  let opened: TestEngine;
  beforeEach(() => {
    opened = openTestEngine('memory');
  });
  afterEach(() => opened.dispose());

  it('does not miss a change published between its subscribe and its read', async () => {
    const { engine } = opened;
    let racing: (() => void) | undefined;
    // A store whose read answers with the state from before a change that lands while it runs.
    const store = Object.assign(Object.create(engine.jobs) as typeof engine.jobs, {
      async get(tenant: string, id: string): Promise<JobRecord | undefined> {
        const before = await engine.jobs.get(tenant, id);
        racing?.();
        return before;
      },
    });
    const service = new JobService(store, engine.feed, silent, { errorRate: 0 });
    const { job } = await service.create('t', { duration: 60 });
    racing = () => {
      racing = undefined;
      void engine.feed.publish({ tenant: 't', job: { ...job, state: 'canceled', version: 2, updatedAt: job.createdAt + 1 } });
    };
    // Without a subscription made before the read, this would hold until its timeout and answer "unchanged".
    const result = await service.waitForChange('t', job.id, 5000, undefined, new AbortController().signal);
    assert.equal(result.changed, true);
    assert.equal(result.job.version, 2);
    assert.equal(service.subscriptions(), 0, 'the subscription ended with the wait');
    await service.close();
  });

  it("runs each final handler once; a slow or failing one holds no other job's publish, and the outbox redoes it", { timeout: 30_000 }, async () => {
    const { engine } = opened;
    let now = 1_700_000_000_000;
    const service = new JobService(engine.jobs, engine.feed, silent, { errorRate: 0, outbox: { graceMs: 0, everyMs: 600_000 } }, () => now);
    const slow = (await service.create('t', { duration: 1 })).job;
    const other = (await service.create('t', { duration: 1 })).job;
    const calls: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    service.onJobFinal(async (job) => {
      calls.push(job.id);
      if (job.id === slow.id && calls.filter((id) => id === slow.id).length === 1) {
        await gate;
        throw new Error('receiver down');
      }
    });
    const otherPublished = new Promise<JobRecord>((resolve) => void service.subscribeJob(other.id, (change) => resolve(change.job)));
    now += 2000;
    await service.start();
    assert.equal((await otherPublished).state, 'completed', "published while the first job's handler hangs");
    assert.ok(calls.includes(other.id), "the other job's handler ran meanwhile");
    release();
    await service.close(); // waits for the work in flight
    assert.deepEqual(calls.filter((id) => id === slow.id).length, 1, 'a failed handler is not retried in place');
    assert.deepEqual((await engine.jobs.unnotified(now, 10)).map((j) => j.id), [slow.id], 'left for the outbox');
    await service.outbox.sweep();
    assert.deepEqual(calls.filter((id) => id === slow.id).length, 2, 'the sweep redid it');
    assert.deepEqual(await engine.jobs.unnotified(now, 10), []);
  });
});
