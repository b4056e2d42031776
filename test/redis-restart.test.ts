/**
 * Issue 7, "Cluster: restart Redis". A throwaway redis-server of the test's
 * own (free port, temp folder), two jobwait instances on it and a webhook
 * receiver. ~50 jobs (1–4 s, each with a callbackUrl) are created on A and
 * waited for on B (long-poll and SSE); Redis is shut down and started again
 * mid-way, on the same port and folder. Every waiter must end with the job's
 * right status, no completion may be lost, and each job's webhook must arrive
 * (at least once, and always under one webhook-id: a repeat is a retry of the
 * same delivery, never a second delivery).
 *
 * Redis keeps its data across a restart only with persistence: this one runs
 * with `--appendonly yes --appendfsync always` (every write on disk before the
 * reply), as a production Redis behind a jobwait cluster should. A Redis
 * without persistence comes back empty, and jobs, deliveries and keys are gone.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { JobwaitClient, type Job } from '@jobwait/client';
import { Redis } from 'ioredis';
import { stopInstance } from './helpers/cluster.js';
import { freePort, spawnServer, type ServerProcess } from './helpers/server-process.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

const JOBS = 50;
/** How long Redis stays down (a quick restart by default; longer ones outlast ioredis' per-command retries). */
const DOWN_MS = Number(process.env.JOBWAIT_TEST_REDIS_DOWN_MS ?? 500);
const prefix = 'jobwait-restart:';
let dir: string;
let redisPort: number;
let redisUrl: string;
let redisServer: ChildProcess | undefined;
let redisOutput = '';
let receiver: WebhookReceiver;
let a: ServerProcess;
let b: ServerProcess;
const started: ServerProcess[] = [];

/** Starts the throwaway redis-server (AOF, fsync on every write) and waits until it answers PING. */
async function startRedis(): Promise<void> {
  const child = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (redisOutput += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (redisOutput += c.toString()));
  redisServer = child;
  const until = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    const ok = await probe.connect().then(
      () => probe.ping(),
      () => undefined,
    );
    probe.disconnect();
    if (ok === 'PONG') return;
    if (child.exitCode !== null || Date.now() > until) throw new Error(`redis-server did not start:\n${redisOutput}`);
    await delay(50);
  }
}

/** SHUTDOWN (Redis finishes its AOF and exits), then waits for the process to end. */
async function shutdownRedis(): Promise<void> {
  const child = redisServer;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  admin.on('error', () => {});
  await admin.call('SHUTDOWN').catch(() => {});
  admin.disconnect();
  await Promise.race([exited, delay(10_000)]);
  assert.notEqual(child.exitCode, null, 'redis-server did not exit after SHUTDOWN');
}

async function startJobwait(): Promise<ServerProcess> {
  const instance = await spawnServer(await freePort(), ['--store', 'redis', '--redis-url', redisUrl, '--redis-prefix', prefix, '--rate-limit', '0', '--webhook-allow-hosts', '127.0.0.1']);
  started.push(instance);
  const until = Date.now() + 10_000;
  for (;;) {
    const res = await fetch(`${instance.url}/readyz`).catch(() => undefined);
    await res?.arrayBuffer();
    if (res?.status === 200) return instance;
    if (Date.now() > until) throw new Error(`instance on ${instance.url} never became ready:\n${instance.output()}`);
    await delay(50);
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jobwait-redis-restart-'));
  redisPort = await freePort();
  redisUrl = `redis://127.0.0.1:${redisPort}`;
  await startRedis();
  receiver = await startWebhookReceiver();
  a = await startJobwait();
  b = await startJobwait();
});

after(async () => {
  await Promise.allSettled(started.map((instance) => stopInstance(instance, 'SIGKILL')));
  await receiver?.close();
  if (redisServer && redisServer.exitCode === null) {
    const exited = new Promise<void>((resolve) => redisServer!.once('exit', () => resolve()));
    redisServer.kill('SIGKILL');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('restarting Redis under a cluster', () => {
  it('loses no completion and sends every webhook under one id, with waiters on another instance', { timeout: 120_000 }, async () => {
    const onB = new JobwaitClient({ baseUrl: b.url });
    const jobs: { id: string; expected: 'completed' | 'error' }[] = [];
    for (let i = 0; i < JOBS; i++) {
      const expected = i % 3 === 0 ? 'error' : 'completed';
      const res = await fetch(`${a.url}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ duration: 1 + (i % 4), outcome: expected, callbackUrl: `${receiver.url}/hook/${i}` }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      jobs.push({ id: ((await res.json()) as Job).id, expected });
    }
    const createdAt = Date.now();
    // Half by long-poll, half by stream, all on B.
    const waiters = jobs.map((job, i) =>
      onB.waitForJob(job.id, { strategy: i % 2 === 0 ? 'long-poll' : 'sse', timeoutMs: 90_000 }).then(
        (done) => ({ ok: true as const, job: done }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    );

    // Mid-way: the 1 s jobs are done, the 2–4 s ones are not.
    await delay(Math.max(0, createdAt + 1500 - Date.now()));
    const deliveredBefore = new Set(receiver.received.map((r) => r.headers['webhook-id'])).size;
    await shutdownRedis();
    await delay(DOWN_MS);
    await startRedis();

    const results = await Promise.all(waiters);
    for (const [i, result] of results.entries()) {
      assert.ok(result.ok, `waiter of job ${i} failed: ${String(!result.ok && result.error)}\nA:\n${a.output()}\nB:\n${b.output()}`);
      assert.equal(result.job.status, jobs[i]!.expected, `job ${i}`);
    }
    // The store agrees, on both instances.
    for (const on of [a, b]) {
      for (const job of jobs) {
        const res = await fetch(`${on.url}/v1/jobs/${job.id}`);
        assert.equal(res.status, 200);
        assert.equal(((await res.json()) as Job).status, job.expected);
      }
    }

    // Every job's webhook arrives, under the one id of its delivery.
    const deadline = Date.now() + 30_000;
    const byJob = (): Map<string, Set<string>> => {
      const map = new Map<string, Set<string>>();
      for (const r of receiver.received) {
        const body = JSON.parse(r.body) as { type: string; data: Job };
        const ids = map.get(body.data.id) ?? new Set<string>();
        ids.add(String(r.headers['webhook-id']));
        map.set(body.data.id, ids);
      }
      return map;
    };
    while (byJob().size < JOBS && Date.now() < deadline) await delay(100);
    const seen = byJob();
    const missing = jobs.filter((job) => !seen.has(job.id)).map((job) => job.id);
    if (missing.length > 0) {
      // What Redis holds for them: the job (settled or not) and its delivery (leased, pending, sent).
      const probe = new Redis(redisUrl);
      const state = await Promise.all(missing.map(async (id) => ({ id, job: await probe.hgetall(`${prefix}job:${id}`), deliveries: await Promise.all(['completed', 'failed'].map((e) => probe.hgetall(`${prefix}dlv:msg_${id}_${e}`))), now: Date.now() })));
      probe.disconnect();
      assert.fail(`jobs without a webhook: ${JSON.stringify(state, null, 1)}\nA:\n${a.output()}\nB:\n${b.output()}`);
    }
    for (const job of jobs) {
      const event = job.expected === 'completed' ? 'completed' : 'failed';
      assert.deepEqual([...seen.get(job.id)!], [`msg_${job.id}_${event}`], `job ${job.id}: one delivery id`);
    }
    for (const r of receiver.received) {
      const body = JSON.parse(r.body) as { type: string; data: Job };
      const job = jobs.find((j) => j.id === body.data.id);
      assert.ok(job, `a webhook for an unknown job ${body.data.id}`);
      assert.equal(body.type, job.expected === 'completed' ? 'job.completed' : 'job.failed');
      assert.equal(body.data.status, job.expected);
    }
    const repeats = receiver.received.length - JOBS;
    assert.ok(deliveredBefore > 0 && deliveredBefore < JOBS, `the restart came mid-way (${deliveredBefore} of ${JOBS} delivered before it)`);
    // Repeats (same webhook-id) happen only when an attempt's outcome could not be recorded during the outage.
    assert.ok(repeats <= JOBS, `${repeats} repeated deliveries`);
    console.log(`redis down ${DOWN_MS} ms; ${deliveredBefore} of ${JOBS} delivered before the restart; ${repeats} repeats`);
  });
});
