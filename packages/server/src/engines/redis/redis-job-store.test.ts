/**
 * What only the Redis store has to show, on the real Redis: atomic claims
 * when several instances (stores) share one Redis, retention of finished
 * jobs, and keys that stay inside their prefix and tenant.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { deleteKeys, TEST_REDIS_URL, testRedis, uniquePrefix } from '../../../../../test/helpers/redis.js';
import { JobIdFactory } from '../../jobs/job-id.js';
import type { JobRecord } from '../../jobs/job-record.js';
import { openRedisEngine } from './redis-engine.js';
import { RedisJobStore } from './redis-job-store.js';
import { redisKeys, tenantKey } from './redis-keys.js';
import { defineScripts } from './redis-scripts.js';

const ids = new JobIdFactory();

function makeJob(tenant: string, dueIn: number, now = Date.now()): JobRecord {
  return { id: ids.next(now), tenant, state: 'pending', outcome: 'completed', createdAt: now, dueAt: now + dueIn, updatedAt: now, duration: dueIn / 1000, version: 1 };
}

let redis: Redis;
const prefixes: string[] = [];
const engines: { close(): Promise<void> }[] = [];

function openStore(prefix: string, options: { retentionSeconds?: number } = {}): RedisJobStore {
  const engine = openRedisEngine({ url: TEST_REDIS_URL, prefix, retentionSeconds: options.retentionSeconds ?? 604_800 });
  engines.push(engine);
  return engine.jobs;
}

function newPrefix(): string {
  const prefix = uniquePrefix('redis-store');
  prefixes.push(prefix);
  return prefix;
}

before(() => {
  redis = testRedis();
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});
after(async () => {
  for (const prefix of prefixes) await deleteKeys(prefix);
  redis.disconnect();
});

describe('RedisJobStore shared by several instances', () => {
  it('settles each due job exactly once when instances race for them', async () => {
    const prefix = newPrefix();
    const [a, b, c] = [openStore(prefix), openStore(prefix), openStore(prefix)];
    const now = Date.now();
    const jobs = Array.from({ length: 300 }, (_, i) => makeJob('public', 10 + (i % 7), now));
    await Promise.all(jobs.map((job) => a.create(job)));
    const rounds = await Promise.all(Array.from({ length: 30 }, (_, i) => [a, b, c][i % 3]!.settleDue(now + 100, 25)));
    const settled = rounds.flat().map((j) => j.id);
    assert.equal(settled.length, jobs.length, 'every job settled');
    assert.equal(new Set(settled).size, settled.length, 'no job settled twice');
    assert.ok(rounds.flat().every((j) => j.version === 2 && j.state === 'completed'));
    assert.equal(await a.nextDueAt(), undefined);
  });

  it('creates one job for one Idempotency-Key however many instances receive it at once', async () => {
    const prefix = newPrefix();
    const instances = [openStore(prefix), openStore(prefix), openStore(prefix)];
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => instances[i % 3]!.create(makeJob('public', 60_000), { key: 'same', fingerprint: 'fp' })));
    const created = results.filter((r) => r.kind === 'created');
    assert.equal(created.length, 1);
    const id = created[0]!.kind === 'created' ? created[0]!.job.id : '';
    assert.ok(results.every((r) => r.kind !== 'mismatch' && r.job.id === id));
    assert.equal((await instances[1]!.list('public', { limit: 50 }, Date.now())).length, 1);
  });

  it('lets a cancel and a settle of the same job race: exactly one of them wins', async () => {
    const prefix = newPrefix();
    const [a, b] = [openStore(prefix), openStore(prefix)];
    const now = Date.now();
    const job = makeJob('public', 50, now);
    await a.create(job);
    // The cancel acts at a time before due, the settle after it: the script that runs first decides.
    const [canceled, settled] = await Promise.all([a.cancel('public', job.id, now + 10), b.settleDue(now + 60, 10)]);
    const wins = (canceled.kind === 'canceled' ? 1 : 0) + settled.length;
    assert.equal(wins, 1);
    const final = await b.get('public', job.id);
    assert.equal(final?.version, 2);
  });

  it('does not see the jobs of another prefix', async () => {
    const one = openStore(newPrefix());
    const two = openStore(newPrefix());
    const job = makeJob('public', 10);
    await one.create(job);
    assert.equal(await two.get('public', job.id), undefined);
    assert.deepEqual(await two.list('public', { limit: 10 }, Date.now()), []);
    assert.deepEqual(await two.settleDue(Date.now() + 1000, 10), []);
  });
});

describe('RedisJobStore retention and indexes', () => {
  it('expires a finished job after the retention and cleans it out of the indexes', async () => {
    const prefix = newPrefix();
    const store = openStore(prefix, { retentionSeconds: 60 });
    const now = Date.now();
    const settled = makeJob('public', 10, now);
    const canceled = makeJob('public', 60_000, now);
    const pending = makeJob('public', 3_600_000, now);
    for (const job of [settled, canceled, pending]) await store.create(job);
    await store.settleDue(now + 20, 10);
    await store.cancel('public', canceled.id, now + 30);
    const ttl = await redis.pttl(`${prefix}job:${settled.id}`);
    // Retention counts from the job's final time: its due time (now + 10).
    assert.ok(ttl > 50_000 && ttl <= 60_010, `settled job expires after the retention (pttl ${ttl})`);
    assert.ok((await redis.pttl(`${prefix}job:${canceled.id}`)) > 50_000);
    assert.equal(await redis.pttl(`${prefix}job:${pending.id}`), -1, 'a pending job never expires');
    // A minute later the prune (any instance) deletes them and their index entries.
    assert.deepEqual(await store.prune(now + 61_000, 500), { jobs: 2, deliveries: 0, idempotencyKeys: 0 });
    assert.deepEqual((await store.list('public', { limit: 10 }, now + 61_000)).map((j) => j.id), [pending.id]);
    assert.equal(await redis.zcard(`${prefix}t:public:jobs`), 1);
    assert.equal(await redis.zcard(`${prefix}t:public:changes`), 1);
    assert.equal(await redis.zcard(`${prefix}expiring`), 0);
    assert.equal(await redis.exists(`${prefix}job:${settled.id}`), 0);
    assert.deepEqual(await store.countByStatus('public', now + 61_000), { pending: 1, completed: 0, error: 0, canceled: 0 }, 'cleaned jobs leave the counts');
  });

  it('fills the counts of jobs stored before the status sets, a batch per call, and keeps them from then on', async () => {
    const prefix = newPrefix();
    const writer = openStore(prefix);
    const now = Date.now();
    const jobs = Array.from({ length: 7 }, (_, i) => ({ ...makeJob('public', i < 3 ? 10 : 60_000, now), outcome: i === 1 ? ('error' as const) : ('completed' as const) }));
    for (const job of jobs) await writer.create(job);
    await writer.settleDue(now + 20, 10);
    await writer.cancel('public', jobs[3]!.id, now + 30);
    const counts = { pending: 3, completed: 2, error: 1, canceled: 1 };
    assert.deepEqual(await writer.countByStatus('public', now + 30), counts);
    // As a store before the status sets left its data: no sets, no marker.
    await redis.del(...['pending', 'completed', 'error', 'canceled'].map((state) => `${prefix}t:public:status:${state}`), `${prefix}t:public:counted`);
    const reader = new RedisJobStore({ redis, keys: redisKeys(prefix), scripts: defineScripts(redis), retentionSeconds: 604_800, countBuildBatch: 2 });
    assert.deepEqual(await reader.countByStatus('public', now + 30), counts);
    assert.equal(await redis.get(`${prefix}t:public:counted`), 'done');
    await writer.cancel('public', jobs[4]!.id, now + 40);
    assert.deepEqual(await reader.countByStatus('public', now + 40), { ...counts, pending: 2, canceled: 2 });
  });

  it('drops index entries of jobs that vanished when a list or a resume meets them', async () => {
    const prefix = newPrefix();
    const store = openStore(prefix);
    const kept = makeJob('public', 60_000);
    const gone = makeJob('public', 60_000);
    await store.create(kept);
    await store.create(gone);
    await redis.del(`${prefix}job:${gone.id}`);
    assert.deepEqual((await store.list('public', { limit: 10 }, Date.now())).map((j) => j.id), [kept.id]);
    assert.equal(await redis.zscore(`${prefix}t:public:jobs`, gone.id), null);
    assert.deepEqual((await store.changedSince('public', 0, Date.now(), 10)).map((j) => j.id), [kept.id]);
    assert.equal(await redis.zscore(`${prefix}t:public:changes`, gone.id), null);
  });

  it('pages through a filtered list longer than one scan of the index', async () => {
    const store = openStore(newPrefix());
    const now = Date.now();
    const running = [makeJob('public', 60_000, now - 10), makeJob('public', 60_000, now - 9)];
    for (const job of running) await store.create(job);
    // 1200 newer jobs that are all past due: a `pending` filter must scan past them.
    await Promise.all(Array.from({ length: 1200 }, () => store.create(makeJob('public', 1, now - 5))));
    const page = await store.list('public', { status: 'pending', limit: 10 }, now);
    assert.deepEqual(page.map((j) => j.id), running.map((j) => j.id).reverse());
  });

  it('keeps tenants with awkward names apart (":" "|" "%" and non-ASCII are escaped in keys)', async () => {
    const store = openStore(newPrefix());
    const tenants = ['a:b', 'a', 'a|b', 'a%3Ab', 'ключ'];
    const now = Date.now();
    const jobs = tenants.map((tenant) => makeJob(tenant, 10, now));
    for (const job of jobs) await store.create(job, { key: 'k', fingerprint: 'fp' });
    for (const [i, tenant] of tenants.entries()) {
      assert.deepEqual((await store.list(tenant, { limit: 10 }, now)).map((j) => j.id), [jobs[i]!.id]);
      await store.setCurrentTimer(tenant, jobs[i]!.id);
    }
    assert.equal(new Set(tenants.map(tenantKey)).size, tenants.length);
    assert.equal((await store.settleDue(now + 20, 10)).length, tenants.length);
    for (const [i, tenant] of tenants.entries()) {
      assert.equal((await store.getCurrentTimer(tenant))?.id, jobs[i]!.id);
      assert.equal((await store.cancel(tenant, jobs[i]!.id, now)).kind, 'final');
      assert.deepEqual(await store.countByStatus(tenant, now + 20), { pending: 0, completed: 1, error: 0, canceled: 0 }, tenant);
    }
    // Current timers outlive retention; once replaced, they expire like any finished job.
    assert.equal((await store.prune(now + 8 * 86_400_000, 500)).jobs, 0);
    for (const tenant of tenants) {
      const next = makeJob(tenant, 60_000, now);
      await store.create(next);
      await store.setCurrentTimer(tenant, next.id);
    }
    assert.equal((await store.prune(now + 8 * 86_400_000, 500)).jobs, tenants.length);
    for (const [i, tenant] of tenants.entries()) assert.equal(await store.get(tenant, jobs[i]!.id), undefined);
  });

  it('fails ping quickly when Redis cannot be reached', async () => {
    const engine = openRedisEngine({ url: 'redis://127.0.0.1:1', prefix: 'unused:', retentionSeconds: 60, redisOptions: { retryStrategy: () => 200 } });
    engines.push(engine);
    const store = engine.jobs;
    const t0 = Date.now();
    await assert.rejects(store.ping());
    assert.ok(Date.now() - t0 < 3000);
  });
});

describe('RedisJobStore restart grace (the whole server was down)', () => {
  /** A reported job started `agoMs` ago and silent since, with a heartbeat timeout of `timeoutMs`. */
  function silentJob(now: number, agoMs: number, timeoutMs: number): JobRecord {
    const at = now - agoMs;
    return { id: ids.next(at), tenant: 'public', state: 'pending', createdAt: at, updatedAt: at, version: 2, startedAt: at, heartbeatAt: at, reportedAt: at, heartbeatTimeoutMs: timeoutMs, expiresAt: at + 86_400_000 };
  }

  it('gives running jobs one heartbeat interval when no instance was up for a while, and none when one was', async () => {
    const prefix = newPrefix();
    const keys = redisKeys(prefix);
    const now = Date.now();
    const a = openStore(prefix);
    // Started a minute ago, silent since, a 2 s heartbeat timeout: its stall came while the server was down.
    const job = silentJob(now, 60_000, 2000);
    await a.create(job);
    await redis.set(keys.serverAlive, String(now - 60_000));
    assert.equal(await a.restartGrace(now), 1);
    const graced = await a.getById(job.id);
    assert.equal(graced?.heartbeatAt, now);
    assert.equal(graced?.state, 'pending');
    assert.equal(graced?.version, job.version, 'the grace is no new version');
    assert.deepEqual(await a.settleDue(now + 1000, 10), [], 'not stalled within the interval after the return');
    // Another instance joining the server that is up again finds no outage.
    const b = openStore(prefix);
    assert.equal(await b.restartGrace(now + 500), 0);
    const stalled = await b.settleDue(now + 2001, 10);
    assert.deepEqual(stalled.map((j) => [j.id, j.state, j.error?.code]), [[job.id, 'error', 'JOBWAIT_ERR_JOB_STALLED']]);
  });

  it('graces, on a settling instance, a job the instance that found the outage has not reached yet', async () => {
    const prefix = newPrefix();
    const keys = redisKeys(prefix);
    const now = Date.now();
    const store = openStore(prefix);
    const job = silentJob(now, 60_000, 2000);
    await store.create(job);
    // Another instance found the outage a second ago (up-since) and is still going through the jobs.
    await redis.set(keys.upSince, String(now - 1000));
    await redis.set(keys.serverAlive, String(now));
    assert.equal(await store.restartGrace(now), 0, 'this instance finds the server up');
    assert.deepEqual(await store.settleDue(now, 10), []);
    assert.equal((await store.getById(job.id))?.heartbeatAt, now - 1000);
    assert.equal((await store.settleDue(now + 1001, 10))[0]?.error?.code, 'JOBWAIT_ERR_JOB_STALLED', 'it stalls one interval after the return');
  });
});
