/**
 * Issue 20: one key cannot take the process's sockets from the others. The
 * server runs as a child process under `ulimit -n 1024`, started as the
 * README says, with two keys and the rate limit off (the greedy key would
 * otherwise only be slowed, not stopped). Counts, never times, are asserted.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '@jobwait/server';
import { metricValue, parseMetrics } from './helpers/prometheus.js';
import { freePort, spawnServer, type ServerProcess } from './helpers/server-process.js';

const FD_LIMIT = 1024;

interface Opened {
  status: number;
  code: string | undefined;
  retryAfter: string | undefined;
  limit: number | undefined;
  request: ClientRequest;
  response: IncomingMessage;
}

/** Opens one event stream on its own connection; held ones stay open until `close()`. */
function openStream(url: string, key: string, path: string): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}${path}`, { agent: false, headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' } }, (response) => {
      if (response.statusCode === 200) return resolve({ status: 200, code: undefined, retryAfter: undefined, limit: undefined, request, response });
      let text = '';
      response.on('data', (c: Buffer) => (text += c.toString()));
      response.on('end', () => {
        const body = text ? (JSON.parse(text) as { code?: string; limit?: number }) : {};
        resolve({ status: response.statusCode ?? 0, code: body.code, retryAfter: response.headers['retry-after'], limit: body.limit, request, response });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

async function api(url: string, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Opens `count` streams, `batch` at a time; returns them all (held ones still open). */
async function openMany(url: string, key: string, path: string, count: number, batch = 50): Promise<Opened[]> {
  const all: Opened[] = [];
  for (let n = 0; n < count; n += batch) all.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - n) }, () => openStream(url, key, path)))));
  return all;
}

/** What the other key gets while the greedy one holds what it can: 20 creates, then a read and a long-poll of each. */
async function otherKeyRound(url: string, key: string): Promise<{ created: number; read: number; longPolls: number[] }> {
  let created = 0;
  let read = 0;
  const longPolls: number[] = [];
  for (let n = 0; n < 20; n++) {
    const made = await api(url, key, 'POST', '/v1/jobs', { duration: 0.05 });
    if (made.status !== 201) continue;
    created += 1;
    if ((await api(url, key, 'GET', `/v1/jobs/${String(made.body.id)}`)).status === 200) read += 1;
    longPolls.push((await api(url, key, 'GET', `/v1/jobs/${String(made.body.id)}?wait=2`)).status);
  }
  return { created, read, longPolls };
}

function withKeys(keys: string[]): { dir: string; args: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'jobwait-held-'));
  writeFileSync(join(dir, 'keys'), `${keys.join('\n')}\n`);
  return { dir, args: ['--data-dir', join(dir, 'data'), '--api-keys-file', join(dir, 'keys'), '--rate-limit', '0'] };
}

describe(`held connections under ulimit -n ${FD_LIMIT}`, { timeout: 600_000 }, () => {
  const greedy = generateApiKey();
  const other = generateApiKey();
  const open: Opened[] = [];
  let server: ServerProcess;
  let dir: string;

  after(async () => {
    for (const o of open) o.request.destroy();
    server?.child.kill('SIGTERM');
    await server?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  describe('a key past its cap', () => {
    before(async () => {
      const setup = withKeys([greedy.key, other.key]);
      dir = setup.dir;
      server = await spawnServer(await freePort(), [...setup.args, '--max-held-per-key', '50'], {}, { fdLimit: FD_LIMIT, startTimeoutMs: 120_000 });
    });

    it('gets 429 JOBWAIT_ERR_TOO_MANY_HELD with Retry-After and its limit, while the other key is served in full', async () => {
      const job = await api(server.url, greedy.key, 'POST', '/v1/jobs', { duration: 600 });
      assert.equal(job.status, 201);
      const streams = await openMany(server.url, greedy.key, `/v1/jobs/${String(job.body.id)}/events`, 1100);
      open.push(...streams);
      const held = streams.filter((s) => s.status === 200);
      const refused = streams.filter((s) => s.status === 429);
      assert.equal(held.length, 50);
      assert.equal(refused.length, 1050);
      for (const r of refused) {
        assert.equal(r.code, 'JOBWAIT_ERR_TOO_MANY_HELD');
        assert.equal(r.limit, 50);
        assert.match(r.retryAfter ?? '', /^\d+$/);
      }
      // A long-poll counts against the same cap.
      const poll = await api(server.url, greedy.key, 'GET', `/v1/jobs/${String(job.body.id)}?wait=5`);
      assert.equal(poll.status, 429);
      assert.equal(poll.body.code, 'JOBWAIT_ERR_TOO_MANY_HELD');
      // …but a plain read does not.
      assert.equal((await api(server.url, greedy.key, 'GET', `/v1/jobs/${String(job.body.id)}`)).status, 200);

      const round = await otherKeyRound(server.url, other.key);
      assert.deepEqual(round, { created: 20, read: 20, longPolls: Array(20).fill(200) });

      const samples = parseMetrics(await (await fetch(`${server.url}/metrics`)).text());
      assert.equal(metricValue(samples, 'jobwait_held_connections', { kind: 'sse' }), 50);
      assert.equal(metricValue(samples, 'jobwait_hold_refusals_total', { reason: 'key_cap' }), 1051);
      assert.doesNotMatch(server.output(), /EMFILE|ENFILE/);
    });

    it('frees the slots of closed streams', async () => {
      for (const o of open.splice(0)) o.request.destroy();
      const job = await api(server.url, greedy.key, 'POST', '/v1/jobs', { duration: 600 });
      let streams: Opened[] = [];
      // The server notices the closed sockets in its own time: try until a stream is held again.
      for (let tries = 0; tries < 100; tries++) {
        streams = await openMany(server.url, greedy.key, `/v1/jobs/${String(job.body.id)}/events`, 1);
        open.push(...streams);
        if (streams[0]?.status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(streams[0]?.status, 200);
    });
  });

  describe('the server at its ceiling', () => {
    before(async () => {
      for (const o of open.splice(0)) o.request.destroy();
      server.child.kill('SIGTERM');
      await server.exited;
      rmSync(dir, { recursive: true, force: true });
      const setup = withKeys([greedy.key, other.key]);
      dir = setup.dir;
      // The per-key cap far above what the descriptors allow: the server-wide ceiling is what stops the greedy key.
      server = await spawnServer(await freePort(), [...setup.args, '--max-held-per-key', '100000'], {}, { fdLimit: FD_LIMIT, startTimeoutMs: 120_000 });
    });

    it('answers new holds 503 JOBWAIT_ERR_SERVER_AT_CAPACITY while plain reads and creates keep working, and never runs out of descriptors', async () => {
      const metricsBefore = parseMetrics(await (await fetch(`${server.url}/metrics`)).text());
      const ceiling = metricValue(metricsBefore, 'jobwait_held_connections_limit', { scope: 'server' });
      assert.ok(ceiling > 500 && ceiling < FD_LIMIT, `a ceiling derived from the descriptor limit: ${ceiling}`);
      const job = await api(server.url, greedy.key, 'POST', '/v1/jobs', { duration: 600 });
      const streams = await openMany(server.url, greedy.key, `/v1/jobs/${String(job.body.id)}/events`, 1100);
      open.push(...streams);
      const held = streams.filter((s) => s.status === 200).length;
      const busy = streams.filter((s) => s.status === 503);
      assert.equal(held, ceiling);
      assert.equal(busy.length, 1100 - ceiling);
      for (const r of busy) {
        assert.equal(r.code, 'JOBWAIT_ERR_SERVER_AT_CAPACITY');
        assert.match(r.retryAfter ?? '', /^\d+$/);
      }
      const round = await otherKeyRound(server.url, other.key);
      assert.equal(round.created, 20);
      assert.equal(round.read, 20);
      assert.deepEqual([...new Set(round.longPolls)], [503], 'new holds of any key wait for room');
      assert.doesNotMatch(server.output(), /EMFILE|ENFILE/);
    });
  });
});
