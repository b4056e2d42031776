/**
 * Issue 4 / 5: signed webhooks on the real server. Signatures are checked
 * with the `standardwebhooks` package, receivers are real HTTP servers on
 * 127.0.0.1 (allowlisted), retry schedules are tiny so the suite stays fast.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { generateApiKey } from '@jobwait/server';
import { Webhook } from 'standardwebhooks';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

interface Attempt {
  at: string;
  durationMs: number;
  statusCode?: number;
  error?: string;
}
interface Delivery {
  id: string;
  kind: 'webhook' | 'email';
  event: string;
  target: string;
  status: 'pending' | 'delivered' | 'failed' | 'disabled';
  attempts: Attempt[];
  nextAttemptAt?: string;
  note?: string;
}
interface JobBody {
  id: string;
  status: string;
}
interface Payload {
  type: string;
  timestamp: string;
  data: JobBody;
}

const fastRetries = { webhookAllowHosts: ['127.0.0.1'], webhookRetryScheduleMs: [20, 20, 20], rateLimit: 0 } as const;

async function createJob(server: TestServer, body: Record<string, unknown>): Promise<JobBody> {
  const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as JobBody;
}

async function deliveries(server: TestServer, jobId: string): Promise<Delivery[]> {
  const res = await fetch(`${server.url}/v1/jobs/${jobId}/deliveries`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { deliveries: Delivery[] }).deliveries;
}

/** Polls the job's deliveries until `done` holds for them. */
async function waitForDeliveries(server: TestServer, jobId: string, done: (list: Delivery[]) => boolean, timeoutMs = 5000): Promise<Delivery[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await deliveries(server, jobId);
    if (done(list)) return list;
    if (Date.now() > deadline) throw new Error(`deliveries did not settle: ${JSON.stringify(list)}`);
    await delay(20);
  }
}

const settled = (list: Delivery[]): boolean => list.length > 0 && list.every((d) => d.status !== 'pending');

async function secretOf(server: TestServer): Promise<string> {
  const res = await fetch(`${server.url}/v1/webhooks/secret`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return ((await res.json()) as { secret: string }).secret;
}

function headersOf(received: { headers: Record<string, string | string[] | undefined> }): Record<string, string> {
  return Object.fromEntries(Object.entries(received.headers).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

describe('webhooks', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let secret: string;

  before(async () => {
    // /flaky fails twice; /gone answers 410; /busy asks to come back in 1 s once; /down always fails; /slow takes its time.
    receiver = await startWebhookReceiver((n, request) => {
      if (request.path.startsWith('/flaky')) return { status: n < 2 ? 500 : 204 };
      if (request.path.startsWith('/gone')) return { status: 410 };
      if (request.path.startsWith('/busy')) return n === 0 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 };
      if (request.path.startsWith('/down')) return { status: 500 };
      if (request.path.startsWith('/slow')) return { status: 200, delayMs: 1500 };
      return { status: 204 };
    });
    server = await startTestServer({ store: 'memory', ...fastRetries, webhookRetryScheduleMs: [20, 20] });
    secret = await secretOf(server);
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  it('signs per Standard Webhooks and retries a failing receiver with the same webhook-id until it answers 2xx', async () => {
    const job = await createJob(server, { duration: 0.05, callbackUrl: `${receiver.url}/flaky` });
    const [delivery] = await waitForDeliveries(server, job.id, settled);
    const got = receiver.received.filter((r) => r.path === '/flaky');
    assert.equal(got.length, 3);
    assert.deepEqual(new Set(got.map((r) => r.headers['webhook-id'])), new Set([`msg_${job.id}_completed`]));
    assert.equal(new Set(got.map((r) => r.body)).size, 1, 'every attempt sends the same bytes');
    for (const request of got) {
      assert.equal(request.headers['content-type'], 'application/json');
      const payload = new Webhook(secret).verify(request.body, headersOf(request)) as Payload;
      assert.equal(payload.type, 'job.completed');
      assert.equal(payload.data.id, job.id);
      assert.equal(payload.data.status, 'completed');
      assert.ok(!Number.isNaN(Date.parse(payload.timestamp)));
    }
    assert.equal(delivery?.id, `msg_${job.id}_completed`);
    assert.equal(delivery?.status, 'delivered');
    assert.equal(delivery?.kind, 'webhook');
    assert.equal(delivery?.target, `${receiver.url}/flaky`);
    assert.deepEqual(delivery?.attempts.map((a) => a.statusCode), [500, 500, 204]);
    assert.equal(delivery?.nextAttemptAt, undefined);
  });

  it('sends job.failed for a failed job and job.canceled for a canceled one', async () => {
    const failed = await createJob(server, { duration: 0.05, outcome: 'error', callbackUrl: `${receiver.url}/ok-failed` });
    const canceled = await createJob(server, { duration: 60, callbackUrl: `${receiver.url}/ok-canceled` });
    const cancel = await fetch(`${server.url}/v1/jobs/${canceled.id}`, { method: 'DELETE' });
    assert.equal(cancel.status, 200);
    await waitForDeliveries(server, failed.id, settled);
    await waitForDeliveries(server, canceled.id, settled);
    const byPath = (path: string) => receiver.received.filter((r) => r.path === path).map((r) => new Webhook(secret).verify(r.body, headersOf(r)) as Payload);
    assert.deepEqual(byPath('/ok-failed').map((p) => [p.type, p.data.id, p.data.status]), [['job.failed', failed.id, 'error']]);
    assert.deepEqual(byPath('/ok-canceled').map((p) => [p.type, p.data.id, p.data.status]), [['job.canceled', canceled.id, 'canceled']]);
    assert.equal(receiver.received.find((r) => r.path === '/ok-canceled')?.headers['webhook-id'], `msg_${canceled.id}_canceled`);
  });

  it('disables an endpoint that answers 410 Gone: later deliveries to it are recorded, not attempted', async () => {
    const first = await createJob(server, { duration: 0.05, callbackUrl: `${receiver.url}/gone` });
    const [gone] = await waitForDeliveries(server, first.id, settled);
    assert.equal(gone?.status, 'disabled');
    assert.deepEqual(gone?.attempts.map((a) => a.statusCode), [410]);

    const second = await createJob(server, { duration: 0.05, callbackUrl: `${receiver.url}/gone` });
    const [skipped] = await waitForDeliveries(server, second.id, settled);
    assert.equal(skipped?.status, 'disabled');
    assert.deepEqual(skipped?.attempts, []);
    assert.match(skipped?.note ?? '', /410/);
    // Another endpoint of the same tenant is unaffected.
    const other = await createJob(server, { duration: 0.05, callbackUrl: `${receiver.url}/still-here` });
    assert.equal((await waitForDeliveries(server, other.id, settled))[0]?.status, 'delivered');
    await delay(100);
    assert.equal(receiver.received.filter((r) => r.path === '/gone').length, 1, 'the disabled endpoint was called once');
  });

  it('honours Retry-After instead of its own (tiny) schedule', async () => {
    const job = await createJob(server, { duration: 0.05, callbackUrl: `${receiver.url}/busy` });
    const [delivery] = await waitForDeliveries(server, job.id, settled);
    const got = receiver.received.filter((r) => r.path === '/busy');
    assert.equal(got.length, 2);
    const gap = got[1]!.at - got[0]!.at;
    assert.ok(gap >= 950, `second attempt ${gap} ms after the first`);
    assert.ok(gap < 3000, `second attempt ${gap} ms after the first`);
    assert.equal(delivery?.status, 'delivered');
    assert.deepEqual(delivery?.attempts.map((a) => a.statusCode), [503, 200]);
  });

  it('gives up when the schedule is used up, and records every attempt', async () => {
    const job = await createJob(server, { duration: 0.05, callbackUrl: `${receiver.url}/down` });
    const [delivery] = await waitForDeliveries(server, job.id, settled);
    assert.equal(delivery?.status, 'failed');
    assert.deepEqual(delivery?.attempts.map((a) => a.statusCode), [500, 500, 500]);
    assert.ok(delivery?.attempts.every((a) => a.error === 'answered 500' && a.durationMs >= 0 && !Number.isNaN(Date.parse(a.at))));
    assert.match(delivery?.note ?? '', /gave up after 3 attempts/);
  });

  it('records a connection failure as an attempt', async () => {
    const closed = await startWebhookReceiver();
    const url = `${closed.url}/nobody`;
    await closed.close();
    const job = await createJob(server, { duration: 0.05, callbackUrl: url });
    const [delivery] = await waitForDeliveries(server, job.id, settled);
    assert.equal(delivery?.status, 'failed');
    assert.equal(delivery?.attempts.length, 3);
    assert.ok(delivery?.attempts.every((a) => a.statusCode === undefined && /ECONNREFUSED/.test(a.error ?? '')), JSON.stringify(delivery?.attempts));
  });

  it('never makes the API wait for a receiver', async () => {
    const job = await createJob(server, { duration: 60, callbackUrl: `${receiver.url}/slow` });
    const t0 = Date.now();
    const res = await fetch(`${server.url}/v1/jobs/${job.id}`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    assert.ok(Date.now() - t0 < 500, `cancel took ${Date.now() - t0} ms`);
    const [pending] = await deliveries(server, job.id);
    assert.equal(pending?.status, 'pending');
    const [delivery] = await waitForDeliveries(server, job.id, settled);
    assert.equal(delivery?.status, 'delivered');
    assert.ok(delivery!.attempts[0]!.durationMs >= 1400);
  });

  it('lists no deliveries for a job without callbackUrl, and 404s for unknown jobs', async () => {
    const job = await createJob(server, { duration: 0.05 });
    await delay(150);
    assert.deepEqual(await deliveries(server, job.id), []);
    for (const id of ['job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2', 'nope']) {
      const res = await fetch(`${server.url}/v1/jobs/${id}/deliveries`);
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { code: string }).code, 'JOBWAIT_ERR_JOB_NOT_FOUND');
    }
  });

  it('documents the deliveries route in OpenAPI', async () => {
    const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    assert.ok(spec.paths['/v1/jobs/{id}/deliveries']?.get);
    assert.ok(spec.paths['/v1/webhooks/secret']?.get);
  });
});

describe('webhook targets', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ store: 'memory', rateLimit: 0 });
  });
  after(() => server.close());

  it('refuses loopback, private, link-local and non-http targets at create time, and creates no job', async () => {
    const refused = [
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://[::1]/hook',
      'http://10.0.0.1/hook',
      'http://192.168.1.10/hook',
      'http://172.16.5.5/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]/hook',
      'http://[fd00::1]/hook',
      'http://0.0.0.0/hook',
      'http://0x7f.1/hook',
      'https://user:secret@example.com/hook',
      'ftp://example.com/hook',
      'javascript:alert(1)',
    ];
    for (const callbackUrl of refused) {
      const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ duration: 1, callbackUrl }) });
      assert.equal(res.status, 400, callbackUrl);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      const problem = (await res.json()) as { code: string; detail: string };
      assert.equal(problem.code, 'JOBWAIT_ERR_VALIDATION', callbackUrl);
      assert.match(problem.detail, /callbackUrl/, callbackUrl);
    }
    const list = (await (await fetch(`${server.url}/v1/jobs`)).json()) as { jobs: unknown[] };
    assert.deepEqual(list.jobs, []);
  });

  it('explains why a loopback target was refused', async () => {
    const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ duration: 1, callbackUrl: 'http://127.0.0.1:9/x' }) });
    const problem = (await res.json()) as { detail: string };
    assert.match(problem.detail, /^callbackUrl address 127\.0\.0\.1 is a loopback address/);
    assert.match(problem.detail, /--webhook-allow-hosts/);
  });
});

describe('webhook deliveries across a restart (SQLite)', () => {
  let dir: string;
  let receiver: WebhookReceiver;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobwait-webhooks-'));
    // The first call to /restart asks to come back in 2 s: the server is stopped in between.
    receiver = await startWebhookReceiver((n, request) => (request.path === '/restart' && n === 0 ? { status: 503, headers: { 'retry-after': '2' } } : { status: 204 }));
  });
  after(async () => {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a delivery left pending at shutdown after the restart, with the same id and secret', async () => {
    const options = { store: 'sqlite', dataDir: dir, ...fastRetries } as const;
    const first = await startTestServer(options);
    const secret = await secretOf(first);
    const job = await createJob(first, { duration: 0.05, callbackUrl: `${receiver.url}/restart` });
    const [pending] = await waitForDeliveries(first, job.id, (list) => list[0]?.attempts.length === 1);
    assert.equal(pending?.status, 'pending');
    assert.ok(pending?.nextAttemptAt);
    await first.close();

    const second = await startTestServer(options);
    try {
      assert.equal(await secretOf(second), secret, 'the generated secret survives the restart');
      const [delivery] = await waitForDeliveries(second, job.id, settled, 6000);
      assert.equal(delivery?.status, 'delivered');
      assert.deepEqual(delivery?.attempts.map((a) => a.statusCode), [503, 204]);
      const got = receiver.received.filter((r) => r.path === '/restart');
      assert.equal(got.length, 2);
      assert.equal(got[0]?.headers['webhook-id'], got[1]?.headers['webhook-id']);
      for (const request of got) new Webhook(secret).verify(request.body, headersOf(request));
    } finally {
      await second.close();
    }
  });

  it('notifies for a job that became due while the server was down', async () => {
    const options = { store: 'sqlite', dataDir: dir, ...fastRetries } as const;
    const first = await startTestServer(options);
    const job = await createJob(first, { duration: 0.4, callbackUrl: `${receiver.url}/while-down` });
    await first.close();
    await delay(500);
    const second = await startTestServer(options);
    try {
      const [delivery] = await waitForDeliveries(second, job.id, settled);
      assert.equal(delivery?.status, 'delivered');
      assert.equal(receiver.received.filter((r) => r.path === '/while-down').length, 1);
    } finally {
      await second.close();
    }
  });

  it('signs with the configured secret when one is given', async () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const server = await startTestServer({ store: 'sqlite', dataDir: dir, ...fastRetries, webhookSecret: secret });
    try {
      assert.equal(await secretOf(server), secret);
      const job = await createJob(server, { duration: 0.05, callbackUrl: `${receiver.url}/configured` });
      await waitForDeliveries(server, job.id, settled);
      const [request] = receiver.received.filter((r) => r.path === '/configured');
      assert.ok(request);
      new Webhook(secret).verify(request.body, headersOf(request));
    } finally {
      await server.close();
    }
  });
});

describe('webhooks with API keys', () => {
  const alice = generateApiKey();
  const bob = generateApiKey();
  let server: TestServer;
  let receiver: WebhookReceiver;
  const as = (key: string) => ({ authorization: `Bearer ${key}` });

  before(async () => {
    receiver = await startWebhookReceiver();
    server = await startTestServer({ store: 'memory', ...fastRetries, apiKeys: [alice.key, bob.key] });
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  it("signs each key's webhooks with that key's own secret, and shows deliveries to their owner only", async () => {
    const secretOfKey = async (key: string): Promise<string> => ((await (await fetch(`${server.url}/v1/webhooks/secret`, { headers: as(key) })).json()) as { secret: string }).secret;
    const aliceSecret = await secretOfKey(alice.key);
    const bobSecret = await secretOfKey(bob.key);
    assert.notEqual(aliceSecret, bobSecret);
    assert.equal(await secretOfKey(alice.key), aliceSecret, 'stable');
    assert.equal((await fetch(`${server.url}/v1/webhooks/secret`)).status, 401);

    const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { ...as(alice.key), 'content-type': 'application/json' }, body: JSON.stringify({ duration: 0.05, callbackUrl: `${receiver.url}/alice` }) });
    assert.equal(res.status, 201);
    const job = (await res.json()) as JobBody;
    const [request] = await receiver.waitFor(1);
    assert.ok(request);
    new Webhook(aliceSecret).verify(request.body, headersOf(request));
    assert.throws(() => new Webhook(bobSecret).verify(request.body, headersOf(request)));

    const own = await fetch(`${server.url}/v1/jobs/${job.id}/deliveries`, { headers: as(alice.key) });
    assert.equal(own.status, 200);
    assert.equal(((await own.json()) as { deliveries: Delivery[] }).deliveries.length, 1);
    const other = await fetch(`${server.url}/v1/jobs/${job.id}/deliveries`, { headers: as(bob.key) });
    assert.equal(other.status, 404);
    assert.equal(((await other.json()) as { code: string }).code, 'JOBWAIT_ERR_JOB_NOT_FOUND');
    assert.equal((await fetch(`${server.url}/v1/jobs/${job.id}/deliveries`)).status, 401);
  });
});
