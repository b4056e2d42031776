/**
 * Issue 5: API keys, tenant isolation on every route, and rate limits the
 * client lives with.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JobwaitClient, TimerClient, type Job } from '@jobwait/client';
import { generateApiKey, openEngine, SERVER_DEFAULTS } from '@jobwait/server';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';

const alice = generateApiKey();
const bob = generateApiKey();
const revoked = generateApiKey();

describe('API keys and tenant isolation', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobwait-keys-'));
    const engine = openEngine({ ...SERVER_DEFAULTS, store: 'sqlite', dataDir: dir });
    await engine.keys.add({ id: revoked.id, name: 'old', hash: revoked.hash, createdAt: Date.now() });
    await engine.keys.revoke(revoked.id, Date.now());
    await engine.close();
    server = await startTestServer({ store: 'sqlite', dataDir: dir, apiKeys: [alice.key, bob.key] });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const as = (key: string | undefined) => (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, { ...init, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(init.headers as Record<string, string>) } });

  it('refuses a request without a key with 401 problem and WWW-Authenticate', async () => {
    const res = await as(undefined)('/v1/jobs');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="jobwait"');
    assert.equal(((await res.json()) as { code: string }).code, 'JOBWAIT_ERR_UNAUTHORIZED');
  });

  it('refuses a revoked key, a malformed key and a key with a wrong secret', async () => {
    for (const key of [revoked.key, 'not-a-key', `jw_${alice.id}_${'A'.repeat(43)}`]) {
      const res = await as(key)('/v1/jobs');
      assert.equal(res.status, 401, key);
    }
  });

  it('answers the seed endpoints in the seed format when the key is missing', async () => {
    const res = await as(undefined)('/status');
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: 'Unauthorized: invalid or missing API key' });
  });

  it("hides one key's job from another on every route (404, never 403)", async () => {
    const a = new JobwaitClient({ baseUrl: server.url, apiKey: alice.key });
    const job = await a.createJob({ duration: 30 });
    const asBob = as(bob.key);
    for (const [method, path] of [
      ['GET', `/v1/jobs/${job.id}`],
      ['GET', `/v1/jobs/${job.id}?wait=1`],
      ['DELETE', `/v1/jobs/${job.id}`],
      ['GET', `/v1/jobs/${job.id}/events`],
      ['GET', `/v1/jobs/${job.id}/deliveries`],
    ] as const) {
      const res = await asBob(path, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      const body = (await res.json()) as { code: string };
      assert.match(body.code, /NOT_FOUND/, `${method} ${path}`);
    }
    const bobList = (await (await asBob('/v1/jobs')).json()) as { jobs: Job[] };
    assert.ok(!bobList.jobs.some((j) => j.id === job.id));
    const aliceList = await a.listJobs();
    assert.ok(aliceList.jobs.some((j) => j.id === job.id));
    assert.equal((await a.getJob(job.id)).status, 'pending', 'the job survived the other key poking at it');
    await a.cancelJob(job.id);
  });

  it("keeps each key's seed timer apart", async () => {
    const ta = new TimerClient({ baseUrl: server.url, apiKey: alice.key });
    const tb = new TimerClient({ baseUrl: server.url, apiKey: bob.key });
    await ta.startTimer(30);
    const bobStatus = await as(bob.key)('/status');
    assert.equal(bobStatus.status, 404);
    assert.deepEqual(await bobStatus.json(), { error: 'No timer started' });
    await tb.startTimer(0.1);
    assert.deepEqual(await tb.getTimerStatus({ timeoutMs: 5000 }), { result: 'completed' });
    assert.deepEqual(await ta.getTimerStatus({ wait: false }), { result: 'pending' });
  });

  it("streams only the caller's jobs on GET /v1/events", async () => {
    const controller = new AbortController();
    const res = await as(bob.key)('/v1/events', { signal: controller.signal });
    assert.equal(res.status, 200);
    const a = new JobwaitClient({ baseUrl: server.url, apiKey: alice.key });
    const b = new JobwaitClient({ baseUrl: server.url, apiKey: bob.key });
    const aliceJob = await a.createJob({ duration: 0.1 });
    const bobJob = await b.createJob({ duration: 0.2 });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes(`"id":"${bobJob.id}","status":"completed"`)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    assert.ok(text.includes(bobJob.id));
    assert.ok(!text.includes(aliceJob.id), "alice's job never shows on bob's stream");
  });

  it('serves health, docs and the OpenAPI document without a key', async () => {
    for (const path of ['/healthz', '/readyz', '/openapi.json']) assert.equal((await as(undefined)(path)).status, 200, path);
  });
});

describe('rate limits', () => {
  let server: TestServer;
  const key = generateApiKey();
  let accepted = 0;
  let refused = 0;
  before(async () => {
    server = await startTestServer({ apiKeys: [key.key], rateLimit: 10, rateBurst: 5 });
    server.app.server.on('request', (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      res.on('finish', () => {
        if (!req.url?.startsWith('/v1/')) return;
        if (res.statusCode === 429) refused++;
        else accepted++;
      });
    });
  });
  after(() => server.close());

  it('sends RateLimit and RateLimit-Policy on every API answer', async () => {
    const res = await fetch(`${server.url}/v1/jobs`, { headers: { authorization: `Bearer ${key.key}` } });
    assert.equal(res.headers.get('ratelimit-policy'), '"default";q=5;w=1');
    assert.match(res.headers.get('ratelimit') ?? '', /^"default";r=\d+;t=\d+$/);
  });

  it('answers 429 with Retry-After and a problem once the burst is spent', async () => {
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => fetch(`${server.url}/v1/jobs`, { headers: { authorization: `Bearer ${key.key}` } })),
    );
    const limited = responses.filter((r) => r.status === 429);
    assert.ok(limited.length >= 5, `429s: ${limited.length}`);
    assert.ok(Number(limited[0]!.headers.get('retry-after')) >= 1);
    assert.equal(((await limited[0]!.json()) as { code: string }).code, 'JOBWAIT_ERR_RATE_LIMITED');
    await Promise.all(responses.map((r) => r.arrayBuffer().catch(() => undefined)));
  });

  it('a client under a low limit finishes all its jobs without an error, and the server admitted no more than the limit', async () => {
    await new Promise((r) => setTimeout(r, 1000));
    accepted = 0;
    refused = 0;
    const client = new JobwaitClient({ baseUrl: server.url, apiKey: key.key });
    const t0 = Date.now();
    const jobs = await Promise.all(Array.from({ length: 15 }, (_, i) => client.createJob({ duration: 0.2 + (i % 3) * 0.2 })));
    const done = await Promise.all(jobs.map((j) => client.waitForJob(j.id, { timeoutMs: 60_000 })));
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(done.every((j) => j.status === 'completed'));
    // A token bucket admits at most burst + rate x time.
    assert.ok(accepted <= 5 + 10 * seconds + 1, `accepted ${accepted} in ${seconds.toFixed(1)} s`);
    assert.ok(accepted >= 30, 'every job was created and waited on');
    assert.equal((await client.listJobs({ limit: 100 })).jobs.length >= 15, true);
  });
});

describe('rate limits in a cluster', () => {
  const prefix = uniquePrefix('ratelimit');
  const key = generateApiKey();
  const servers: TestServer[] = [];
  before(async () => {
    for (let i = 0; i < 2; i++) {
      servers.push(await startTestServer({ store: 'redis', redisUrl: TEST_REDIS_URL, redisPrefix: prefix, apiKeys: [key.key], rateLimit: 1, rateBurst: 6 }));
    }
  });
  after(async () => {
    for (const server of servers) await server.close();
    await deleteKeys(prefix);
  });

  it('shares one bucket per key across instances through Redis', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${servers[i % 2]!.url}/v1/jobs`, { headers: { authorization: `Bearer ${key.key}` } });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    const admitted = statuses.filter((s) => s === 200).length;
    // Six in the burst plus at most a token or two refilled during the run: far below the 12 two separate buckets would admit.
    assert.ok(admitted >= 6 && admitted <= 8, `admitted ${admitted}: ${statuses.join(' ')}`);
    assert.ok(statuses.slice(8).every((s) => s === 429));
  });
});
