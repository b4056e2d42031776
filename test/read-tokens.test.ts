/**
 * Issue 19 on the real server: read tokens minted by a key read only the jobs they name, per
 * tenant, until they expire or their key is revoked; forged and altered ones are refused; CORS
 * answers the allowed origins on the read and stream routes only; and no token or key reaches the logs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { JobwaitClient } from '@jobwait/client';
import { buildServer, generateApiKey, openEngine, SERVER_DEFAULTS } from '@jobwait/server';

const PAGE = 'http://localhost:5173';
const alice = generateApiKey();
const bob = generateApiKey();

interface Problem {
  status: number;
  code: string;
  detail: string;
}

/** A server with keys for alice and bob, CORS for {@link PAGE}, every log line kept, and a clock the test moves. */
async function start(options: { logs?: string[]; store?: 'memory' | 'sqlite'; dataDir?: string } = {}) {
  let offset = 0;
  const logs = options.logs;
  const app = await buildServer(
    { store: options.store ?? 'memory', ...(options.dataDir ? { dataDir: options.dataDir } : {}), apiKeys: [alice.key, bob.key], corsOrigin: [PAGE], rateLimit: 0, logLevel: logs ? 'trace' : 'silent' },
    { now: () => Date.now() + offset, ...(logs ? { logStream: { write: (line: string) => void logs.push(line) } } : {}) },
  );
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const call = (method: string, path: string, auth?: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method,
      headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const createJob = async (key: string, duration = 60): Promise<string> => {
    const response = await call('POST', '/v1/jobs', key, { duration });
    assert.equal(response.status, 201);
    return ((await response.json()) as { id: string }).id;
  };
  const mint = async (key: string, jobs: string[], ttlSeconds?: number): Promise<string> => {
    const response = await call('POST', '/v1/read-tokens', key, { jobs, ...(ttlSeconds ? { ttlSeconds } : {}) });
    assert.equal(response.status, 201, await response.clone().text());
    return ((await response.json()) as { token: string }).token;
  };
  return { app, url, call, createJob, mint, advance: (ms: number) => void (offset += ms) };
}

async function problemOf(response: Response, status: number, code: string): Promise<Problem> {
  const body = (await response.json()) as Problem;
  assert.equal(response.status, status, JSON.stringify(body));
  assert.equal(body.code, code);
  return body;
}

describe('read tokens', () => {
  let server: Awaited<ReturnType<typeof start>>;
  before(async () => {
    server = await start();
  });
  after(() => server.app.close());

  test('a key mints a token for its jobs; the token reads, long-polls and streams those jobs', async () => {
    const id = await server.createJob(alice.key, 1);
    const minted = await server.call('POST', '/v1/read-tokens', alice.key, { jobs: [id] });
    assert.equal(minted.status, 201);
    assert.equal(minted.headers.get('cache-control'), 'no-store');
    const body = (await minted.json()) as { token: string; expiresAt: string; jobs: string[] };
    assert.match(body.token, /^jwb_/);
    assert.deepEqual(body.jobs, [id]);
    const life = Date.parse(body.expiresAt) - Date.now();
    assert.ok(life > 590_000 && life <= 601_000, `default life of 600 s, got ${life} ms`);

    assert.equal((await server.call('GET', `/v1/jobs/${id}`, body.token)).status, 200);
    const client = new JobwaitClient({ baseUrl: server.url, token: body.token });
    const states: string[] = [];
    for await (const job of client.watchJob(id)) states.push(job.status);
    assert.equal(states.at(-1), 'completed');
    assert.equal((await client.waitForJob(id, { timeoutMs: 10_000 })).status, 'completed');
    const held = await server.call('GET', `/v1/jobs/${id}`, body.token, undefined, { prefer: 'wait=5' });
    assert.equal(held.status, 200);
  });

  test('ttlSeconds is honoured up to the ceiling; bad bodies are 400', async () => {
    const id = await server.createJob(alice.key);
    const short = await server.call('POST', '/v1/read-tokens', alice.key, { jobs: [id], ttlSeconds: 30 });
    const life = Date.parse(((await short.json()) as { expiresAt: string }).expiresAt) - Date.now();
    assert.ok(life > 25_000 && life <= 31_000, `${life}`);
    await problemOf(await server.call('POST', '/v1/read-tokens', alice.key, { jobs: [id], ttlSeconds: 3601 }), 400, 'JOBWAIT_ERR_VALIDATION');
    await problemOf(await server.call('POST', '/v1/read-tokens', alice.key, { jobs: [] }), 400, 'JOBWAIT_ERR_VALIDATION');
    await problemOf(await server.call('POST', '/v1/read-tokens', alice.key, { jobs: Array.from({ length: 101 }, (_, i) => `job_${i}`) }), 400, 'JOBWAIT_ERR_VALIDATION');
    await problemOf(await server.call('POST', '/v1/read-tokens', undefined, { jobs: [id] }), 401, 'JOBWAIT_ERR_UNAUTHORIZED');
  });

  test('tokens are scoped per tenant: a key cannot mint for, nor its token read, another tenant\'s job', async () => {
    const alicesJob = await server.createJob(alice.key);
    const bobsJob = await server.createJob(bob.key);
    await problemOf(await server.call('POST', '/v1/read-tokens', bob.key, { jobs: [alicesJob] }), 404, 'JOBWAIT_ERR_JOB_NOT_FOUND');
    const bobsToken = await server.mint(bob.key, [bobsJob]);
    // Another tenant's job, another job of the same tenant and a job that does not exist: one answer, decided before any lookup.
    const otherOwn = await server.createJob(bob.key);
    const answers = [];
    for (const id of [alicesJob, otherOwn, 'job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2']) {
      const problem = await problemOf(await server.call('GET', `/v1/jobs/${id}`, bobsToken), 403, 'JOBWAIT_ERR_TOKEN_SCOPE');
      answers.push(problem.detail.replace(id, '<id>'));
      await problemOf(await server.call('GET', `/v1/jobs/${id}/events`, bobsToken), 403, 'JOBWAIT_ERR_TOKEN_SCOPE');
    }
    assert.equal(new Set(answers).size, 1, 'no existence leak: the same refusal whoever owns the job');
  });

  test('a token can only read: create, cancel, list, the tenant stream, minting and the seed routes are 403', async () => {
    const id = await server.createJob(alice.key);
    const token = await server.mint(alice.key, [id]);
    await problemOf(await server.call('POST', '/v1/jobs', token, { duration: 1 }), 403, 'JOBWAIT_ERR_TOKEN_SCOPE');
    await problemOf(await server.call('DELETE', `/v1/jobs/${id}`, token), 403, 'JOBWAIT_ERR_TOKEN_SCOPE');
    await problemOf(await server.call('GET', '/v1/jobs', token), 403, 'JOBWAIT_ERR_TOKEN_SCOPE');
    await problemOf(await server.call('GET', '/v1/events', token), 403, 'JOBWAIT_ERR_TOKEN_SCOPE');
    await problemOf(await server.call('POST', '/v1/read-tokens', token, { jobs: [id] }), 403, 'JOBWAIT_ERR_TOKEN_SCOPE');
    assert.equal((await server.call('GET', '/status', token)).status, 403);
    assert.equal((await server.call('GET', `/v1/jobs/${id}`, alice.key)).status, 200, 'the job is still pending and there');
    assert.equal(((await (await server.call('GET', `/v1/jobs/${id}`, alice.key)).json()) as { status: string }).status, 'pending', 'not canceled');
  });

  test('forged and altered tokens are 401, not 403: nothing unsigned is believed', async () => {
    const id = await server.createJob(alice.key);
    const token = await server.mint(alice.key, [id]);
    const [body, signature] = token.slice(4).split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as { j: string[]; e: number; t: string; k: string };
    const other = await server.createJob(alice.key);
    const forged = [
      `jwb_${Buffer.from(JSON.stringify({ ...claims, j: [other] })).toString('base64url')}.${signature}`,
      `jwb_${Buffer.from(JSON.stringify({ ...claims, e: claims.e + 86_400 })).toString('base64url')}.${signature}`,
      `jwb_${body}.${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`,
      `jwb_${body}`,
      'jwb_garbage',
    ];
    for (const bad of forged) {
      const response = await server.call('GET', `/v1/jobs/${bad.includes(other) ? other : id}`, bad);
      await problemOf(response, 401, 'JOBWAIT_ERR_UNAUTHORIZED');
      assert.match(response.headers.get('www-authenticate') ?? '', /Bearer/);
    }
  });

  test('an expired token is 401 JOBWAIT_ERR_TOKEN_EXPIRED; its stream ends at the expiry and the client resumes with a fresh token', async () => {
    const id = await server.createJob(alice.key, 5);
    const token = await server.mint(alice.key, [id], 60);
    let refreshes = 0;
    const client = new JobwaitClient({
      baseUrl: server.url,
      token,
      getToken: () => {
        refreshes++;
        return server.mint(alice.key, [id], 600);
      },
    });
    const states: string[] = [];
    for await (const job of client.watchJob(id)) {
      states.push(`${job.status}@${job.version}`);
      // The first state is in: the token expires before the final one (the stream sees it at the next event).
      if (states.length === 1) server.advance(61_000);
    }
    assert.equal(states[0], 'pending@1');
    assert.match(states.at(-1)!, /^completed@/);
    assert.equal(refreshes, 1);
    const expired = await server.call('GET', `/v1/jobs/${id}`, token);
    await problemOf(expired, 401, 'JOBWAIT_ERR_TOKEN_EXPIRED');
    assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  test('revoking the key revokes its tokens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobwait-read-tokens-'));
    const own = await start({ store: 'sqlite', dataDir: dir });
    try {
      const id = await own.createJob(alice.key);
      const token = await own.mint(alice.key, [id]);
      assert.equal((await own.call('GET', `/v1/jobs/${id}`, token)).status, 200);
      // As `jobwait keys revoke` does: through the store, from another process's engine.
      const engine = openEngine({ ...SERVER_DEFAULTS, store: 'sqlite', dataDir: dir });
      assert.equal(await engine.keys.revoke(alice.id, Date.now()), true);
      await engine.close();
      await problemOf(await own.call('GET', `/v1/jobs/${id}`, token), 401, 'JOBWAIT_ERR_UNAUTHORIZED');
    } finally {
      await own.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every instance on one store verifies the same tokens (the secret is kept by the engine)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobwait-read-tokens-'));
    const one = await start({ store: 'sqlite', dataDir: dir });
    const two = await start({ store: 'sqlite', dataDir: dir });
    try {
      const id = await one.createJob(alice.key);
      const token = await one.mint(alice.key, [id]);
      assert.equal((await two.call('GET', `/v1/jobs/${id}`, token)).status, 200);
    } finally {
      await one.app.close();
      await two.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a server running open refuses to mint with 409 JOBWAIT_ERR_OPEN_SERVER', async () => {
    const open = await buildServer({ store: 'memory', logLevel: 'silent' });
    try {
      const url = await open.listen({ port: 0, host: '127.0.0.1' });
      const created = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"duration":5}' });
      const { id } = (await created.json()) as { id: string };
      const response = await fetch(`${url}/v1/read-tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jobs: [id] }) });
      const problem = await problemOf(response, 409, 'JOBWAIT_ERR_OPEN_SERVER');
      assert.match(problem.detail, /API key/);
    } finally {
      await open.close();
    }
  });
});

describe('CORS', () => {
  let server: Awaited<ReturnType<typeof start>>;
  before(async () => {
    server = await start();
  });
  after(() => server.app.close());

  const preflight = (path: string, origin: string, method = 'GET') =>
    server.call('OPTIONS', path, undefined, undefined, { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, last-event-id' });

  test('answers a preflight from an allowed origin on the read and stream routes, with the exact origin', async () => {
    for (const path of ['/v1/jobs/job_x', '/v1/jobs/job_x/events']) {
      const response = await preflight(path, PAGE);
      assert.equal(response.status, 204);
      assert.equal(response.headers.get('access-control-allow-origin'), PAGE);
      assert.equal(response.headers.get('access-control-allow-methods'), 'GET, HEAD');
      assert.match(response.headers.get('access-control-allow-headers') ?? '', /Authorization.*Last-Event-ID.*Prefer/);
      assert.ok(Number(response.headers.get('access-control-max-age')) > 0);
      assert.match(response.headers.get('vary') ?? '', /Origin/);
      assert.equal(response.headers.get('access-control-allow-credentials'), null);
    }
  });

  test('gives a disallowed origin, another method or another route no CORS header', async () => {
    const other = await preflight('/v1/jobs/job_x', 'http://evil.example');
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const cancel = await preflight('/v1/jobs/job_x', PAGE, 'DELETE');
    assert.equal(cancel.headers.get('access-control-allow-origin'), null);
    for (const path of ['/v1/jobs', '/v1/read-tokens', '/v1/events']) {
      const response = await preflight(path, PAGE, 'POST');
      assert.equal(response.headers.get('access-control-allow-origin'), null, path);
    }
    const id = await server.createJob(alice.key);
    const listed = await server.call('GET', '/v1/jobs', alice.key, undefined, { origin: PAGE });
    assert.equal(listed.headers.get('access-control-allow-origin'), null, 'listing stays same-origin');
    const read = await server.call('GET', `/v1/jobs/${id}`, alice.key, undefined, { origin: 'http://evil.example' });
    assert.equal(read.headers.get('access-control-allow-origin'), null);
  });

  test('reads and refusals carry the exact origin, Vary: Origin and the exposed headers; never *', async () => {
    const id = await server.createJob(alice.key);
    const token = await server.mint(alice.key, [id]);
    const read = await server.call('GET', `/v1/jobs/${id}`, token, undefined, { origin: PAGE });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('access-control-allow-origin'), PAGE);
    assert.match(read.headers.get('vary') ?? '', /Prefer.*Origin|Origin.*Prefer/);
    assert.match(read.headers.get('access-control-expose-headers') ?? '', /Retry-After.*ETag.*X-Request-Id/);
    const refused = await server.call('GET', `/v1/jobs/${await server.createJob(alice.key)}`, token, undefined, { origin: PAGE });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('access-control-allow-origin'), PAGE, 'the page can read why it was refused');
    const controller = new AbortController();
    const stream = await fetch(`${server.url}/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${token}`, origin: PAGE }, signal: controller.signal });
    assert.equal(stream.headers.get('access-control-allow-origin'), PAGE);
    assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
    controller.abort();
  });

  test('no --cors-origin: no preflight and no CORS header anywhere', async () => {
    const plain = await buildServer({ store: 'memory', logLevel: 'silent', apiKeys: [alice.key] });
    try {
      const url = await plain.listen({ port: 0, host: '127.0.0.1' });
      const response = await fetch(`${url}/v1/jobs/job_x`, { method: 'OPTIONS', headers: { origin: PAGE, 'access-control-request-method': 'GET' } });
      assert.equal(response.headers.get('access-control-allow-origin'), null);
      assert.equal(response.status, 404);
    } finally {
      await plain.close();
    }
  });
});

describe('logs', () => {
  test('no read token and no API key appears in any log line, at trace level, refused or not', async () => {
    const logs: string[] = [];
    const server = await start({ logs });
    try {
      const id = await server.createJob(alice.key, 1);
      const token = await server.mint(alice.key, [id]);
      await server.call('GET', `/v1/jobs/${id}`, token, undefined, { origin: PAGE });
      await server.call('GET', `/v1/jobs/${await server.createJob(alice.key)}`, token);
      await server.call('POST', '/v1/jobs', token, { duration: 1 });
      await server.call('GET', `/v1/jobs/${id}`, `${token}x`);
      const client = new JobwaitClient({ baseUrl: server.url, token });
      for await (const job of client.watchJob(id)) void job;
      server.advance(3_600_000);
      await server.call('GET', `/v1/jobs/${id}`, token);
      await delay(50);
      assert.ok(logs.length > 10, 'lines were written');
      const text = logs.join('');
      const [body, signature] = token.slice(4).split('.') as [string, string];
      for (const secret of [token, body, signature, alice.key, alice.key.slice(16), bob.key.slice(16)]) {
        assert.equal(text.includes(secret), false, `a log line holds ${secret.slice(0, 8)}…`);
      }
    } finally {
      await server.app.close();
    }
  });
});
