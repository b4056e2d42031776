/**
 * The Redis change feed on the real Redis: changes cross instances once, and
 * a subscriber that lost its connection re-reads what it may have missed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { clientIdByName, deleteKeys, TEST_REDIS_URL, testRedis, uniquePrefix } from '../../../../../test/helpers/redis.js';
import type { JobChange } from '../../feed/change-feed.js';
import { JobIdFactory } from '../../jobs/job-id.js';
import type { JobRecord } from '../../jobs/job-record.js';
import { closeRedis, openRedis } from './redis-connection.js';
import { RedisFeed } from './redis-feed.js';
import { RedisJobStore } from './redis-job-store.js';
import { redisKeys } from './redis-keys.js';
import { defineScripts } from './redis-scripts.js';

const ids = new JobIdFactory();
let redis: Redis;
const prefix = uniquePrefix('redis-feed');
const opened: { close(): Promise<void> }[] = [];

function makeJob(dueIn = 60_000, tenant = 'public'): JobRecord {
  const now = Date.now();
  return { id: ids.next(now), tenant, state: 'pending', outcome: 'completed', createdAt: now, dueAt: now + dueIn, updatedAt: now, duration: dueIn / 1000, version: 1 };
}

/** A job store on a connection of its own (closed with the test's other openings). */
function openStore(): { store: RedisJobStore; redis: Redis } {
  const redis = openRedis(TEST_REDIS_URL, 'store');
  opened.push({ close: () => closeRedis(redis) });
  return { store: new RedisJobStore({ redis, keys: redisKeys(prefix), scripts: defineScripts(redis), retentionSeconds: 604_800 }), redis };
}

/** One "instance": a store and its feed, optionally with a subscriber connection the test can find and kill. */
async function instance(subscriberName?: string): Promise<{ store: RedisJobStore; feed: RedisFeed }> {
  const { store, redis: publisher } = openStore();
  const subscriber = subscriberName
    ? new Redis(TEST_REDIS_URL, { connectionName: subscriberName, autoResubscribe: false, maxRetriesPerRequest: null, retryStrategy: () => 300 })
    : undefined;
  const feed = new RedisFeed({ publisher, prefix, source: store, ...(subscriber ? { subscriber } : {}) });
  opened.unshift(feed);
  await feed.whenSubscribed();
  return { store, feed };
}

/** Resolves with the first change `take` accepts. */
function nextChange(subscribe: (listener: (c: JobChange) => void) => Promise<() => void>, take: (c: JobChange) => boolean = () => true): Promise<JobChange> {
  return new Promise((resolve) => {
    let unsubscribe: (() => void) | undefined;
    let done = false;
    void subscribe((change) => {
      if (done || !take(change)) return;
      done = true;
      unsubscribe?.();
      resolve(change);
    }).then((u) => {
      unsubscribe = u;
      if (done) u();
    });
  });
}

before(() => {
  redis = testRedis();
});
afterEach(async () => {
  for (const item of opened.splice(0)) await item.close();
});
after(async () => {
  await deleteKeys(prefix);
  redis.disconnect();
});

describe('RedisFeed', () => {
  it('carries a change to the job and tenant subscribers of another instance', async () => {
    const a = await instance();
    const b = await instance();
    const job = makeJob();
    const forJob = nextChange((l) => b.feed.subscribeJob(job.id, l));
    const forTenant = nextChange((l) => b.feed.subscribeTenant('public', l));
    const remote: JobChange[] = [];
    b.feed.onRemoteChange((c) => remote.push(c));
    await a.feed.publish({ tenant: 'public', job });
    assert.deepEqual((await forJob).job, job);
    assert.deepEqual((await forTenant).job, job);
    assert.deepEqual(remote.map((c) => c.job.id), [job.id]);
  });

  it('delivers its own changes locally once, not again when they come back from the channel', async () => {
    const a = await instance();
    const job = makeJob();
    const seen: JobChange[] = [];
    const remote: JobChange[] = [];
    await a.feed.subscribeJob(job.id, (c) => seen.push(c));
    a.feed.onRemoteChange((c) => remote.push(c));
    await a.feed.publish({ tenant: 'public', job });
    assert.equal(seen.length, 1, 'delivered at once, before the round trip');
    await delay(100);
    assert.equal(seen.length, 1);
    assert.equal(remote.length, 0);
  });

  it('ignores malformed messages on the channel', async () => {
    const b = await instance();
    const job = makeJob();
    const seen: JobChange[] = [];
    await b.feed.subscribeTenant('public', (c) => seen.push(c));
    await redis.publish(b.feed.channel, 'not json');
    await redis.publish(b.feed.channel, JSON.stringify({ o: 'x', t: 'public', j: { id: 1 } }));
    await redis.publish(b.feed.channel, JSON.stringify({ o: 'x', t: 'other', j: job }));
    await redis.publish(b.feed.channel, JSON.stringify({ o: 'x', t: 'public', j: job }));
    await delay(100);
    assert.deepEqual(seen.map((c) => c.job.id), [job.id]);
  });

  it('after losing its connection, re-reads the jobs and tenants it follows and delivers what it missed', async () => {
    const name = `jobwait-test-sub-${randomBytes(4).toString('hex')}`;
    const a = await instance();
    const b = await instance(name);
    const followed = makeJob();
    const created = makeJob();
    await a.store.create(followed);
    const missedJob = nextChange((l) => b.feed.subscribeJob(followed.id, l));
    const missedTenant: JobChange[] = [];
    await b.feed.subscribeTenant('public', (c) => missedTenant.push(c));
    let resynced = 0;
    b.feed.onResync(() => resynced++);
    const resyncsBefore = b.feed.resyncs;

    const id = await clientIdByName(redis, name);
    assert.ok(id, 'found the subscriber connection');
    await redis.client('KILL', 'ID', id);
    // B is disconnected (it reconnects after 300 ms): these messages never reach it.
    const canceled = await a.store.cancel('public', followed.id, Date.now());
    assert.equal(canceled.kind, 'canceled');
    await a.feed.publish({ tenant: 'public', job: canceled.kind === 'canceled' ? canceled.job : followed });
    await a.store.create(created);
    await a.feed.publish({ tenant: 'public', job: created });

    const change = await missedJob;
    assert.equal(change.job.state, 'canceled');
    assert.equal(change.job.version, 2);
    // Tenant streams are resynced after the jobs, then the resync listeners run.
    for (let i = 0; i < 100 && resynced === 0; i++) await delay(10);
    assert.equal(b.feed.resyncs, resyncsBefore + 1);
    assert.equal(resynced, 1);
    assert.ok(b.feed.isSubscribed);
    assert.deepEqual(new Set(missedTenant.map((c) => c.job.id)), new Set([followed.id, created.id]));
    // And the live channel works again afterwards.
    const later = makeJob();
    const live = nextChange((l) => b.feed.subscribeJob(later.id, l));
    await a.feed.publish({ tenant: 'public', job: later });
    assert.equal((await live).job.id, later.id);
  });

  it('does not lose a change published before its first subscription', async () => {
    const a = await instance();
    const { store, redis: publisher } = openStore();
    const job = makeJob();
    await store.create(job);
    // A feed made but not yet subscribed: a waiter that subscribes now must still learn of the cancel.
    const feed = new RedisFeed({ publisher, prefix, source: store });
    opened.unshift(feed);
    const woken = nextChange((l) => feed.subscribeJob(job.id, l), (c) => c.job.state === 'canceled');
    const canceled = await a.store.cancel('public', job.id, Date.now());
    if (canceled.kind === 'canceled') await a.feed.publish({ tenant: 'public', job: canceled.job });
    assert.equal((await woken).job.state, 'canceled');
  });
});
