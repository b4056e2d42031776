/**
 * Issue 8: the hot reads (`http/hot-reads.ts`) answer `GET /v1/jobs/{id}` and
 * `GET /status` outside Fastify's pipeline. Two servers share one store and
 * one clock, one with the hot reads and one without; every request goes to
 * both, and the answers must match byte for byte (status, header lines in
 * order, body), as must the metrics and the request log lines.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { buildServer, generateApiKey, openEngine, SERVER_DEFAULTS, type ServerDeps, type ServerOptions } from '@jobwait/server';
import type { FastifyInstance } from 'fastify';

/** One answer as it was on the wire: header lines in order (without Date), body bytes. */
interface Answer {
  status: number;
  headers: string[];
  body: string;
}

function exchange(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers: { 'x-request-id': 'same-id-for-both', ...headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const lines: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() !== 'date') lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
        resolve({ status: res.statusCode ?? 0, headers: lines, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A server built with `options`, listening, that records which URLs reached Fastify's hooks. */
async function start(options: ServerOptions, deps: ServerDeps = {}): Promise<{ app: FastifyInstance; url: string; seenByFastify: string[] }> {
  const app = await buildServer({ logLevel: 'silent', ...options }, deps);
  const seenByFastify: string[] = [];
  app.addHook('onRequest', async (req) => void seenByFastify.push(`${req.method} ${req.url}`));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, seenByFastify };
}

/** Starts a pair (hot reads on / off) on one store and clock. */
async function startPair(dir: string, options: ServerOptions, deps: ServerDeps = {}) {
  // Two engines on one file: the same jobs, and each server its own rate-limit buckets.
  const open = () => openEngine({ ...SERVER_DEFAULTS, store: 'sqlite', dataDir: dir, now: deps.now });
  const hot = await start({ ...options, hotReads: true }, { ...deps, engine: open() });
  const plain = await start({ ...options, hotReads: false }, { ...deps, engine: open() });
  return {
    hot,
    plain,
    /** Sends the same request to both; asserts the answers are the same and returns it. */
    async both(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
      const [a, b] = [await exchange(hot.url, path, headers, method), await exchange(plain.url, path, headers, method)];
      assert.deepEqual(a, b, `${method} ${path} ${JSON.stringify(headers)}: the hot reads answered differently`);
      return a;
    },
    async close() {
      await hot.app.close();
      await plain.app.close();
    },
  };
}

const T0 = Date.parse('2026-06-01T12:00:00.000Z');

describe('hot reads answer exactly as the Fastify routes do', () => {
  let dir: string;
  let t = T0;
  let pair: Awaited<ReturnType<typeof startPair>>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobwait-hot-'));
    // Creates go to one server only: without limits, the other's buckets cannot fall out of step.
    pair = await startPair(dir, { rateLimit: 0 }, { now: () => t });
  });
  after(async () => {
    await pair.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function create(body: unknown): Promise<{ id: string }> {
    const res = await fetch(`${pair.plain.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 201);
    return (await res.json()) as { id: string };
  }

  it('reads pending, completed, failed and canceled jobs, with If-None-Match, and /status, the same way', async () => {
    const status404 = await pair.both('/status');
    assert.equal(status404.status, 404);
    const pending = await create({ duration: 100, metadata: { customer: 'ü', nested: [1, { deep: true }], n: 1.5 } });
    const failing = await create({ duration: 1, outcome: 'error' });
    const completing = await create({ duration: 2 });
    const canceled = await create({ duration: 50 });
    assert.equal((await fetch(`${pair.plain.url}/v1/jobs/${canceled.id}`, { method: 'DELETE' })).status, 200);
    assert.equal((await fetch(`${pair.plain.url}/start-timer`, { method: 'POST', body: '{"duration": 5}' })).status, 200);

    const first = await pair.both(`/v1/jobs/${pending.id}`);
    assert.equal(first.status, 200);
    assert.match(first.body, /"status":"pending"/);
    assert.ok(first.headers.includes('retry-after: 100'));
    const statusPending = await pair.both('/status');
    assert.equal(statusPending.body, '{"result":"pending"}');

    t += 3_000;
    for (const job of [pending, failing, completing, canceled]) {
      const answer = await pair.both(`/v1/jobs/${job.id}`);
      assert.equal(answer.status, 200);
    }
    assert.match((await pair.both(`/v1/jobs/${failing.id}`)).body, /"status":"error","progress":1.*"error":\{"code":"JOB_FAILED"/);
    assert.match((await pair.both(`/v1/jobs/${canceled.id}`)).body, /"status":"canceled"/);

    const etag = (await pair.both(`/v1/jobs/${completing.id}`)).headers.find((h) => h.startsWith('etag: '))!.slice('etag: '.length);
    assert.equal((await pair.both(`/v1/jobs/${completing.id}`, { 'if-none-match': etag })).status, 304);
    assert.equal((await pair.both(`/v1/jobs/${completing.id}`, { 'if-none-match': `"other", ${etag}` })).status, 304);
    assert.equal((await pair.both(`/v1/jobs/${completing.id}`, { 'if-none-match': `W/"${completing.id}.1"` })).status, 200);
    assert.equal((await pair.both(`/v1/jobs/${completing.id}`, { 'if-none-match': `W/"${pending.id}.2"` })).status, 200);

    t += 3_000;
    assert.equal((await pair.both('/status')).body, '{"result":"completed"}');
  });

  it('leaves to Fastify what it does not answer, and Fastify answers it as before', async () => {
    const job = await create({ duration: 100 });
    const before = pair.hot.seenByFastify.length;
    await pair.both(`/v1/jobs/${job.id}`);
    await pair.both('/status');
    assert.equal(pair.hot.seenByFastify.length, before, 'plain reads never reach Fastify on the hot server');

    const passed: [string, Record<string, string>?, string?][] = [
      ['/v1/jobs/job_00000000000000000000000000'],
      ['/v1/jobs/not-a-job-id'],
      [`/v1/jobs/${job.id}/`],
      [`/v1/jobs/${job.id}?wait=0`],
      [`/v1/jobs/${job.id}`, { prefer: 'wait=0' }],
      [`/v1/jobs/${job.id}`, {}, 'HEAD'],
      [`/v1/jobs/${encodeURIComponent(job.id)}%2F`],
    ];
    for (const [path, headers, method] of passed) {
      await pair.both(path, headers, method);
      assert.equal(pair.hot.seenByFastify.at(-1), `${method ?? 'GET'} ${path}`, `${path} went to Fastify`);
    }
    assert.equal((await pair.both('/v1/jobs/job_00000000000000000000000000')).status, 404);
  });

  it('counts its answers in the same metric series', async () => {
    const scrape = async (url: string): Promise<string[]> => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return text.split('\n').filter((line) => /^jobwait_http_request(s_total|_duration_seconds_count)\{.*route="\/(v1\/jobs\/:id|status)".*method="GET"/.test(line));
    };
    const [hot, plain] = [await scrape(pair.hot.url), await scrape(pair.plain.url)];
    assert.ok(hot.some((line) => line.includes('status="200"') && line.startsWith('jobwait_http_requests_total')));
    assert.ok(hot.some((line) => line.includes('status="304"')));
    assert.deepEqual(hot.sort(), plain.sort());
  });
});

describe('hot reads with API keys and rate limits', () => {
  const alice = generateApiKey();
  const bob = generateApiKey();
  let dir: string;
  let pair: Awaited<ReturnType<typeof startPair>>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobwait-hot-keys-'));
    const now = Date.now();
    // A stopped clock: the buckets never refill, so both servers see the same token counts.
    pair = await startPair(dir, { apiKeys: [alice.key, bob.key], rateLimit: 1, rateBurst: 4 }, { now: () => now });
  });
  after(async () => {
    await pair.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses, isolates and limits exactly as the Fastify routes do', async () => {
    const res = await fetch(`${pair.plain.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.key}` }, body: '{"duration":60}' });
    const job = (await res.json()) as { id: string };
    const asAlice = { authorization: `Bearer ${alice.key}` };
    // The create took a token on one server: take one on the other too, so both buckets agree.
    assert.equal((await fetch(`${pair.hot.url}/v1/jobs`, { headers: asAlice })).status, 200);
    assert.equal((await pair.both(`/v1/jobs/${job.id}`)).status, 401);
    assert.equal((await pair.both(`/v1/jobs/${job.id}`, { authorization: 'Bearer jw_nope_nope' })).status, 401);
    assert.equal((await pair.both(`/v1/jobs/${job.id}`, { authorization: `Bearer ${bob.key}` })).status, 404);
    assert.equal((await pair.both('/status', asAlice)).status, 404);
    const seen = pair.hot.seenByFastify.length;
    const ok = await pair.both(`/v1/jobs/${job.id}`, asAlice);
    assert.equal(ok.status, 200);
    assert.ok(ok.headers.some((h) => h.startsWith('ratelimit: ')));
    assert.equal(pair.hot.seenByFastify.length, seen, 'the allowed read was answered by the hot reads');
    // Alice's bucket (burst 4): the create, the /status 404 and this read took three; one is left, then 429.
    assert.equal((await pair.both(`/v1/jobs/${job.id}`, asAlice)).status, 200);
    const limited = await pair.both(`/v1/jobs/${job.id}`, asAlice);
    assert.equal(limited.status, 429);
    assert.ok(limited.headers.some((h) => h.startsWith('retry-after: ')));
  });
});

describe('hot reads: request log lines', () => {
  it('writes the two lines Fastify writes, with the same fields', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobwait-hot-log-'));
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
    const now = Date.now();
    const pair = await startPair(dir, { logLevel: 'info' }, { now: () => now, logStream: stream });
    try {
      const res = await fetch(`${pair.plain.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"duration":60}' });
      const { id } = (await res.json()) as { id: string };
      const of = async (url: string): Promise<unknown[]> => {
        lines.length = 0;
        await exchange(url, `/v1/jobs/${id}`, { 'x-request-id': `log-${url.length}` });
        await new Promise((resolve) => setImmediate(resolve));
        return lines
          .filter((line) => line.reqId === `log-${url.length}`)
          .map(({ time: _time, responseTime, req, pid: _pid, ...rest }) => ({
            ...rest,
            responseTime: typeof responseTime,
            // The two servers listen on different ports, and each request comes from a port of its own.
            req: req && { ...(req as object), host: String((req as { host: unknown }).host).replace(/:\d+$/, ':port'), remotePort: typeof (req as { remotePort: unknown }).remotePort },
          }));
      };
      const hot = await of(pair.hot.url);
      const plain = await of(pair.plain.url);
      assert.equal(hot.length, 2);
      assert.deepEqual(hot, plain);
    } finally {
      await pair.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the SQLite read cache', () => {
  it("sees another connection's commit on the next read", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobwait-hot-cache-'));
    const app = await buildServer({ logLevel: 'silent', store: 'sqlite', dataDir: dir });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const other = new Database(join(dir, 'jobwait.db'));
    try {
      const res = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"duration":600}' });
      const { id } = (await res.json()) as { id: string };
      assert.match((await exchange(url, `/v1/jobs/${id}`)).body, /"status":"pending"/);
      assert.match((await exchange(url, `/v1/jobs/${id}`)).body, /"status":"pending"/);
      // An operator (or a second process on the same file) cancels it behind the server's back.
      other.prepare(`UPDATE jobs SET state = 'canceled', version = version + 1, updated_at = ? WHERE id = ?`).run(Date.now(), id);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const after = await exchange(url, `/v1/jobs/${id}`);
      assert.match(after.body, /"status":"canceled","progress":/);
      assert.ok(after.headers.includes(`etag: W/"${id}.2"`));
    } finally {
      other.close();
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
