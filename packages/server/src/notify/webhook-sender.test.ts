import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { Delivery } from './delivery.js';
import { WebhookSender } from './webhook-sender.js';
import { generateWebhookSecret } from './webhook-signature.js';
import { WebhookTargetPolicy } from './webhook-target.js';

describe('WebhookSender', () => {
  let server: Server;
  let port: number;
  const seen: { headers: IncomingHttpHeaders; body: string; host: string | undefined }[] = [];
  let answer: { status: number; headers?: Record<string, string>; hang?: boolean } = { status: 204 };
  const dns = new Map<string, string>();
  const secret = generateWebhookSecret();

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body, host: req.headers.host });
        if (answer.hang) return;
        res.writeHead(answer.status, answer.headers ?? {});
        res.end('ignored body');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  function sender(timeoutMs = 2000): WebhookSender {
    const lookup = async (hostname: string): Promise<LookupAddress[]> => {
      const address = dns.get(hostname);
      if (!address) throw new Error('ENOTFOUND');
      return [{ address, family: 4 }];
    };
    return new WebhookSender({ policy: new WebhookTargetPolicy({ allowHosts: ['127.0.0.1'], lookup }), secretFor: async () => secret, timeoutMs });
  }

  function delivery(target: string): Delivery {
    return {
      id: 'msg_job_X_completed',
      tenant: 'public',
      jobId: 'job_X',
      kind: 'webhook',
      event: 'job.completed',
      target,
      source: 'job',
      payload: '{"type":"job.completed","timestamp":"2024-01-01T00:00:00.000Z","data":{"id":"job_X"}}',
      status: 'pending',
      attempts: [],
      createdAt: 0,
      updatedAt: 0,
    };
  }

  it('connects to the address it checked, not to a fresh DNS answer (pinning), with the Host header of the URL', async () => {
    // hooks.test does not exist in real DNS: reaching the receiver proves the checked address was used.
    dns.set('hooks.test', '127.0.0.1');
    const s = sender();
    const outcome = await s.send(delivery(`http://hooks.test:${port}/in`), new AbortController().signal);
    await s.close();
    assert.deepEqual(outcome, { ok: true, statusCode: 204 });
    const last = seen.at(-1)!;
    assert.equal(last.host, `hooks.test:${port}`);
    assert.equal(last.headers['content-type'], 'application/json');
    assert.ok(new Webhook(secret).verify(last.body, last.headers as Record<string, string>));
  });

  it('checks the target again before each attempt: a name now resolving to a private address is refused', async () => {
    dns.set('rebind.test', '127.0.0.1');
    const s = sender();
    assert.equal((await s.send(delivery(`http://rebind.test:${port}/`), new AbortController().signal)).ok, true);
    const before = seen.length;
    dns.set('rebind.test', '10.0.0.5');
    const outcome = await s.send(delivery(`http://rebind.test:${port}/`), new AbortController().signal);
    await s.close();
    assert.equal(outcome.ok, false);
    assert.equal(outcome.permanent, false);
    assert.match(outcome.error ?? '', /^refused: the URL host rebind\.test resolves to a private address/);
    assert.equal(seen.length, before, 'nothing was sent');
  });

  it('does not follow redirects', async () => {
    answer = { status: 307, headers: { location: 'http://169.254.169.254/' } };
    const s = sender();
    const outcome = await s.send(delivery(`http://127.0.0.1:${port}/`), new AbortController().signal);
    await s.close();
    answer = { status: 204 };
    assert.equal(outcome.ok, false);
    assert.equal(outcome.statusCode, 307);
    assert.match(outcome.error ?? '', /redirects are not followed/);
  });

  it('reports Retry-After, 410 Gone, timeouts and shutdown aborts', async () => {
    const s = sender(300);
    answer = { status: 429, headers: { 'retry-after': '7' } };
    assert.deepEqual(await s.send(delivery(`http://127.0.0.1:${port}/`), new AbortController().signal), { ok: false, statusCode: 429, retryAfterMs: 7000, error: 'answered 429' });
    answer = { status: 410 };
    const gone = await s.send(delivery(`http://127.0.0.1:${port}/`), new AbortController().signal);
    assert.equal(gone.gone, true);
    answer = { status: 200, hang: true };
    const t0 = Date.now();
    const slow = await s.send(delivery(`http://127.0.0.1:${port}/`), new AbortController().signal);
    assert.equal(slow.ok, false);
    assert.equal(slow.error, 'no answer within 300 ms');
    assert.ok(Date.now() - t0 < 2000);
    const stop = new AbortController();
    const pending = s.send(delivery(`http://127.0.0.1:${port}/`), stop.signal);
    setTimeout(() => stop.abort(), 50);
    assert.deepEqual(await pending, { ok: false, aborted: true });
    answer = { status: 204 };
    await s.close();
  });
});
