/**
 * Jobs survive a restart: the real server on a real SQLite file in a temp
 * folder, closed and reopened on the same folder.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { JobwaitClient, TimerClient, type Job } from '@jobwait/client';
import { buildServer } from '@jobwait/server';

interface Running {
  app: Awaited<ReturnType<typeof buildServer>>;
  url: string;
  client: JobwaitClient;
  timer: TimerClient;
}

async function startServer(dataDir: string): Promise<Running> {
  const app = await buildServer({ store: 'sqlite', dataDir, logLevel: 'silent' });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, client: new JobwaitClient({ baseUrl: url, retry: false }), timer: new TimerClient({ baseUrl: url, retry: false }) };
}

describe('a restart on the same data dir', () => {
  let dataDir: string;
  /** Jobs as the first server created them. */
  let long: Job;
  let short: Job;
  let longTimer: Job;
  let shortTimer: Job;
  /** Replay of an idempotent create, sent to the second server. */
  let restarted: Running | undefined;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'jobwait-persistence-'));
    const first = await startServer(dataDir);
    try {
      long = await first.client.createJob({ duration: 60, metadata: { name: 'long' } }, { idempotencyKey: 'persist-long' });
      short = await first.client.createJob({ duration: 1, metadata: { name: 'short' } });
      // The seed API: the current timer is the last one started (a short one, due while the server is down).
      await first.timer.startTimer(60);
      await first.timer.startTimer(1);
      const jobs = (await first.client.listJobs()).jobs;
      [shortTimer, longTimer] = jobs as [Job, Job];
      assert.equal((await first.client.getJob(short.id)).status, 'pending', 'the short job is still pending when the server closes');
      assert.deepEqual(await first.timer.getTimerStatus({ wait: false }), { result: 'pending' });
    } finally {
      await first.app.close();
    }
    assert.ok(existsSync(join(dataDir, 'jobwait.db')), 'the SQLite file is in the data dir');
    // Down while the short jobs fall due: nothing settles them until the next start.
    const latestDue = Math.max(Date.parse(short.dueAt!), Date.parse(shortTimer.dueAt!));
    await delay(Math.max(0, latestDue - Date.now()) + 200);
    restarted = await startServer(dataDir);
  });

  after(async () => {
    await restarted?.app.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('keeps every job', async () => {
    const { client } = restarted!;
    const ids = (await client.listJobs()).jobs.map((j) => j.id);
    assert.deepEqual(ids, [shortTimer.id, longTimer.id, short.id, long.id], 'all four, newest first');
  });

  test('the short job, due while the server was down, reads completed with version 2', async () => {
    const job = await restarted!.client.getJob(short.id);
    assert.equal(job.status, 'completed');
    assert.equal(job.version, 2);
    assert.equal(job.progress, 1);
    assert.equal(job.etaMs, 0);
    assert.equal(job.createdAt, short.createdAt);
    assert.equal(job.dueAt, short.dueAt);
    assert.equal(job.updatedAt, short.dueAt, 'settled as of its due time, not of the restart');
    assert.deepEqual(job.metadata, { name: 'short' });
    // Not only read as completed: the restarted server settled it in the store when it started.
    const record = await restarted!.app.jobs.get('public', short.id);
    assert.equal(record?.state, 'completed');
    assert.equal(record?.version, 2);
  });

  test('the long job is still pending, with its original due time', async () => {
    const job = await restarted!.client.getJob(long.id);
    assert.equal(job.status, 'pending');
    assert.equal(job.version, 1);
    assert.equal(job.dueAt, long.dueAt);
    assert.ok(job.etaMs! > 0 && job.etaMs! < 60_000, `etaMs ${job.etaMs}`);
    assert.ok(job.progress > 0 && job.progress < 1, `progress ${job.progress}`);
    assert.deepEqual(job.metadata, { name: 'long' });
  });

  test('the status filter sees the settled and the pending jobs', async () => {
    const { client } = restarted!;
    assert.deepEqual(
      (await client.listJobs({ status: 'pending' })).jobs.map((j) => j.id),
      [longTimer.id, long.id],
    );
    assert.deepEqual(
      (await client.listJobs({ status: 'completed' })).jobs.map((j) => j.id),
      [shortTimer.id, short.id],
    );
  });

  test('GET /status still reports the last timer started before the restart', async () => {
    const response = await fetch(`${restarted!.url}/status`);
    assert.equal(response.status, 200);
    // The last timer (1 s) is completed; the one before it (60 s) would still read pending.
    assert.equal(await response.text(), '{"result":"completed"}');
    assert.deepEqual(await restarted!.timer.getTimerStatus({ wait: false }), { result: 'completed' });
  });

  test('an Idempotency-Key used before the restart still replays the same job', async () => {
    const replay = await fetch(`${restarted!.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'persist-long' },
      body: JSON.stringify({ duration: 60, metadata: { name: 'long' } }),
    });
    assert.equal(replay.status, 201);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(((await replay.json()) as Job).id, long.id);
    assert.equal((await restarted!.client.listJobs()).jobs.length, 4, 'no twin');
  });

  test('a job canceled after the restart stays canceled', async () => {
    const { client } = restarted!;
    const canceled = await client.cancelJob(long.id);
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.version, 2);
    assert.equal((await client.getJob(long.id)).status, 'canceled');
  });
});

describe('a fresh data dir', () => {
  test('starts with no timer and no jobs', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'jobwait-persistence-'));
    const server = await startServer(join(dataDir, 'nested', 'data'));
    try {
      const response = await fetch(`${server.url}/status`);
      assert.equal(response.status, 404);
      assert.equal(await response.text(), '{"error":"No timer started"}');
      assert.deepEqual((await server.client.listJobs()).jobs, []);
      assert.ok(existsSync(join(dataDir, 'nested', 'data', 'jobwait.db')), 'missing folders are created');
    } finally {
      await server.app.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
