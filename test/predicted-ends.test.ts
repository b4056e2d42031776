/**
 * Predicted ends on the real server (issue 17), on SQLite and Redis: a job's `kind` and `size`
 * at creation; a cold kind says so; completed reported jobs teach the kind's model in the engine,
 * so a restarted server (SQLite) or another instance (Redis) predicts alike (each server here opens
 * the engine anew: a server closes its engine); the view carries the
 * expected end with its basis, never a passed prediction as 0; overdue past p99 × 1.5, counted in
 * /metrics and announced by an opt-in job.overdue webhook.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { CreatedJob, Job } from '@jobwait/client';
import { buildServer, type Engine } from '@jobwait/server';
import { openTestEngine, type TestEngine } from './helpers/engines.js';
import { startWebhookReceiver } from './helpers/webhook-receiver.js';

/** A server on `engine` with a clock the test moves. */
async function startServer(engine: Engine, clock: { now: number }): Promise<{ url: string; close: () => Promise<void> }> {
  const app = await buildServer({ store: 'memory', logLevel: 'silent', rateLimit: 0, webhookAllowHosts: ['127.0.0.1'], webhookRetryScheduleMs: [20, 20] }, { engine, now: () => clock.now });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}

async function create(url: string, body: unknown): Promise<{ status: number; job: CreatedJob; headers: Headers }> {
  const response = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, job: (await response.json()) as CreatedJob, headers: response.headers };
}

async function read(url: string, id: string): Promise<{ job: Job; retryAfter: string | null }> {
  const response = await fetch(`${url}/v1/jobs/${id}`);
  return { job: (await response.json()) as Job, retryAfter: response.headers.get('retry-after') };
}

async function complete(url: string, job: CreatedJob): Promise<void> {
  const response = await fetch(`${url}/v1/jobs/${job.id}/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${job.reportToken}` },
    body: JSON.stringify({ event: 'completed' }),
  });
  assert.equal(response.status, 200);
}

/** Runs `jobs` transcode jobs of sizes 1..4 taking 8..12 s per unit of size, on the test's clock. */
async function teach(url: string, clock: { now: number }, jobs: number): Promise<void> {
  for (let i = 0; i < jobs; i++) {
    const size = 1 + (i % 4);
    const { job } = await create(url, { kind: 'transcode', size });
    clock.now += size * (8000 + ((i * 7919) % 4001));
    await complete(url, job);
  }
}

/** Reads `id` until the view's sample count reaches `samples` (a Redis learn may land just after the report's answer). */
async function readWithSamples(url: string, id: string, samples: number): Promise<{ job: Job; retryAfter: string | null }> {
  for (;;) {
    const answer = await read(url, id);
    if ((answer.job.expectedEnd?.samples ?? 0) >= samples) return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const kind of ['sqlite', 'redis'] as const) {
  describe(`predicted ends on ${kind}`, () => {
    const opened: TestEngine = openTestEngine(kind);
    after(() => opened.dispose());
    const clock = { now: Date.parse('2026-12-01T10:00:00Z') };

    test('validates kind and size at creation', async (t) => {
      const server = await startServer(opened.reopen(), clock);
      t.after(server.close);
      for (const body of [{ kind: '' }, { kind: 'has space' }, { kind: 'x'.repeat(65) }, { kind: 7 }, { size: 0 }, { size: -1 }, { size: '2' }, { size: 1e10 }]) {
        assert.equal((await create(server.url, body)).status, 400, JSON.stringify(body));
      }
      const { status, job } = await create(server.url, { kind: 'resize', size: 2.5 });
      assert.equal(status, 201);
      assert.equal(job.kind, 'resize');
      assert.equal(job.size, 2.5);
    });

    test('a cold kind says so and predicts nothing; a timer shows basis timer; a job without a kind shows none', async (t) => {
      const server = await startServer(opened.reopen(), clock);
      t.after(server.close);
      const { job } = await create(server.url, { kind: 'transcode', size: 2 });
      assert.deepEqual(job.expectedEnd, { basis: 'history', cold: true, samples: 0 });
      assert.equal(job.etaMs, undefined);
      assert.deepEqual((await create(server.url, { duration: 30 })).job.expectedEnd, { basis: 'timer' });
      assert.equal((await create(server.url, {})).job.expectedEnd, undefined);
    });

    test('completed jobs teach the kind: the view predicts from history, scaled by size, with Retry-After', async (t) => {
      const server = await startServer(opened.reopen(), clock);
      t.after(server.close);
      await teach(server.url, clock, 60);
      const { job: fresh } = await create(server.url, { kind: 'transcode', size: 2 });
      const { job, retryAfter } = await readWithSamples(server.url, fresh.id, 60);
      const end = job.expectedEnd!;
      assert.equal(end.basis, 'history');
      assert.equal(end.samples, 60);
      // 8..12 s per unit, size 2: a median near 20 s.
      assert.ok(end.p50Ms! >= 16_000 && end.p50Ms! <= 24_000, `p50 ${end.p50Ms}`);
      assert.ok(end.p50Ms! <= end.p90Ms! && end.p90Ms! <= end.p99Ms!);
      assert.ok(end.length!.p99Ms <= 26_000, `length ${JSON.stringify(end.length)}`);
      assert.equal(end.ageMs, 0);
      assert.ok(Number(retryAfter) >= 1, `Retry-After ${retryAfter}`);
      // Half a minute later the job runs past its p99 but not yet past 1.5 × p99: the prediction moves on, never 0.
      clock.now += 30_000;
      const later = (await read(server.url, fresh.id)).job.expectedEnd!;
      assert.equal(later.overdue, undefined);
      assert.equal(later.ageMs, 30_000);
      if (later.p50Ms !== undefined) assert.ok(later.p50Ms >= 1);
      // Past p99 × 1.5 it is overdue.
      clock.now += 20_000;
      const overdue = (await read(server.url, fresh.id)).job.expectedEnd!;
      assert.equal(overdue.overdue, true);
      // A worker's ETA comes first while it lies ahead.
      const token = fresh.reportToken!;
      await fetch(`${server.url}/v1/jobs/${fresh.id}/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ event: 'progress', etaSeconds: 5 }),
      });
      assert.deepEqual((await read(server.url, fresh.id)).job.expectedEnd, { basis: 'worker' });
    });

    test(kind === 'sqlite' ? 'a restarted server forgets nothing' : 'another instance predicts alike', async (t) => {
      const server = await startServer(opened.reopen(), clock);
      t.after(server.close);
      const { job } = await create(server.url, { kind: 'transcode', size: 1 });
      assert.equal(job.expectedEnd?.basis, 'history');
      assert.equal(job.expectedEnd?.samples, 60);
      assert.ok(job.expectedEnd!.p50Ms! >= 8000 && job.expectedEnd!.p50Ms! <= 12_000, `p50 ${job.expectedEnd!.p50Ms}`);
    });

    test("a job's event stream carries its expected end too", async (t) => {
      const server = await startServer(opened.reopen(), clock);
      t.after(server.close);
      const { job } = await create(server.url, { kind: 'transcode', size: 1 });
      assert.equal(job.expectedEnd?.basis, 'history');
      const controller = new AbortController();
      t.after(() => controller.abort());
      const response = await fetch(`${server.url}/v1/jobs/${job.id}/events`, { signal: controller.signal });
      const reader = response.body!.getReader();
      let text = '';
      while (!/^data: .*$/m.test(text)) text += new TextDecoder().decode((await reader.read()).value);
      const streamed = JSON.parse(/^data: (.*)$/m.exec(text)![1]!) as Job;
      assert.equal(streamed.expectedEnd?.basis, 'history');
      assert.ok(streamed.expectedEnd!.p50Ms! >= 1);
      controller.abort();
    });

    test('a job past p99 × 1.5 is counted in /metrics once and announced by its opt-in job.overdue webhook', async (t) => {
      const receiver = await startWebhookReceiver();
      t.after(() => receiver.close());
      const server = await startServer(opened.reopen(), clock);
      t.after(server.close);
      const quiet = await create(server.url, { kind: 'transcode', size: 1 });
      const loud = await create(server.url, { kind: 'transcode', size: 1, webhookEvents: ['job.overdue'], callbackUrl: `${receiver.url}/overdue` });
      assert.equal(loud.status, 201);
      clock.now += 60_000;
      const overdueCount = async (): Promise<number> => {
        const text = await (await fetch(`${server.url}/metrics`)).text();
        return Number(/^jobwait_jobs_overdue_total (\d+)/m.exec(text)?.[1] ?? 0);
      };
      while ((await overdueCount()) < 2 || receiver.received.length < 1) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await overdueCount(), 2);
      assert.equal(receiver.received.length, 1);
      const payload = JSON.parse(receiver.received[0]!.body) as { type: string; data: Job };
      assert.equal(payload.type, 'job.overdue');
      assert.equal(payload.data.id, loud.job.id);
      assert.equal(payload.data.expectedEnd?.overdue, true);
      assert.equal((await read(server.url, quiet.job.id)).job.expectedEnd?.overdue, true);
    });

    test('each tenant and kind learns apart: another kind stays cold', async (t) => {
      const server = await startServer(opened.reopen(), clock);
      t.after(server.close);
      assert.deepEqual((await create(server.url, { kind: 'thumbnail' })).job.expectedEnd, { basis: 'history', cold: true, samples: 0 });
    });
  });
}

describe('the duration model options', () => {
  test('--predict-min-samples sets when a kind stops being cold; bad values are refused at start', async (t) => {
    const clock = { now: Date.parse('2026-12-01T10:00:00Z') };
    const app = await buildServer({ store: 'memory', logLevel: 'silent', rateLimit: 0, predictMinSamples: 3 }, { now: () => clock.now });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    t.after(() => app.close());
    await teach(url, clock, 2);
    const { job: early } = await create(url, { kind: 'transcode', size: 2 });
    assert.equal((await read(url, early.id)).job.expectedEnd?.cold, true);
    await teach(url, clock, 1);
    const { job: later } = await create(url, { kind: 'transcode', size: 2 });
    const { job } = await read(url, later.id);
    assert.equal(job.expectedEnd?.basis, 'history');
    assert.equal(job.expectedEnd?.cold, undefined);
    assert.equal(job.expectedEnd?.samples, 3);
    assert.ok((job.expectedEnd?.p50Ms ?? 0) > 0);
    for (const bad of [{ overdueFactor: 0.5 }, { predictHalfLife: 0 }, { predictMinSamples: 1.5 }, { overdueMinSamples: -1 }]) {
      await assert.rejects(buildServer({ store: 'memory', logLevel: 'silent', ...bad }), /overdue|predict/, JSON.stringify(bad));
    }
  });
});
