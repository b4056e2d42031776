/**
 * Issue 9: request ids in every log line of a request, one access line per
 * request (at debug), and nothing secret in the logs (API keys, the Authorization header,
 * webhook secrets, email addresses), read from the server's real pino output.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { buildServer, generateApiKey } from '@jobwait/server';
import type { FastifyInstance } from 'fastify';

interface LogLine {
  level: number;
  msg?: string;
  reqId?: string;
  [key: string]: unknown;
}

const key = generateApiKey();
const EMAIL = 'alice.liddell@example.com';

describe('request logs', () => {
  let app: FastifyInstance;
  let url: string;
  const raw: string[] = [];
  const lines = (): LogLine[] => raw.map((l) => JSON.parse(l) as LogLine);

  before(async () => {
    app = await buildServer({ store: 'memory', apiKeys: [key.key], logLevel: 'debug', logFormat: 'json' }, { logStream: { write: (line: string) => raw.push(line) } });
    // A careless handler: logs the headers, a job with its email, and an error quoting the address.
    app.get('/careless', async (request) => {
      request.log.info({ headers: request.headers, job: { id: 'job_x', notifyEmail: EMAIL }, webhookSecret: 'whsec_c2VjcmV0' }, `emailed ${EMAIL}`);
      throw new Error(`SMTP 550: mailbox <${EMAIL}> unavailable`);
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => app.close());

  /** Lines carrying `reqId`, once the request's "request completed" line is written. */
  async function linesOf(reqId: string): Promise<LogLine[]> {
    for (let i = 0; i < 200 && !lines().some((l) => l.reqId === reqId && l.msg === 'request completed'); i++) await delay(10);
    return lines().filter((l) => l.reqId === reqId);
  }

  it('takes x-request-id from the request, echoes it, and puts it on every line of that request', async () => {
    const before = raw.length;
    const res = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json', 'x-request-id': 'trace-4f1c9a' },
      body: JSON.stringify({ duration: 30, notifyEmail: EMAIL }),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-request-id'), 'trace-4f1c9a');
    const own = await linesOf('trace-4f1c9a');
    const access = own.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed');
    assert.equal(access.length, 1, 'one access line, on completion');
    assert.equal(access[0]!.level, 20, 'access lines are at debug');
    assert.deepEqual([access[0]!.method, access[0]!.url, access[0]!.statusCode], ['POST', '/v1/jobs', 201]);
    // Every line written while the request ran is one of its own (no line without the id).
    const during = raw.slice(before).map((l) => JSON.parse(l) as LogLine);
    for (const line of during) assert.equal(line.reqId, 'trace-4f1c9a', `line without the request id: ${JSON.stringify(line)}`);
  });

  it('generates a request id when none is sent, and logs with it', async () => {
    const res = await fetch(`${url}/healthz`);
    const id = res.headers.get('x-request-id');
    assert.match(id ?? '', /^[0-9a-f-]{36}$/);
    assert.equal((await linesOf(id!)).filter((l) => l.msg === 'request completed').length, 1);
  });

  it('replaces an overlong or odd X-Request-Id with a fresh one instead of copying it into every line', async () => {
    for (const sent of ['x'.repeat(200), 'two words', 'quote"d']) {
      const res = await fetch(`${url}/healthz`, { headers: { 'x-request-id': sent } });
      const id = res.headers.get('x-request-id');
      assert.match(id ?? '', /^[0-9a-f-]{36}$/, `${sent.slice(0, 20)} was replaced`);
      assert.equal((await linesOf(id!)).filter((l) => l.msg === 'request completed').length, 1);
    }
  });

  it('logs the error of a failed request with its id, and masks what the handler leaked', async () => {
    const res = await fetch(`${url}/careless`, { headers: { authorization: `Bearer ${key.key}`, cookie: 'session=s3cr3t', 'x-request-id': 'trace-careless' } });
    assert.equal(res.status, 500);
    const own = await linesOf('trace-careless');
    assert.ok(own.some((l) => l.level === 50 && (l.err as { message?: string } | undefined)?.message?.includes('a***@example.com')), 'the error is logged, address masked');
    const careless = own.find((l) => typeof l.msg === 'string' && l.msg.startsWith('emailed'));
    assert.ok(careless, 'the handler line is there');
    assert.equal(careless.msg, 'emailed a***@example.com');
    assert.deepEqual((careless.headers as Record<string, string>).authorization, '[redacted]');
    assert.deepEqual((careless.headers as Record<string, string>).cookie, '[redacted]');
    assert.equal((careless.job as { notifyEmail: string }).notifyEmail, 'a***@example.com');
    assert.equal(careless.webhookSecret, '[redacted]');
  });

  it('never writes an API key, an Authorization header, a secret or an email address', () => {
    const all = raw.join('');
    assert.ok(all.length > 0);
    for (const secret of [key.key, key.key.slice('jw_'.length + 13), 'session=s3cr3t', 'whsec_c2VjcmV0', EMAIL, 'alice.liddell']) {
      assert.ok(!all.includes(secret), `${secret} appears in the logs`);
    }
  });
});

describe('log formats and the request log (issue 13, item 6; issue 14)', () => {
  /** A server logging to a captured stream; `isTTY` makes the stream look like a terminal. */
  async function serve(logger: { level?: 'info' | 'debug'; format?: 'auto' | 'json' | 'pretty'; isTTY?: boolean }): Promise<{ url: string; out: string[]; close(): Promise<void> }> {
    const out: string[] = [];
    const stream = { write: (line: string) => void out.push(line), ...(logger.isTTY === undefined ? {} : { isTTY: logger.isTTY }) };
    const app = await buildServer({ store: 'memory', rateLimit: 0, logLevel: logger.level ?? 'info', ...(logger.format ? { logFormat: logger.format } : {}) }, { logStream: stream });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, out, close: () => app.close() };
  }
  const isJson = (line: string): boolean => {
    try {
      return typeof JSON.parse(line) === 'object';
    } catch {
      return false;
    }
  };

  it('auto: JSON lines when the destination is not a terminal, readable lines when it is', async () => {
    const piped = await serve({ format: 'auto', isTTY: false });
    await piped.close();
    assert.ok(piped.out.length > 0);
    assert.ok(piped.out.every(isJson), 'every line is JSON');

    const terminal = await serve({ format: 'auto', isTTY: true });
    await (await fetch(`${terminal.url}/healthz`)).text();
    await terminal.close();
    const text = terminal.out.join('');
    assert.ok(!terminal.out.some(isJson), 'no JSON line on a terminal');
    assert.match(text, /\d\d:\d\d:\d\d\.\d{3}.*INFO.*Server listening at/, 'local time, level and message');
    assert.match(text, /GET \/healthz 200 [\d.]+ ms/, 'one readable line per request, at info when pretty');
    assert.ok(!text.includes('"pid"') && !/\bhostname\b/.test(text), 'no pid or hostname noise');
  });

  it('json and pretty when asked, whatever the destination', async () => {
    const json = await serve({ format: 'json', isTTY: true });
    await json.close();
    assert.ok(json.out.every(isJson));
    const pretty = await serve({ format: 'pretty', isTTY: false });
    await pretty.close();
    assert.ok(pretty.out.length > 0 && !pretty.out.some(isJson));
  });

  it('at info writes no line per request, and a summary of them when it closes', async () => {
    const server = await serve({ format: 'json' });
    for (const path of ['/healthz', '/healthz', '/no-such-route']) await (await fetch(`${server.url}${path}`)).text();
    const before = server.out.length;
    await server.close();
    const lines = server.out.map((l) => JSON.parse(l) as LogLine);
    assert.ok(!lines.some((l) => l.msg === 'request completed'), 'no per-request line at info');
    const summary = lines.slice(before).find((l) => l.msg === 'requests since the last summary');
    assert.ok(summary, 'a summary at close');
    assert.equal(summary.level, 30);
    assert.equal(summary.requests, 3);
    assert.equal(summary['2xx'], 2);
    assert.equal(summary['4xx'], 1);
    assert.equal(summary.totalRequests, 3);
    assert.equal(typeof summary.slowestMs, 'number');
  });

  it('at debug writes exactly one line per request', async () => {
    const server = await serve({ level: 'debug', format: 'json' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await fetch(`${server.url}/healthz`)).headers.get('x-request-id')!);
    await server.close();
    const lines = server.out.map((l) => JSON.parse(l) as LogLine);
    for (const id of ids) {
      const own = lines.filter((l) => l.reqId === id);
      assert.equal(own.length, 1, `one line for ${id}`);
      assert.equal(own[0]!.msg, 'request completed');
      assert.deepEqual([own[0]!.method, own[0]!.url, own[0]!.statusCode], ['GET', '/healthz', 200]);
    }
  });
});
