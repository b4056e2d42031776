import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { Delivery } from './delivery.js';
import { DeliveryDispatcher } from './delivery-dispatcher.js';
import type { DeliverySender, SendOutcome } from './delivery-sender.js';
import type { NewDelivery } from './delivery-store.js';
import { openTestEngine } from '../../../../test/helpers/engines.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent } as unknown as FastifyBaseLogger;

function delivery(n: number, now: number, tenant = 't', target = `https://x.example/${n}`): NewDelivery {
  return { id: `msg_${n}`, tenant, jobId: `job_${n}`, kind: 'webhook', event: 'job.completed', target, source: 'job', payload: '{}', status: 'pending', createdAt: now, nextAttemptAt: now };
}

/** Answers when `signal` aborts (the dispatcher's stop), as a receiver that never answers would, cut at shutdown. */
function hang(signal: AbortSignal): Promise<SendOutcome> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, aborted: true }), { once: true }));
}

/** A sender that answers from `answer` and records what it was asked to send. */
function fakeSender(answer: (d: Delivery, signal: AbortSignal) => Promise<SendOutcome>): DeliverySender & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    send: (d, signal) => {
      sent.push(d.id);
      return answer(d, signal);
    },
  };
}

async function until(condition: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await delay(5);
  }
}

const options = { retrySchedules: { webhook: [5, 5], email: [5] }, pollIntervalMs: 10, endpointBackoff: { baseBackoffMs: 5, maxBackoffMs: 20 } };

describe('DeliveryDispatcher', () => {
  it('sends each delivery once when two instances share the store', async () => {
    const store = openTestEngine('memory').engine.deliveries;
    const a = fakeSender(async () => ({ ok: true, statusCode: 200 }));
    const b = fakeSender(async () => ({ ok: true, statusCode: 200 }));
    const one = new DeliveryDispatcher(store, { webhook: a }, silent, { ...options, concurrency: 3 });
    const two = new DeliveryDispatcher(store, { webhook: b }, silent, { ...options, concurrency: 3 });
    for (let n = 0; n < 40; n++) await store.enqueue(delivery(n, Date.now()));
    one.start();
    two.start();
    await until(async () => a.sent.length + b.sent.length >= 40);
    await delay(50);
    await Promise.all([one.stop(), two.stop()]);
    const all = [...a.sent, ...b.sent];
    assert.equal(all.length, 40);
    assert.equal(new Set(all).size, 40);
    for (let n = 0; n < 40; n++) assert.equal((await store.listForJob('t', `job_${n}`))[0]?.status, 'delivered');
  });

  it('retries per the schedule and fails when it is used up; a permanent refusal fails at once', async () => {
    const store = openTestEngine('memory').engine.deliveries;
    const sender = fakeSender(async (d) => (d.id === 'msg_1' ? { ok: false, statusCode: 550, permanent: true, error: 'no' } : { ok: false, statusCode: 500, error: 'answered 500' }));
    const dispatcher = new DeliveryDispatcher(store, { webhook: sender }, silent, options);
    await store.enqueue(delivery(0, Date.now()));
    await store.enqueue(delivery(1, Date.now()));
    dispatcher.start();
    await until(async () => (await store.listForJob('t', 'job_0'))[0]?.status === 'failed');
    await dispatcher.stop();
    const [retried] = await store.listForJob('t', 'job_0');
    const [refused] = await store.listForJob('t', 'job_1');
    assert.equal(retried?.attempts.length, 3);
    assert.equal(refused?.status, 'failed');
    assert.equal(refused?.attempts.length, 1);
  });

  it('on stop, aborts what does not finish in time and hands it back unattempted', async () => {
    const store = openTestEngine('memory').engine.deliveries;
    const hanging = fakeSender((_d, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, aborted: true }))));
    const first = new DeliveryDispatcher(store, { webhook: hanging }, silent, options);
    await store.enqueue(delivery(0, Date.now()));
    first.start();
    await until(async () => hanging.sent.length === 1);
    const t0 = Date.now();
    await first.stop(50);
    assert.ok(Date.now() - t0 < 1000);
    const [released] = await store.listForJob('t', 'job_0');
    assert.equal(released?.status, 'pending');
    assert.deepEqual(released?.attempts, []);

    const ok = fakeSender(async () => ({ ok: true, statusCode: 204 }));
    const second = new DeliveryDispatcher(store, { webhook: ok }, silent, options);
    second.start();
    await until(async () => (await store.listForJob('t', 'job_0'))[0]?.status === 'delivered');
    await second.stop();
    assert.deepEqual(ok.sent, ['msg_0']);
  });

  it('records an attempt for a channel this instance does not have, and keeps retrying it', async () => {
    const store = openTestEngine('memory').engine.deliveries;
    const dispatcher = new DeliveryDispatcher(store, {}, silent, options);
    await store.enqueue({ ...delivery(0, Date.now()), kind: 'email', id: 'eml_0', target: 'a@b.c' });
    dispatcher.start();
    await until(async () => (await store.listForJob('t', 'job_0'))[0]?.status === 'failed');
    await dispatcher.stop();
    const [email] = await store.listForJob('t', 'job_0');
    assert.deepEqual(email?.attempts.map((a) => a.error), ['email is not configured on this server', 'email is not configured on this server']);
  });

  it('a receiver that hangs on hundreds of deliveries holds only its own slots: another tenant is sent before that backlog drains', async () => {
    const store = openTestEngine('memory').engine.deliveries;
    const hungInFlight = { now: 0, most: 0 };
    const order: string[] = [];
    const sender = fakeSender(async (d, signal) => {
      order.push(d.tenant);
      if (d.tenant === 'b') return { ok: true, statusCode: 204 };
      hungInFlight.now += 1;
      hungInFlight.most = Math.max(hungInFlight.most, hungInFlight.now);
      const outcome = await hang(signal);
      hungInFlight.now -= 1;
      return outcome;
    });
    const dispatcher = new DeliveryDispatcher(store, { webhook: sender }, silent, { ...options, concurrency: 16, concurrencyPerEndpoint: 4 });
    const now = Date.now();
    for (let n = 0; n < 300; n++) await store.enqueue(delivery(n, now, 'a', 'https://a.example/hook'));
    dispatcher.start();
    await until(async () => hungInFlight.now === 4);
    await store.enqueue(delivery(1000, Date.now(), 'b', 'https://b.example/hook'));
    dispatcher.kick();
    await until(async () => (await store.listForJob('b', 'job_1000'))[0]?.status === 'delivered');
    const stats = dispatcher.stats();
    await dispatcher.stop(10);
    assert.equal(order.filter((t) => t === 'a').length, 4, 'the hung endpoint got no attempt beyond its 4 in flight before b was sent');
    assert.equal(hungInFlight.most, 4);
    let untouched = 0;
    for (let n = 0; n < 300; n++) if ((await store.listForJob('a', `job_${n}`))[0]?.attempts.length === 0) untouched += 1;
    assert.equal(untouched, 300, 'the hung attempts were cut by the stop, not counted');
    assert.equal(stats.inFlight.healthy, 4);
    assert.ok(stats.waiting.healthy >= 296 - 16, `the hung endpoint's backlog waits in the store: ${JSON.stringify(stats)}`);
  });

  it('a failing endpoint backs off and is then probed one attempt at a time', async () => {
    const store = openTestEngine('memory').engine.deliveries;
    const flight = { now: 0, mostAfterFailure: 0, failed: false };
    const sender = fakeSender(async () => {
      flight.now += 1;
      if (flight.failed) flight.mostAfterFailure = Math.max(flight.mostAfterFailure, flight.now);
      await delay(2);
      flight.now -= 1;
      flight.failed = true;
      return { ok: false, statusCode: 503, error: 'answered 503' };
    });
    const dispatcher = new DeliveryDispatcher(store, { webhook: sender }, silent, {
      ...options,
      retrySchedules: { webhook: [1, 1, 1], email: [1] },
      concurrencyPerEndpoint: 4,
      endpointBackoff: { baseBackoffMs: 5, maxBackoffMs: 10 },
    });
    const now = Date.now();
    for (let n = 0; n < 20; n++) await store.enqueue(delivery(n, now, 'a', 'https://a.example/hook'));
    dispatcher.start();
    await until(async () => sender.sent.length >= 30, 10_000);
    await dispatcher.stop();
    assert.equal(flight.mostAfterFailure, 1);
  });

  it('a tenant holds at most its share of slots over all its endpoints', async () => {
    const store = openTestEngine('memory').engine.deliveries;
    const sender = fakeSender(async (d, signal) => (d.tenant === 'a' ? hang(signal) : { ok: true, statusCode: 200 }));
    const dispatcher = new DeliveryDispatcher(store, { webhook: sender }, silent, { ...options, concurrency: 10, concurrencyPerTenant: 6 });
    const now = Date.now();
    for (let n = 0; n < 40; n++) await store.enqueue(delivery(n, now, 'a', `https://a.example/${n}`));
    dispatcher.start();
    await until(async () => sender.sent.length === 6);
    for (let n = 100; n < 104; n++) await store.enqueue(delivery(n, Date.now(), 'b', `https://b.example/${n}`));
    dispatcher.kick();
    await until(async () => (await Promise.all([100, 101, 102, 103].map(async (n) => (await store.listForJob('b', `job_${n}`))[0]?.status))).every((s) => s === 'delivered'));
    await dispatcher.stop(10);
    assert.equal(sender.sent.filter((id) => Number(id.slice(4)) < 100).length, 6);
  });
});
