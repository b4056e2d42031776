/**
 * `waitForJob` (and `getTimerStatus`) against the real server: every strategy
 * finishes, a deadline ends a wait only after a final look at the deadline,
 * and an abort ends it at once with no request reaching the server afterwards
 * and without canceling the job.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { AbortError, JobwaitClient, TimeoutError, TimerClient, type Job, type WaitStrategy } from '@jobwait/client';
import type { FetchLike } from '@jobwait/client/internal';
import { buildServer, type ServerOptions } from '@jobwait/server';

const STRATEGIES: readonly WaitStrategy[] = ['auto', 'long-poll', 'sse', 'poll'];

/** A request as the server saw it arrive. */
interface Arrival {
  method: string;
  path: string;
  at: number;
  prefer: string | undefined;
}

/** A request as the client's fetch sent it. */
interface Sent {
  method: string;
  url: string;
  at: number;
}

/** How long after an abort the tests watch for stray requests. */
const QUIET_MS = 1500;

/**
 * A fresh in-memory server that records every request it receives, a client whose `fetch` records
 * every request it sends, and an `observer` client for setup and checks (not counted in `sent`).
 */
async function startServer(t: TestContext, options: ServerOptions = {}, setup?: (app: Awaited<ReturnType<typeof buildServer>>) => void) {
  // The requests are observed by an onRequest hook: plain reads must go through Fastify's pipeline to meet it.
  const app = await buildServer({ store: 'memory', logLevel: 'silent', ...options });
  setup?.(app);
  const arrivals: Arrival[] = [];
  app.addHook('onRequest', async (request) => {
    const prefer = request.headers.prefer;
    arrivals.push({ method: request.method, path: request.url.split('?')[0] ?? '', at: Date.now(), prefer: typeof prefer === 'string' ? prefer : undefined });
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  const sent: Sent[] = [];
  const countingFetch: FetchLike = (input, init) => {
    sent.push({ method: init.method ?? 'GET', url: input, at: Date.now() });
    return fetch(input, init);
  };
  return {
    app,
    url,
    arrivals,
    sent,
    client: new JobwaitClient({ baseUrl: url, fetch: countingFetch }),
    timer: new TimerClient({ baseUrl: url, fetch: countingFetch }),
    observer: new JobwaitClient({ baseUrl: url }),
  };
}

function isCode(code: string) {
  return (error: unknown): boolean => {
    assert.equal((error as { code?: unknown }).code, code, `expected ${code}, got ${String(error)}`);
    return true;
  };
}

describe('waitForJob on a short job', { concurrency: true }, () => {
  for (const strategy of STRATEGIES) {
    test(`resolves completed with strategy ${strategy}, not before the job is due`, async (t) => {
      const { client, observer, arrivals } = await startServer(t);
      const job = await observer.createJob({ duration: 0.4 });
      const updates: Job[] = [];
      const started = Date.now();
      const done = await client.waitForJob(job.id, { strategy, timeoutMs: 5000, onUpdate: (j) => updates.push(j) });
      assert.equal(done.id, job.id);
      assert.equal(done.status, 'completed');
      assert.equal(done.version, 2);
      assert.ok(Date.now() >= Date.parse(job.dueAt!), 'resolved at or after the due time');
      assert.ok(Date.now() - started < 4000, 'resolved well before the deadline');
      assert.equal(updates.at(-1)?.status, 'completed', 'onUpdate saw the final state');

      const jobPath = `/v1/jobs/${job.id}`;
      const streamed = arrivals.some((a) => a.path === `${jobPath}/events`);
      const held = arrivals.some((a) => a.path === jobPath && a.prefer?.startsWith('wait='));
      if (strategy === 'sse') assert.ok(streamed, 'followed the event stream');
      // With onUpdate the wait reads the state first: a job it already finds final (a slow machine) needs no hold.
      const sawPending = updates.some((u) => u.status === 'pending');
      if ((strategy === 'long-poll' || strategy === 'auto') && sawPending) assert.ok(held, 'asked the server to hold the request');
      if (strategy === 'poll') assert.ok(!streamed && !held, 'plain GETs only');
      assert.ok(!arrivals.some((a) => a.method === 'DELETE'));
    });
  }

  test('returns a job that is already final after a single request', async (t) => {
    const { client, observer, sent } = await startServer(t);
    const job = await observer.createJob({ duration: 0.1, outcome: 'error' });
    await delay(300);
    const done = await client.waitForJob(job.id, { timeoutMs: 5000 });
    assert.equal(done.status, 'error');
    assert.equal(sent.length, 1);
  });
});

describe('waitForJob with a deadline shorter than the job', { concurrency: true }, () => {
  const timeoutMs = 700;
  for (const strategy of STRATEGIES) {
    test(`rejects TimeoutError with strategy ${strategy}, after a final look at the deadline`, async (t) => {
      const { client, observer, arrivals } = await startServer(t);
      const job = await observer.createJob({ duration: 3 });
      const started = Date.now();
      await assert.rejects(client.waitForJob(job.id, { strategy, timeoutMs }), (error: unknown) => {
        assert.ok(error instanceof TimeoutError, `TimeoutError expected, got ${String(error)}`);
        assert.equal(error.code, 'JOBWAIT_ERR_TIMEOUT');
        assert.equal(error.timeoutMs, timeoutMs);
        const last = error.lastValue as Job;
        assert.equal(last.id, job.id);
        assert.equal(last.status, 'pending');
        return true;
      });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= timeoutMs, `not before the deadline: ${elapsed} ms`);
      assert.ok(elapsed < 2500, `did not wait the job out: ${elapsed} ms`);

      const looks = arrivals.filter((a) => a.method === 'GET' && a.path === `/v1/jobs/${job.id}`);
      const finalLook = looks.at(-1);
      assert.ok(finalLook, 'at least one look at the job');
      assert.ok(finalLook.at >= started + timeoutMs, `the last look came at the deadline (${finalLook.at - started} ms)`);
      assert.equal(finalLook.prefer, undefined, 'the final look is not held');

      const count = arrivals.length;
      await delay(300);
      assert.equal(arrivals.length, count, 'no request after the wait ended');
      assert.equal((await observer.getJob(job.id)).status, 'pending', 'the job is left running');
      assert.ok(!arrivals.some((a) => a.method === 'DELETE'));
    });
  }

  test('a long-poll held by the server still ends with a final look at a 1.5 s deadline', async (t) => {
    const { client, observer, arrivals } = await startServer(t);
    const job = await observer.createJob({ duration: 5 });
    const started = Date.now();
    await assert.rejects(client.waitForJob(job.id, { strategy: 'long-poll', timeoutMs: 1500 }), isCode('JOBWAIT_ERR_TIMEOUT'));
    assert.ok(Date.now() - started >= 1500);
    const looks = arrivals.filter((a) => a.path === `/v1/jobs/${job.id}`);
    assert.equal(looks[0]?.prefer, 'wait=1, until=final', 'the first look asked for a 1 s hold, answered only by a final state');
    assert.ok((looks.at(-1)?.at ?? 0) >= started + 1500, 'the final look came at the deadline');
  });
});

describe('TimerClient.getTimerStatus with a limit', { concurrency: true }, () => {
  test('rejects TimeoutError carrying the last status, after a final look at the deadline', async (t) => {
    const { timer, arrivals } = await startServer(t);
    await timer.startTimer(3);
    const started = Date.now();
    await assert.rejects(timer.getTimerStatus({ timeoutMs: 700 }), (error: unknown) => {
      assert.ok(error instanceof TimeoutError, `TimeoutError expected, got ${String(error)}`);
      assert.deepEqual(error.lastValue, { result: 'pending' });
      return true;
    });
    assert.ok(Date.now() - started >= 700);
    const finalLook = arrivals.filter((a) => a.path === '/status').at(-1);
    assert.ok(finalLook && finalLook.at >= started + 700, 'the last look came at the deadline');
  });

  test('rejects AttemptsExhaustedError carrying the last status after maxAttempts looks', async (t) => {
    const { timer, arrivals, url } = await startServer(t);
    // Started by another client: one that started it itself takes no look before its end (3 s).
    await new TimerClient({ baseUrl: url }).startTimer(3);
    await assert.rejects(timer.getTimerStatus({ maxAttempts: 2, strategy: 'poll', initialDelayMs: 50, minDelayMs: 50 }), (error: unknown) => {
      assert.equal((error as { code?: unknown }).code, 'JOBWAIT_ERR_ATTEMPTS_EXHAUSTED');
      assert.equal((error as { attempts?: unknown }).attempts, 2);
      assert.deepEqual((error as { lastValue?: unknown }).lastValue, { result: 'pending' });
      return true;
    });
    assert.equal(arrivals.filter((a) => a.path === '/status').length, 2);
  });
});

describe('aborting a wait', { concurrency: true }, () => {
  for (const strategy of STRATEGIES) {
    test(`with strategy ${strategy} rejects AbortError promptly, sends nothing more and leaves the job alone`, async (t) => {
      const { app, client, observer, arrivals, sent } = await startServer(t);
      const job = await observer.createJob({ duration: 5 });
      const controller = new AbortController();
      const waiting = client.waitForJob(job.id, { strategy, signal: controller.signal });
      await delay(400);
      assert.ok(sent.length >= 1, 'the wait had started talking to the server');

      const abortedAt = Date.now();
      controller.abort();
      await assert.rejects(waiting, (error: unknown) => {
        assert.ok(error instanceof AbortError, `AbortError expected, got ${String(error)}`);
        assert.equal(error.code, 'JOBWAIT_ERR_ABORTED');
        return true;
      });
      const took = Date.now() - abortedAt;
      assert.ok(took < 300, `rejected ${took} ms after the abort`);

      const sentAtAbort = sent.length;
      const arrivedAtAbort = arrivals.length;
      await delay(QUIET_MS);
      assert.deepEqual(sent.slice(sentAtAbort), [], 'the client sent nothing after the abort');
      assert.deepEqual(arrivals.slice(arrivedAtAbort), [], 'nothing reached the server after the abort');
      assert.ok(!arrivals.some((a) => a.method === 'DELETE'), 'the server never received a DELETE');
      // The aborted request's connection is closed: the server holds no long-poll and no stream for it.
      assert.equal(app.jobs.heldWaits(), 0, 'no long-poll still held');
      assert.equal(app.jobs.subscriptions(), 0, 'no subscription left');

      const after = await observer.getJob(job.id);
      assert.equal(after.status, 'pending', 'aborting the wait did not cancel the job');
      assert.equal(after.version, 1);
    });
  }

  test('with a signal already aborted rejects AbortError without sending a request', async (t) => {
    const { client, observer, sent } = await startServer(t);
    const job = await observer.createJob({ duration: 5 });
    for (const strategy of STRATEGIES) {
      await assert.rejects(client.waitForJob(job.id, { strategy, signal: AbortSignal.abort() }), isCode('JOBWAIT_ERR_ABORTED'));
    }
    assert.equal(sent.length, 0);
  });

  test('during a transport retry backoff stops the sleep and sends no retry', async (t) => {
    let refuseId = '';
    let refused = 0;
    const { client, observer, sent } = await startServer(t, {}, (app) => {
      // The job's reads answer 503 with Retry-After: 5, so the client sleeps 5 s before retrying.
      app.addHook('onRequest', async (request, reply) => {
        if (refuseId !== '' && request.method === 'GET' && request.url.startsWith(`/v1/jobs/${refuseId}`)) {
          refused++;
          await reply.code(503).header('retry-after', '5').type('application/problem+json').send({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'test', code: 'JOBWAIT_ERR_UNAVAILABLE' });
        }
      });
    });
    const job = await observer.createJob({ duration: 5 });
    refuseId = job.id;
    const controller = new AbortController();
    const waiting = client.waitForJob(job.id, { strategy: 'poll', signal: controller.signal });
    await delay(400);
    assert.equal(refused, 1, 'one refused look, now sleeping before the retry');
    const abortedAt = Date.now();
    controller.abort();
    await assert.rejects(waiting, isCode('JOBWAIT_ERR_ABORTED'));
    assert.ok(Date.now() - abortedAt < 300);
    const count = sent.length;
    await delay(QUIET_MS);
    assert.equal(sent.length, count);
    assert.equal(refused, 1, 'no retry reached the server');
  });

  test('TimerClient.getTimerStatus rejects AbortError and sends nothing more', async (t) => {
    const { timer, arrivals, sent } = await startServer(t);
    await timer.startTimer(5);
    const controller = new AbortController();
    const waiting = timer.getTimerStatus({ signal: controller.signal });
    await delay(400);
    const abortedAt = Date.now();
    controller.abort();
    await assert.rejects(waiting, isCode('JOBWAIT_ERR_ABORTED'));
    assert.ok(Date.now() - abortedAt < 300);
    const sentAtAbort = sent.length;
    const arrivedAtAbort = arrivals.length;
    await delay(QUIET_MS);
    assert.equal(sent.length, sentAtAbort);
    assert.equal(arrivals.length, arrivedAtAbort);
    assert.ok(!arrivals.some((a) => a.method === 'DELETE'));
  });
});
