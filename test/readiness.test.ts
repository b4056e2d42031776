/**
 * Issue 9: `/readyz` says whether this instance can serve — false (503)
 * while its store does not answer (a failing or hanging store, a stopped
 * Redis) and true again once it is back — while `/healthz` stays up.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { openEngine, SERVER_DEFAULTS, type JobStore } from '@jobwait/server';
import { metricValue, scrape } from './helpers/prometheus.js';
import { uniquePrefix } from './helpers/redis.js';
import { freePort } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

/** A memory engine whose job store's ping fails or hangs on demand. */
function sickEngine() {
  const engine = openEngine({ ...SERVER_DEFAULTS, store: 'memory' });
  const store = Object.assign(Object.create(engine.jobs) as JobStore, {
    mode: 'well' as 'well' | 'failing' | 'hanging',
    async ping(this: { mode: string }): Promise<void> {
      if (this.mode === 'failing') throw new Error('disk I/O error');
      if (this.mode === 'hanging') await new Promise<void>(() => {});
    },
  });
  return { store, engine: { ...engine, jobs: store } };
}

async function readyz(url: string): Promise<{ status: number; body: { status: string } }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string } };
}

/** Polls `/readyz` until it answers `status`. */
async function untilReady(url: string, status: number, timeoutMs: number): Promise<{ status: number; body: { status: string } }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await readyz(url);
    if (answer.status === status) return answer;
    if (Date.now() > deadline) throw new Error(`/readyz still ${answer.status} ${JSON.stringify(answer.body)} after ${timeoutMs} ms`);
    await delay(100);
  }
}

describe('/readyz follows the store', () => {
  it('is 503 while the store fails or hangs and 200 again when it answers; /healthz stays 200', async () => {
    const { store, engine } = sickEngine();
    const server = await startTestServer({}, { engine });
    try {
      assert.deepEqual(await readyz(server.url), { status: 200, body: { status: 'ready' } });
      store.mode = 'failing';
      assert.deepEqual(await readyz(server.url), { status: 503, body: { status: 'store unavailable' } });
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'alive though not ready');
      store.mode = 'hanging';
      const t0 = Date.now();
      assert.deepEqual(await readyz(server.url), { status: 503, body: { status: 'store unavailable' } });
      assert.ok(Date.now() - t0 < 10_000, 'a hanging store is given up on after the readiness timeout');
      store.mode = 'well';
      assert.deepEqual(await readyz(server.url), { status: 200, body: { status: 'ready' } });
    } finally {
      await server.close();
    }
  });
});

const haveRedisServer = spawnSync('redis-server', ['--version']).status === 0;

/** A private Redis on `port` that this test may stop and start. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() !== 'PONG') {
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await delay(50);
  }
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('/readyz follows Redis (--store redis)', { skip: haveRedisServer ? false : 'redis-server is not installed (apt-get install redis-server)' }, () => {
  it('turns 503 when Redis is stopped and 200 again when it is back', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    let server: TestServer | undefined;
    try {
      server = await startTestServer({ store: 'redis', redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: uniquePrefix('readyz') });
      await untilReady(server.url, 200, 10_000);
      await stopRedis(redis);
      const down = await untilReady(server.url, 503, 15_000);
      assert.match(down.body.status, /unavailable/);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      // The API says the same as /readyz: 503 with Retry-After, not a 500 that reads as a bug.
      const job: RequestInit = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ duration: 5 }) };
      const requests: Array<[string, RequestInit]> = [['/v1/jobs', job], ['/v1/jobs', {}], ['/v1/jobs/job_01J0000000000000000000000Z', {}], ['/start-timer', job], ['/status', {}]];
      for (const [path, init] of requests) {
        const answer: Response = await fetch(`${server.url}${path}`, init);
        const text = await answer.text();
        assert.equal(answer.status, 503, `${path}: ${text}`);
        assert.equal(answer.headers.get('retry-after'), '1', path);
        if (path.startsWith('/v1')) assert.equal((JSON.parse(text) as { code: string }).code, 'JOBWAIT_ERR_UNAVAILABLE', path);
      }
      redis = await startRedis(port);
      await untilReady(server.url, 200, 30_000);
      const samples = await scrape(server.url);
      assert.ok(metricValue(samples, 'jobwait_store_errors_total', { component: 'redis', operation: 'connection' }) >= 1, 'the outage is counted');
      assert.ok(metricValue(samples, 'jobwait_store_errors_total', { component: 'store', operation: 'ping' }) >= 1, 'failed readiness pings are counted');
    } finally {
      await server?.close();
      await stopRedis(redis);
    }
  });
});
