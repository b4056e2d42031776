import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pino from 'pino';
import { startWebhookReceiver } from '../../../../test/helpers/webhook-receiver.js';
import { openTestEngine } from '../../../../test/helpers/engines.js';
import { TEST_REDIS_URL } from '../../../../test/helpers/redis.js';
import { buildServer } from '../build-server.js';
import type { ServerOptions } from '../config/server-options.js';
import { FinalOutbox } from './final-outbox.js';
import { JobIdFactory } from './job-id.js';
import type { JobRecord } from './job-record.js';

const silent = pino({ level: 'silent' });
const ids = new JobIdFactory();

/** A job that was due `agoMs` ago. */
function dueJob(agoMs: number, extra: Partial<JobRecord> = {}): JobRecord {
  const now = Date.now();
  return { id: ids.next(now - agoMs - 1000), tenant: 'public', state: 'pending', outcome: 'completed', createdAt: now - agoMs - 1000, dueAt: now - agoMs, updatedAt: now - agoMs - 1000, duration: 1, version: 1, ...extra };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(20);
  }
}

describe('FinalOutbox', () => {
  it('confirms work that succeeded, and a sweep redoes work that failed until it succeeds', async () => {
    const store = openTestEngine('memory').engine.jobs;
    const ok = dueJob(0);
    const failing = dueJob(0);
    await store.create(ok);
    await store.create(failing);
    const [settledOk, settledFailing] = await store.settleDue(Date.now(), 10);
    const runs: string[] = [];
    let failures = 1;
    const outbox = new FinalOutbox(
      store,
      async (job) => {
        runs.push(job.id);
        if (job.id === failing.id && failures > 0) return (failures--, false);
        return true;
      },
      silent,
      Date.now,
      { graceMs: 0, everyMs: 60_000 },
    );
    await outbox.run(settledOk!);
    await outbox.run(settledFailing!);
    await outbox.stop(); // writes the queued confirmations
    assert.deepEqual((await store.unnotified(Date.now(), 10)).map((j) => j.id), [failing.id]);
    await outbox.sweep();
    assert.deepEqual(runs, [ok.id, failing.id, failing.id]);
    assert.deepEqual(await store.unnotified(Date.now(), 10), []);
    await outbox.sweep();
    assert.equal(runs.length, 3, 'a confirmed job is not redone');
  });

  it('leaves alone a job whose work is running, and jobs younger than the grace period', async () => {
    const store = openTestEngine('memory').engine.jobs;
    await store.create(dueJob(0));
    const [job] = await store.settleDue(Date.now(), 10);
    let release!: () => void;
    let runs = 0;
    const outbox = new FinalOutbox(
      store,
      async () => {
        runs++;
        await new Promise<void>((resolve) => (release = resolve));
        return true;
      },
      silent,
      Date.now,
      { graceMs: 0, everyMs: 60_000 },
    );
    const running = outbox.run(job!);
    await outbox.sweep();
    assert.equal(runs, 1, 'the sweep skipped the job in flight');
    release();
    await running;
    await outbox.stop();

    await store.create(dueJob(0));
    await store.settleDue(Date.now(), 10);
    const patient = new FinalOutbox(store, async () => (runs++, true), silent, Date.now, { graceMs: 60_000, everyMs: 60_000 });
    await patient.sweep();
    assert.equal(runs, 1, 'changed just now: still the changing instance to do');
  });
});

/** Engines whose file or keys outlive a process, as a crash leaves them. */
const durable = [
  { name: 'SQLite', kind: 'sqlite', server: (place: string): ServerOptions => ({ store: 'sqlite', dataDir: place }) },
  { name: 'Redis', kind: 'redis', server: (place: string): ServerOptions => ({ store: 'redis', redisUrl: TEST_REDIS_URL, redisPrefix: place }) },
] as const;

for (const kind of durable) {
  describe(`a job settled right before a crash (${kind.name})`, () => {
    it('gets its webhook from the next server that starts on the same store, once', async () => {
      const receiver = await startWebhookReceiver();
      const place = openTestEngine(kind.kind);
      try {
        // The first process: settles the job (the store marks it unnotified), then dies before enqueueing its webhook.
        const first = place.engine.jobs;
        const job = dueJob(120_000, { callbackUrl: `${receiver.url}/hook` });
        await first.create(job);
        const [settled] = await first.settleDue(Date.now() - 60_000, 10);
        assert.equal(settled?.id, job.id);
        await place.engine.close();

        const app = await buildServer({ ...kind.server(place.place), logLevel: 'silent', webhookAllowHosts: ['127.0.0.1'], rateLimit: 0 });
        await app.listen({ port: 0, host: '127.0.0.1' });
        try {
          await until(() => receiver.received.length >= 1, 'the webhook');
          const payload = JSON.parse(receiver.received[0]!.body) as { type: string; data: { id: string; status: string } };
          assert.equal(payload.type, 'job.completed');
          assert.equal(payload.data.id, job.id);
          const observer = place.reopen();
          await until(async () => (await observer.jobs.unnotified(Date.now(), 10)).length === 0, 'the confirmation');
          await app.jobs.outbox.sweep();
          await delay(200);
          assert.equal(receiver.received.length, 1, 'sent once');
        } finally {
          await app.close();
        }
      } finally {
        await receiver.close();
        await place.dispose();
      }
    });
  });
}
