/**
 * Issue 20: one tenant's webhook receiver that hangs cannot hold back
 * another tenant's webhooks. Real server, real receivers on 127.0.0.1; the
 * order of arrivals is asserted, never a time (the delay itself is measured
 * by bench/webhook-isolation.ts).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { generateApiKey } from '@jobwait/server';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';
import { metricValue, parseMetrics } from './helpers/prometheus.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

/** A receiver that takes each request and never answers. */
async function startHangingReceiver(): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const server: Server = createServer(() => {
    requests += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

describe('webhook deliveries are isolated per endpoint', () => {
  const greedy = generateApiKey();
  const other = generateApiKey();
  const as = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
  let server: TestServer;
  let hanging: Awaited<ReturnType<typeof startHangingReceiver>>;
  let prompt: WebhookReceiver;

  before(async () => {
    hanging = await startHangingReceiver();
    prompt = await startWebhookReceiver();
    // Attempts are allowed 2 minutes, so the hung ones stay in flight for the whole test however slow the machine.
    server = await startTestServer({ store: 'sqlite', webhookAllowHosts: ['127.0.0.1'], webhookTimeoutMs: 120_000, rateLimit: 0, apiKeys: [greedy.key, other.key] });
  });
  after(async () => {
    await server.close();
    await hanging.close();
    await prompt.close();
  });

  it("another tenant's webhook arrives while a receiver hangs on hundreds of deliveries, long before that backlog drains", async () => {
    const jobs = 200;
    const created: string[] = [];
    for (let n = 0; n < jobs; n++) {
      const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: as(greedy.key), body: JSON.stringify({ duration: 0.01, callbackUrl: `${hanging.url}/hook` }) });
      assert.equal(res.status, 201);
      created.push(((await res.json()) as { id: string }).id);
    }
    // Every greedy job has ended and its endpoint is busy with attempts that will not be answered.
    await until('the greedy jobs to end', async () => {
      const res = await fetch(`${server.url}/v1/jobs/${created.at(-1)}`, { headers: as(greedy.key) });
      return ((await res.json()) as { status: string }).status === 'completed';
    });
    await until('the hanging receiver to hold attempts', () => hanging.requests() >= 4);

    const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: as(other.key), body: JSON.stringify({ duration: 0.05, callbackUrl: `${prompt.url}/hook` }) });
    assert.equal(res.status, 201);
    const [arrived] = await prompt.waitFor(1, 30_000);
    assert.equal(arrived?.path, '/hook');

    // When it arrived, the hanging endpoint had been tried only as often as it may be at once.
    assert.equal(hanging.requests(), 4);
    const samples = parseMetrics(await (await fetch(`${server.url}/metrics`)).text());
    assert.equal(metricValue(samples, 'jobwait_delivery_attempts_in_flight', { endpoint_state: 'healthy' }), 4);
    assert.ok(metricValue(samples, 'jobwait_delivery_backlog', { endpoint_state: 'healthy' }) >= jobs - 4 - 64, 'the backlog waits in the store, counted');
    let unattempted = 0;
    for (const id of created.slice(0, 50)) {
      const list = ((await (await fetch(`${server.url}/v1/jobs/${id}/deliveries`, { headers: as(greedy.key) })).json()) as { deliveries: { status: string; attempts: unknown[] }[] }).deliveries;
      if (list[0]?.status === 'pending' && list[0].attempts.length === 0) unattempted += 1;
    }
    assert.ok(unattempted >= 46, `the greedy backlog is still waiting: ${unattempted} of 50 unattempted`);
  });
});
