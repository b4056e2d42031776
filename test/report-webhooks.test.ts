/**
 * Reported jobs' webhooks on the real server: the final event carries the worker's progress,
 * message, result or error; `job.progress` webhooks go out only to jobs that asked, coalesced
 * per job (the interval is long here, so which changes fold together does not depend on timing),
 * and the final event is never held behind a progress still waiting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from './helpers/webhook-receiver.js';

interface JobBody {
  id: string;
  status: string;
  version: number;
  progress: number;
  message?: string;
  result?: unknown;
  error?: { code: string; message: string };
  startedAt?: string;
  reportToken?: string;
}
interface Payload {
  type: string;
  timestamp: string;
  data: JobBody;
}

async function createJob(server: TestServer, body: Record<string, unknown>): Promise<JobBody & { reportToken: string }> {
  const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as JobBody & { reportToken: string };
}

async function report(server: TestServer, job: { id: string; reportToken: string }, body: Record<string, unknown>): Promise<JobBody> {
  const res = await fetch(`${server.url}/v1/jobs/${job.id}/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${job.reportToken}` },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as JobBody;
}

async function deliveryIds(server: TestServer, jobId: string): Promise<{ id: string; event: string; status: string }[]> {
  const res = await fetch(`${server.url}/v1/jobs/${jobId}/deliveries`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { deliveries: { id: string; event: string; status: string }[] }).deliveries;
}

describe('webhooks of reported jobs', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let secret: string;
  const payloads = (path: string): Payload[] =>
    receiver.received.filter((r) => r.path === path).map((r: ReceivedWebhook) => new Webhook(secret).verify(r.body, Object.fromEntries(Object.entries(r.headers).filter((e): e is [string, string] => typeof e[1] === 'string'))) as Payload);
  /** Resolves once `path` received a webhook of `type`. */
  async function received(path: string, type: string): Promise<Payload[]> {
    const until = Date.now() + 10_000;
    for (;;) {
      const got = payloads(path);
      if (got.some((p) => p.type === type)) return got;
      if (Date.now() > until) throw new Error(`no ${type} at ${path}: ${JSON.stringify(got)}`);
      await delay(20);
    }
  }

  before(async () => {
    receiver = await startWebhookReceiver();
    // An interval far longer than the test: the first change goes out, every later one waits for it.
    server = await startTestServer({ store: 'sqlite', rateLimit: 0, webhookAllowHosts: ['127.0.0.1'], webhookRetryScheduleMs: [20, 20], progressWebhookIntervalMs: 600_000 });
    secret = ((await (await fetch(`${server.url}/v1/webhooks/secret`)).json()) as { secret: string }).secret;
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  it('job.completed carries the result, the last message and progress 1', async () => {
    const job = await createJob(server, { callbackUrl: `${receiver.url}/done` });
    await report(server, job, { event: 'progress', progress: 0.5, message: 'encoding' });
    await report(server, job, { event: 'completed', result: { url: 'https://cdn.example/v.mp4', bytes: 12 }, message: 'uploaded' });
    const [final] = await received('/done', 'job.completed');
    assert.equal(final?.data.status, 'completed');
    assert.deepEqual(final?.data.result, { url: 'https://cdn.example/v.mp4', bytes: 12 });
    assert.equal(final?.data.message, 'uploaded');
    assert.equal(final?.data.progress, 1);
    assert.ok(final?.data.startedAt);
    assert.ok(!('reportToken' in (final?.data ?? {})), 'a webhook never shows the report token');
    assert.ok(!receiver.received.some((r) => r.body.includes(job.reportToken)));
    assert.deepEqual(payloads('/done').map((p) => p.type), ['job.completed'], 'no job.progress for a job that did not ask');
  });

  it("job.failed carries the worker's error and its progress so far", async () => {
    const job = await createJob(server, { callbackUrl: `${receiver.url}/failed` });
    await report(server, job, { event: 'progress', progress: 0.25 });
    await report(server, job, { event: 'failed', error: { code: 'TRANSCODE', message: 'codec not supported' } });
    const [final] = await received('/failed', 'job.failed');
    assert.deepEqual(final?.data.error, { code: 'TRANSCODE', message: 'codec not supported' });
    assert.equal(final?.data.progress, 0.25);
  });

  it('job.progress: the first change at once, later ones folded; the final is not held behind a waiting one', async () => {
    const job = await createJob(server, { callbackUrl: `${receiver.url}/progress`, webhookEvents: ['job.progress'] });
    const first = await report(server, job, { event: 'progress', progress: 0.1, message: 'downloading' });
    for (let i = 2; i <= 20; i++) await report(server, job, { event: 'progress', progress: i / 100, message: `step ${i}` });
    // A bare heartbeat is no change: it sends nothing either.
    await report(server, job, { event: 'heartbeat' });
    await report(server, job, { event: 'completed', result: 'https://cdn.example/out.mp4' });
    const got = await received('/progress', 'job.completed');
    await received('/progress', 'job.progress');
    const progress = payloads('/progress').filter((p) => p.type === 'job.progress');
    assert.deepEqual(
      progress.map((p) => [p.data.version, p.data.progress, p.data.message, p.data.status]),
      [[first.version, 0.1, 'downloading', 'pending']],
      'one progress webhook: the rest waited for the interval and were dropped at the end',
    );
    assert.equal(got.find((p) => p.type === 'job.completed')?.data.result, 'https://cdn.example/out.mp4');
    const ids = (await deliveryIds(server, job.id)).map((d) => `${d.event} ${d.id}`);
    assert.deepEqual(ids.sort(), [`job.completed msg_${job.id}_completed`, `job.progress msg_${job.id}_progress_${first.version}`].sort());
    const headers = receiver.received.filter((r) => r.path === '/progress').map((r) => r.headers['webhook-id']);
    assert.ok(headers.includes(`msg_${job.id}_progress_${first.version}`));
  });

  it('refuses an unknown webhook event at create', async () => {
    const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ webhookEvents: ['job.started'] }) });
    assert.equal(res.status, 400);
  });
});
