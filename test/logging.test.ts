/**
 * Issue 9: request ids in every log line of a request, access logs at info,
 * and nothing secret in the logs (API keys, the Authorization header,
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
    app = await buildServer({ store: 'memory', apiKeys: [key.key], logLevel: 'info' }, { logStream: { write: (line: string) => raw.push(line) } });
    // A careless handler: logs the headers, a job with its email, and an error quoting the address.
    app.get('/careless', { config: { public: true } }, async (request) => {
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
    assert.equal(access.length, 2, 'an access line on arrival and one on completion');
    for (const line of access) assert.equal(line.level, 30, 'access logs are at info');
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
