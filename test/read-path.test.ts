/**
 * Issue 14, step 3: the two reads clients repeat most, `GET /v1/jobs/{id}`
 * and the seed's `GET /status`, answered by the Fastify routes or, when it can answer them alike,
 * by the early path ahead of Fastify's router (test/early-reads.test.ts compares the two).
 * What a client sees of them: the bodies, every header, ETag and 304, the
 * request id, access control on the API only (public routes need no key),
 * rate limits, and the request metrics they are counted in.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { buildServer, generateApiKey, jobView, type ServerOptions } from '@jobwait/server';
import type { FastifyInstance } from 'fastify';

const T0 = Date.parse('2026-06-01T12:00:00.000Z');

/** A listening server on a fresh SQLite directory, with `options`. */
async function start(options: ServerOptions, clock: () => number = Date.now, logStream?: { write(line: string): unknown }): Promise<{ app: FastifyInstance; url: string; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'jobwait-read-path-'));
  const app = await buildServer({ logLevel: logStream ? 'info' : 'silent', store: 'sqlite', dataDir: dir, ...options }, { now: clock, ...(logStream ? { logStream } : {}) });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    url,
    dir,
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Header names and values as received, without those Node writes itself (Date, Connection, Keep-Alive). */
function headersOf(res: Response): Record<string, string> {
  const own = new Set(['date', 'connection', 'keep-alive']);
  return Object.fromEntries([...res.headers].filter(([name]) => !own.has(name)));
}

describe('GET /v1/jobs/{id} and GET /status on an open server', () => {
  let t = T0;
  let server: Awaited<ReturnType<typeof start>>;
  before(async () => {
    server = await start({ rateLimit: 0 }, () => t);
  });
  after(() => server.close());

  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`${server.url}${path}`, { headers });

  it('reads a pending job: its JSON, ETag, Retry-After, Vary, no caching, and the request id', async () => {
    const created = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duration: 100, metadata: { customer: 'ü', nested: [1, { deep: true }], n: 1.5 } }),
    });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    t += 10_000;
    const res = await get(`/v1/jobs/${id}`, { 'x-request-id': 'read-1' });
    assert.equal(res.status, 200);
    assert.deepEqual(headersOf(res), {
      'x-request-id': 'read-1',
      vary: 'Prefer, If-None-Match',
      'content-type': 'application/json; charset=utf-8',
      etag: `W/"${id}.1"`,
      'cache-control': 'no-store',
      'retry-after': '90',
      'content-length': res.headers.get('content-length')!,
    });
    const body = await res.text();
    assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(body));
    // The body is the job's view at the server's clock, byte for byte.
    const record = await server.app.jobs.get('public', id);
    assert.equal(body, JSON.stringify(jobView(record, t)));
    assert.deepEqual(JSON.parse(body), { ...JSON.parse(body), id, status: 'pending', progress: 0.1, etaMs: 90_000, metadata: { customer: 'ü', nested: [1, { deep: true }], n: 1.5 } });
  });

  it('answers 304 to the ETag it sent while the job is unchanged, and 200 once it is final', async () => {
    const { id } = (await (await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"duration":5}' })).json()) as { id: string };
    const first = await get(`/v1/jobs/${id}`);
    const etag = first.headers.get('etag')!;
    const unchanged = await get(`/v1/jobs/${id}`, { 'if-none-match': etag });
    assert.equal(unchanged.status, 304);
    assert.equal(unchanged.headers.get('etag'), etag);
    assert.equal(await unchanged.text(), '');
    assert.equal((await get(`/v1/jobs/${id}`, { 'if-none-match': `"other", ${etag}` })).status, 304);
    assert.equal((await get(`/v1/jobs/${id}`, { 'if-none-match': `W/"${id}.7"` })).status, 200);
    t += 6_000;
    const done = await get(`/v1/jobs/${id}`, { 'if-none-match': etag });
    assert.equal(done.status, 200);
    assert.equal(done.headers.get('etag'), `W/"${id}.2"`);
    assert.equal(done.headers.get('retry-after'), null, 'no Retry-After once final');
    assert.match(await done.text(), /"status":"completed","progress":1,"etaMs":0,/);
  });

  it('answers an unknown job and a malformed id with a problem, not a job', async () => {
    const unknown = await get('/v1/jobs/job_00000000000000000000000000');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('content-type'), 'application/problem+json');
    assert.equal(((await unknown.json()) as { code: string }).code, 'JOBWAIT_ERR_JOB_NOT_FOUND');
    assert.equal((await get('/v1/jobs/not-a-job-id')).status, 404);
  });

  it("reads the seed's /status: 404 before a timer, then pending with Retry-After, then completed", async () => {
    const none = await get('/status');
    assert.equal(none.status, 404);
    assert.equal(await none.text(), '{"error":"No timer started"}');
    assert.equal((await fetch(`${server.url}/start-timer`, { method: 'POST', body: '{"duration": 5}' })).status, 200);
    const pending = await get('/status', { 'x-request-id': 'status-1' });
    assert.equal(pending.status, 200);
    assert.deepEqual(headersOf(pending), {
      'x-request-id': 'status-1',
      'retry-after': '5',
      'content-type': 'application/json; charset=utf-8',
      'content-length': '20',
    });
    assert.equal(await pending.text(), '{"result":"pending"}');
    t += 5_000;
    const completed = await get('/status');
    assert.equal(completed.headers.get('retry-after'), null);
    assert.equal(await completed.text(), '{"result":"completed"}');
  });

  it('makes a request id when none or an odd one is sent', async () => {
    for (const sent of [undefined, 'x'.repeat(200), 'two words']) {
      const res = await get('/status', sent === undefined ? {} : { 'x-request-id': sent });
      assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    }
  });

  it('counts every read in the request metrics, by route pattern and status', async () => {
    const scrape = async (): Promise<Map<string, number>> => {
      const text = await (await get('/metrics')).text();
      const series = new Map<string, number>();
      for (const line of text.split('\n')) {
        const match = /^(jobwait_http_requests_total|jobwait_http_request_duration_seconds_count)\{(.*)\} (\d+)$/.exec(line);
        if (match) series.set(`${match[1]} ${match[2]}`, Number(match[3]));
      }
      return series;
    };
    const key = (metric: string, route: string, status: number): string => `${metric} route="${route}",method="GET",status="${status}"`;
    const before = await scrape();
    const { id } = (await (await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"duration":50}' })).json()) as { id: string };
    const etag = (await get(`/v1/jobs/${id}`)).headers.get('etag')!;
    await get(`/v1/jobs/${id}`);
    await get(`/v1/jobs/${id}`, { 'if-none-match': etag });
    await get('/status');
    await get('/no-such-route');
    const now = await scrape();
    const grew = (metric: string, route: string, status: number): number => (now.get(key(metric, route, status)) ?? 0) - (before.get(key(metric, route, status)) ?? 0);
    assert.equal(grew('jobwait_http_requests_total', '/v1/jobs/:id', 200), 2);
    assert.equal(grew('jobwait_http_request_duration_seconds_count', '/v1/jobs/:id', 200), 2);
    assert.equal(grew('jobwait_http_requests_total', '/v1/jobs/:id', 304), 1);
    assert.equal(grew('jobwait_http_requests_total', '/status', 200), 1);
    assert.equal(grew('jobwait_http_requests_total', 'unmatched', 404), 1);
  });
});

describe('the reads with API keys and rate limits', () => {
  const alice = generateApiKey();
  const bob = generateApiKey();
  let server: Awaited<ReturnType<typeof start>>;
  let jobId: string;
  before(async () => {
    // A stopped clock: buckets never refill, so the token counts below are exact.
    server = await start({ apiKeys: [alice.key, bob.key], rateLimit: 1, rateBurst: 4 }, () => T0);
    const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.key}` }, body: '{"duration":60}' });
    jobId = ((await res.json()) as { id: string }).id;
  });
  after(() => server.close());

  const get = (path: string, key?: string): Promise<Response> => fetch(`${server.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('refuses a read without a valid key: problem+json on /v1, the seed format on /status, both with WWW-Authenticate', async () => {
    for (const key of [undefined, 'jw_nope_nope']) {
      const job = await get(`/v1/jobs/${jobId}`, key);
      assert.equal(job.status, 401);
      assert.equal(job.headers.get('www-authenticate'), 'Bearer realm="jobwait"');
      assert.equal(((await job.json()) as { code: string }).code, 'JOBWAIT_ERR_UNAUTHORIZED');
      assert.ok(job.headers.get('x-request-id'), 'a refusal has a request id too');
      const status = await get('/status', key);
      assert.equal(status.status, 401);
      assert.deepEqual(await status.json(), { error: 'Unauthorized: invalid or missing API key' });
    }
  });

  it('serves health, readiness, metrics and the API description without a key', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      const res = await get(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('ratelimit'), null, `${path} takes no token`);
      await res.arrayBuffer();
    }
    assert.equal((await get('/no-such-route')).status, 404, 'an unknown path is a 404, not a 401');
  });

  it("hides one key's job from another, then limits a key's reads with 429 and Retry-After", async () => {
    // Bob's bucket is his own: his 404 costs Alice nothing.
    assert.equal((await get(`/v1/jobs/${jobId}`, bob.key)).status, 404);
    // Alice's bucket (burst 4): the create took one; three reads pass, the fourth is refused.
    for (let i = 0; i < 3; i++) {
      const res = await get(`/v1/jobs/${jobId}`, alice.key);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('ratelimit-policy') ?? '', /;q=4;/);
      assert.match(res.headers.get('ratelimit') ?? '', new RegExp(`;r=${2 - i};`));
    }
    const limited = await get(`/v1/jobs/${jobId}`, alice.key);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(((await limited.json()) as { code: string }).code, 'JOBWAIT_ERR_RATE_LIMITED');
  });
});

describe('--hot-reads, deprecated', () => {
  it('still starts, warns once, and answers reads as usual', async () => {
    const lines: { level: number; msg: string }[] = [];
    const server = await start({ hotReads: true, rateLimit: 0, logLevel: 'info', logFormat: 'json' }, Date.now, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    try {
      const warnings = lines.filter((line) => line.msg.includes('hot-reads'));
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]!.level, 40);
      assert.match(warnings[0]!.msg, /^--hot-reads is deprecated and has no effect/);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('the SQLite read cache', () => {
  it("sees another connection's commit on the next read", async () => {
    const server = await start({ rateLimit: 0 });
    try {
      const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"duration":600}' });
      const { id } = (await res.json()) as { id: string };
      assert.match(await (await fetch(`${server.url}/v1/jobs/${id}`)).text(), /"status":"pending"/);
      assert.match(await (await fetch(`${server.url}/v1/jobs/${id}`)).text(), /"status":"pending"/);
      // An operator (or a second process on the same file) cancels it behind the server's back.
      const other = new Database(join(server.dir, 'jobwait.db'));
      try {
        other.prepare(`UPDATE jobs SET state = 'canceled', version = version + 1, updated_at = ? WHERE id = ?`).run(Date.now(), id);
      } finally {
        other.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      const after = await fetch(`${server.url}/v1/jobs/${id}`);
      assert.match(await after.text(), /"status":"canceled","progress":/);
      assert.equal(after.headers.get('etag'), `W/"${id}.2"`);
    } finally {
      await server.close();
    }
  });
});
