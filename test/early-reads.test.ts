/**
 * The early path of the hot reads (packages/server/src/http/early-reads.ts) against the Fastify
 * routes: for the same request, the same status line, header lines (but Date) and body bytes, the
 * same request-log line and the same request metrics; and it answers only what it may (an open
 * server without limits), leaving keys, limits, waits and conditional reads to Fastify.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildServer, generateApiKey, type ServerOptions } from '@jobwait/server';
import type { FastifyInstance } from 'fastify';

const T0 = Date.parse('2026-06-01T12:00:00.000Z');

interface Started {
  app: FastifyInstance;
  port: number;
  url: string;
  lines: string[];
  /** Requests Fastify's own hooks saw (the early path's never reach them). */
  fastify: () => number;
  close(): Promise<void>;
}

async function start(options: ServerOptions, clock: () => number): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'jobwait-early-reads-'));
  const lines: string[] = [];
  const app = await buildServer({ logLevel: 'debug', store: 'sqlite', dataDir: dir, ...options }, { now: clock, logStream: { write: (line: string) => lines.push(line) } });
  let seen = 0;
  app.addHook('onRequest', (_request, _reply, done) => {
    seen++;
    done();
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    port: Number(new URL(url).port),
    url,
    lines,
    fastify: () => seen,
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The raw bytes of the answer to `head` (a request's head, CRLF-ended lines), on a fresh connection closed after it. */
function raw(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`${head}Connection: close\r\n\r\n`));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

/** An answer without its Date line (the clock's second may turn between two answers). */
const withoutDate = (answer: string): string => answer.replace(/\r\nDate: [^\r]*/i, '');

/** The request-log lines of `reqId`, without their time and duration. */
function logLines(lines: string[], reqId: string): Record<string, unknown>[] {
  return lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.reqId === reqId && line.msg === 'request completed')
    .map(({ time: _time, ms, ...rest }) => ({ ...rest, timed: typeof ms === 'number' }));
}

/** The value of `jobwait_http_requests_total` for `route` and status 200. */
async function served(url: string, route: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`jobwait_http_requests_total{route="${route}",method="GET",status="200"}`));
  return Number(line?.split(' ').at(-1) ?? 0);
}

for (const trustProxy of [[], ['127.0.0.1']]) {
  describe(`the early path and the Fastify route answer alike${trustProxy.length ? ' (--trust-proxy)' : ''}`, () => {
    let t = T0;
    let server: Started;
    let jobId: string;
    before(async () => {
      server = await start({ rateLimit: 0, trustProxy }, () => t);
      const created = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"duration":100}' });
      jobId = ((await created.json()) as { id: string }).id;
      assert.equal((await fetch(`${server.url}/start-timer`, { method: 'POST', body: '{"duration":100}' })).status, 200);
      t += 10_000;
    });
    after(() => server.close());

    for (const path of ['/status', '/v1/jobs/{id}']) {
      it(`GET ${path}: same bytes, log line and metrics`, async () => {
        const target = path.replace('{id}', jobId);
        const route = path.replace('{id}', ':id');
        // The first read after a write, or after the access mode's cache lapsed, goes through Fastify, which reads the store and the mode again.
        await raw(server.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n`);
        const countedBefore = await served(server.url, route);
        const before = server.fastify();
        const early = await raw(server.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nX-Request-Id: early-${route.length}\r\n`);
        assert.equal(server.fastify(), before, 'the read took the early path: Fastify saw nothing of it');
        // A body of no bytes changes nothing in the answer, but the early path leaves any body to Fastify.
        const routed = await raw(server.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nX-Request-Id: early-${route.length}\r\nContent-Length: 0\r\n`);
        assert.equal(server.fastify(), before + 1, 'the second read went through Fastify');
        assert.match(early, /^HTTP\/1\.1 200 OK\r\n/);
        assert.equal(withoutDate(early), withoutDate(routed));
        assert.equal(await served(server.url, route), countedBefore + 2);
        const logged = logLines(server.lines, `early-${route.length}`);
        assert.equal(logged.length, 2);
        assert.deepEqual(logged[0], logged[1]);
      });
    }

    it('leaves waits, conditional reads, queries, unknown jobs and other methods to Fastify', async () => {
      for (const [head, status] of [
        [`GET /v1/jobs/${jobId} HTTP/1.1\r\nHost: x\r\nPrefer: wait=0\r\n`, 200],
        [`GET /v1/jobs/${jobId}?wait=0 HTTP/1.1\r\nHost: x\r\n`, 200],
        [`GET /v1/jobs/${jobId} HTTP/1.1\r\nHost: x\r\nIf-None-Match: W/"${jobId}.1"\r\n`, 304],
        [`GET /v1/jobs/job_00000000000000000000000000 HTTP/1.1\r\nHost: x\r\n`, 404],
        [`HEAD /status HTTP/1.1\r\nHost: x\r\n`, 200],
      ] as const) {
        const before = server.fastify();
        const answer = await raw(server.port, head);
        assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), head);
        assert.equal(server.fastify(), before + 1, head);
      }
    });
  });
}

describe('the early path with keys or limits on', () => {
  it('answers nothing itself: a read without a key is refused, with one it is answered by the route', async () => {
    const { key } = generateApiKey();
    const server = await start({ rateLimit: 0, apiKeys: [key] }, () => T0);
    try {
      await fetch(`${server.url}/start-timer`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: '{"duration":100}' });
      for (let i = 0; i < 2; i++) assert.match(await raw(server.port, 'GET /status HTTP/1.1\r\nHost: x\r\n'), /^HTTP\/1\.1 401 /);
      assert.match(await raw(server.port, `GET /status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n`), /^HTTP\/1\.1 200 /);
    } finally {
      await server.close();
    }
  });

  it('takes a token from the bucket for every read when a rate limit is on', async () => {
    const server = await start({ rateLimit: 100 }, () => T0);
    try {
      await fetch(`${server.url}/start-timer`, { method: 'POST', body: '{"duration":100}' });
      for (let i = 0; i < 2; i++) {
        const answer = await raw(server.port, 'GET /status HTTP/1.1\r\nHost: x\r\n');
        assert.match(answer, /^HTTP\/1\.1 200 /);
        assert.match(answer, /\r\nratelimit: /i);
      }
    } finally {
      await server.close();
    }
  });
});
