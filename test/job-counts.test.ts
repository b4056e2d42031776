/**
 * `GET /v1/jobs/counts` on the real server: the key's jobs by status as reads show them (a job
 * past its due time counts as its outcome before the scheduler settles it), per key, behind the
 * same access control as the rest of `/v1`, and described in the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { generateApiKey } from '@jobwait/server';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

interface CountsAnswer {
  counts: { pending: number; completed: number; error: number; canceled: number };
  total: number;
  at: string;
}

function bearer(key: string | undefined): Record<string, string> {
  return key ? { authorization: `Bearer ${key}` } : {};
}

async function createJob(server: TestServer, body: Record<string, unknown>, key?: string): Promise<string> {
  const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(key) }, body: JSON.stringify(body) });
  assert.equal(response.status, 201);
  return ((await response.json()) as { id: string }).id;
}

async function counts(server: TestServer, key?: string): Promise<{ status: number; body: CountsAnswer; cacheControl: string | null }> {
  const response = await fetch(`${server.url}/v1/jobs/counts`, { headers: bearer(key) });
  return { status: response.status, body: (await response.json()) as CountsAnswer, cacheControl: response.headers.get('cache-control') };
}

describe('GET /v1/jobs/counts', () => {
  const servers: TestServer[] = [];
  after(() => Promise.all(servers.map((server) => server.close())));

  test('counts the jobs by status as reads show them, with the total and the time of counting', async () => {
    const server = await startTestServer({ store: 'sqlite' });
    servers.push(server);
    assert.deepEqual((await counts(server)).body.counts, { pending: 0, completed: 0, error: 0, canceled: 0 });
    await createJob(server, { duration: 0.01, outcome: 'completed' });
    await createJob(server, { duration: 0.01, outcome: 'error' });
    await createJob(server, { duration: 600 });
    const canceled = await createJob(server, { duration: 600 });
    assert.equal((await fetch(`${server.url}/v1/jobs/${canceled}`, { method: 'DELETE' })).status, 200);
    // Until both short jobs read as final (settled or only past due: the counts must agree either way).
    for (;;) {
      const list = (await (await fetch(`${server.url}/v1/jobs?status=pending&limit=100`)).json()) as { jobs: unknown[] };
      if (list.jobs.length === 1) break;
      await delay(20);
    }
    const answer = await counts(server);
    assert.equal(answer.status, 200);
    assert.equal(answer.cacheControl, 'no-store');
    assert.deepEqual(answer.body.counts, { pending: 1, completed: 1, error: 1, canceled: 1 });
    assert.equal(answer.body.total, 4);
    assert.ok(Math.abs(Date.parse(answer.body.at) - Date.now()) < 60_000, answer.body.at);
  });

  test("needs a key when keys are on, and counts only that key's jobs", async () => {
    const [alice, bob] = [generateApiKey(), generateApiKey()];
    const server = await startTestServer({ apiKeys: [alice.key, bob.key] });
    servers.push(server);
    await createJob(server, { duration: 600 }, alice.key);
    await createJob(server, { duration: 600 }, alice.key);
    await createJob(server, { duration: 600 }, bob.key);
    const anonymous = await fetch(`${server.url}/v1/jobs/counts`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('content-type') ?? '', /problem\+json/);
    assert.equal((await counts(server, alice.key)).body.counts.pending, 2);
    assert.equal((await counts(server, bob.key)).body.total, 1);
  });

  test('is in the OpenAPI document with its answer schema', async () => {
    const server = await startTestServer();
    servers.push(server);
    const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, { get?: { responses?: Record<string, unknown> } }> };
    assert.ok(spec.paths['/v1/jobs/counts']?.get?.responses?.['200'], 'GET /v1/jobs/counts is documented');
  });
});
