/**
 * Retention, through the server on the SQLite engine and on Redis, with a
 * controlled clock (the wall clock plus an offset the test moves): finished
 * jobs past `--retention` disappear with their deliveries and Idempotency-Keys,
 * while pending jobs, recent ones and each tenant's current timer stay; and a
 * large prune goes in many batches while reads and creates keep being answered.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { openTestEngine, type TestEngine } from '../../../../test/helpers/engines.js';
import { OPEN_TENANT } from '../auth/access-control.js';
import { buildServer } from '../build-server.js';
import type { EngineKind } from '../engines/engine.js';
import type { NewDelivery } from '../notify/delivery-store.js';
import { JobIdFactory } from './job-id.js';
import type { JobRecord } from './job-record.js';

const RETENTION_S = 3600;
const HOUR = 3_600_000;

interface Harness {
  app: FastifyInstance;
  opened: TestEngine;
  /** Moves the server's clock `ms` ahead of the wall clock. */
  advance(ms: number): void;
  now(): number;
}

const harnesses: Harness[] = [];

async function start(kind: EngineKind): Promise<Harness> {
  let offset = 0;
  const now = (): number => Date.now() + offset;
  const opened = openTestEngine(kind, { retentionSeconds: RETENTION_S });
  const app = await buildServer({ logLevel: 'silent', rateLimit: 0, retentionSeconds: RETENTION_S }, { engine: opened.engine, now });
  await app.ready();
  const harness = { app, opened, now, advance: (ms: number) => void (offset += ms) };
  harnesses.push(harness);
  return harness;
}

afterEach(async () => {
  for (const { app, opened } of harnesses.splice(0)) {
    await app.close();
    await opened.dispose();
  }
});

/** Resolves once `count` more jobs became final on `app`. */
function finals(app: FastifyInstance, count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => app.jobs.onJobFinal(async () => void (++seen === count && resolve())));
}

function delivery(jobId: string, id: string, status: NewDelivery['status'], at: number): NewDelivery {
  return { id, tenant: OPEN_TENANT, jobId, kind: 'webhook', event: 'job.completed', target: 'https://hooks.example.com/in', source: 'job', payload: '{}', status, createdAt: at, ...(status === 'pending' ? { nextAttemptAt: at + 10 * HOUR } : {}) };
}

for (const kind of ['sqlite', 'redis'] as const) {
  describe(`retention on ${kind}`, () => {
    it('deletes finished jobs past retention with their deliveries and keys; keeps pending, recent and current-timer jobs', async () => {
      const { app, opened, advance, now } = await start(kind);
      const create = async (body: object, headers: Record<string, string> = {}): Promise<{ id: string }> => {
        const res = await app.inject({ method: 'POST', url: '/v1/jobs', payload: body, headers });
        assert.equal(res.statusCode, 201, res.body);
        return res.json();
      };
      const status = async (id: string): Promise<number> => (await app.inject({ url: `/v1/jobs/${id}` })).statusCode;
      const listed = async (): Promise<string[]> => (await app.inject({ url: '/v1/jobs?limit=100' })).json<{ jobs: { id: string }[] }>().jobs.map((j) => j.id);

      const firstFinals = finals(app, 3);
      const oldDone = await create({ duration: 0.05 }, { 'idempotency-key': 'old-key' });
      const oldCanceled = await create({ duration: 3600 });
      assert.equal((await app.inject({ method: 'DELETE', url: `/v1/jobs/${oldCanceled.id}` })).statusCode, 200);
      const running = await create({ duration: 10 * 3600 });
      assert.equal((await app.inject({ method: 'POST', url: '/start-timer', payload: { duration: 0.05 } })).statusCode, 200);
      await firstFinals;
      const deliveries = opened.engine.deliveries;
      await deliveries.enqueue(delivery(oldDone.id, 'dlv-done', 'delivered', now()));
      await deliveries.enqueue(delivery(oldCanceled.id, 'dlv-failed', 'failed', now()));
      await deliveries.enqueue(delivery(oldDone.id, 'dlv-retrying', 'pending', now()));

      // An hour and a minute later: the first jobs are past retention; a new one finishes now.
      advance(HOUR + 60_000);
      const recentFinal = finals(app, 1);
      const recent = await create({ duration: 0.05 });
      await recentFinal;
      const sweep = await app.retention.sweep();

      assert.equal(sweep.jobs, 2, 'the completed and the canceled job past retention');
      for (const gone of [oldDone, oldCanceled]) assert.equal(await status(gone.id), 404);
      for (const kept of [running, recent]) assert.equal(await status(kept.id), 200);
      const ids = await listed();
      assert.ok(!ids.includes(oldDone.id) && !ids.includes(oldCanceled.id), 'gone from lists');
      assert.ok(ids.includes(running.id) && ids.includes(recent.id));
      assert.deepEqual((await app.inject({ method: 'GET', url: '/status' })).json(), { result: 'completed' }, "the tenant's current timer is kept past retention");
      // Finished deliveries went with their jobs; one still being retried stays until it ends.
      assert.deepEqual((await deliveries.listForJob(OPEN_TENANT, oldDone.id)).map((d) => d.id), ['dlv-retrying']);
      assert.deepEqual(await deliveries.listForJob(OPEN_TENANT, oldCanceled.id), []);
      // The deleted job's Idempotency-Key went with it: the key makes a new job, even with another body.
      const again = await app.inject({ method: 'POST', url: '/v1/jobs', payload: { duration: 7 }, headers: { 'idempotency-key': 'old-key' } });
      assert.equal(again.statusCode, 201, again.body);
      assert.equal(again.headers['idempotent-replayed'], undefined);
      assert.notEqual(again.json<{ id: string }>().id, oldDone.id);

      const metrics = (await app.inject({ url: '/metrics' })).body;
      assert.match(metrics, /^jobwait_retention_deleted_total\{kind="job"\} 2$/m);
      assert.match(metrics, /^jobwait_retention_deleted_total\{kind="delivery"\} 2$/m);
      if (kind === 'sqlite') {
        assert.match(metrics, /^jobwait_retention_deleted_total\{kind="idempotency_key"\} 1$/m);
        const size = Number(/^jobwait_database_size_bytes\{file="database"\} (\d+)$/m.exec(metrics)?.[1]);
        assert.ok(size > 0, `database size reported (${size})`);
        assert.match(metrics, /^jobwait_database_size_bytes\{file="wal"\} \d+$/m);
      }

      // Once another timer replaces it, the old timer expires like any finished job.
      const timerId = ids.find((id) => ![running.id, recent.id].includes(id))!;
      const nextFinal = finals(app, 1);
      assert.equal((await app.inject({ method: 'POST', url: '/start-timer', payload: { duration: 0.05 } })).statusCode, 200);
      await nextFinal;
      await app.retention.sweep();
      assert.equal(await status(timerId), 404, 'the replaced timer is past retention');
      assert.deepEqual((await app.inject({ method: 'GET', url: '/status' })).json(), { result: 'completed' });
    });
  });
}

describe('a large prune on sqlite', () => {
  it('deletes 50,000 jobs in many batches while reads and creates go on', async () => {
    const { app, opened, now } = await start('sqlite');
    const store = opened.engine.jobs;
    const ids = new JobIdFactory();
    const old = now() - 2 * RETENTION_S * 1000;
    const jobs: JobRecord[] = Array.from({ length: 50_000 }, (_, i) => {
      const createdAt = old + i;
      return { id: ids.next(createdAt), tenant: OPEN_TENANT, state: 'completed', outcome: 'completed', createdAt, dueAt: createdAt + 10, updatedAt: createdAt + 10, duration: 0.01, version: 2 };
    });
    // Created in one turn: the store commits them as one group.
    await Promise.all(jobs.map((job, i) => store.create(job, i % 100 === 0 ? { key: `bulk-${i}`, fingerprint: 'fp' } : undefined)));
    const kept = (await app.inject({ method: 'POST', url: '/v1/jobs', payload: { duration: 3600 } })).json<{ id: string }>();

    let done = false;
    const sweep = app.retention.sweep().finally(() => (done = true));
    const answers: number[] = [];
    let answeredDuringPrune = 0;
    while (!done) {
      const [read, created] = await Promise.all([
        app.inject({ url: `/v1/jobs/${kept.id}` }),
        app.inject({ method: 'POST', url: '/v1/jobs', payload: { duration: 3600 } }),
      ]);
      answers.push(read.statusCode, created.statusCode);
      if (!done) answeredDuringPrune += 2;
    }
    const result = await sweep;

    assert.equal(result.jobs, 50_000);
    assert.equal(result.idempotencyKeys, 500);
    assert.ok(result.batches >= 100, `${result.batches} batches of at most 500`);
    assert.ok(answeredDuringPrune > 0, 'reads and creates were answered before the prune ended');
    assert.deepEqual([...new Set(answers)].sort(), [200, 201]);
    assert.equal((await app.inject({ url: `/v1/jobs/${jobs[0]!.id}` })).statusCode, 404);
    assert.equal((await app.inject({ url: `/v1/jobs/${kept.id}` })).statusCode, 200);
    const listed = (await app.inject({ url: '/v1/jobs?limit=100' })).json<{ jobs: { id: string }[] }>().jobs;
    assert.ok(listed.length > 0 && listed.every((job) => job.id >= kept.id), 'only the jobs made during the test are left');
  });
});
