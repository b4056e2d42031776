/**
 * Reported jobs in a cluster: real server processes on one real Redis (a prefix of their own,
 * deleted afterwards). A worker's report on instance A wakes a long-poll and an event stream held
 * on instance B; with two instances settling, each silent worker's job is declared stalled once
 * (one transition, one job.failed webhook); and after every instance was down, running jobs get
 * one heartbeat interval from the return before they can stall (the restart rule).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Job } from '@jobwait/client';
import { SseParser } from '@jobwait/client/internal';
import { startInstance, stopInstance } from './helpers/cluster.js';
import { metricValue, parseMetrics } from './helpers/prometheus.js';
import { deleteKeys, uniquePrefix } from './helpers/redis.js';
import type { ServerProcess } from './helpers/server-process.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

type Created = Job & { reportToken: string };

const prefixes: string[] = [];
/** Every process started, so none outlives the suite even when a start fails. */
const started: ServerProcess[] = [];

async function start(prefix: string, extraArgs: string[] = [], port?: number): Promise<ServerProcess> {
  const instance = await startInstance(prefix, port, extraArgs);
  started.push(instance);
  return instance;
}

after(async () => {
  await Promise.allSettled(started.map((instance) => stopInstance(instance, 'SIGKILL')));
  for (const prefix of prefixes) await deleteKeys(prefix);
});

async function createJob(on: ServerProcess, body: Record<string, unknown>): Promise<Created> {
  const res = await fetch(`${on.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as Created;
}

async function report(on: ServerProcess, job: Created, body: Record<string, unknown>): Promise<{ status: number; job: Job }> {
  const res = await fetch(`${on.url}/v1/jobs/${job.id}/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${job.reportToken}` },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as Job & { job?: Job };
  return { status: res.status, job: answer.job ?? answer };
}

async function metrics(on: ServerProcess): Promise<ReturnType<typeof parseMetrics>> {
  return parseMetrics(await (await fetch(`${on.url}/metrics`)).text());
}

/** Resolves once `on` holds at least `count` long-polls (its own gauge says so). */
async function holding(on: ServerProcess, count: number): Promise<void> {
  const until = Date.now() + 20_000;
  while (metricValue(await metrics(on), 'jobwait_waiters', { transport: 'long-poll' }) < count) {
    if (Date.now() > until) throw new Error('the long-poll was never held');
    await delay(20);
  }
}

/** The `job` events of one job's stream, as they come. */
class JobStream {
  readonly events: Job[] = [];
  readonly ended: Promise<void>;
  private readonly controller = new AbortController();

  constructor(on: ServerProcess, id: string) {
    this.ended = this.read(`${on.url}/v1/jobs/${id}/events`);
  }

  async until(match: (job: Job) => boolean): Promise<Job> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching event; got ${JSON.stringify(this.events.map((e) => [e.status, e.version]))}`);
      await delay(10);
    }
  }

  close(): void {
    this.controller.abort();
  }

  private async read(url: string): Promise<void> {
    const res = await fetch(url, { signal: this.controller.signal });
    assert.equal(res.status, 200);
    const parser = new SseParser();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const event of parser.push(decoder.decode(chunk, { stream: true }))) if (event.event === 'job') this.events.push(JSON.parse(event.data) as Job);
      }
    } catch (error) {
      if (!this.controller.signal.aborted) throw error;
    }
  }
}

describe('reported jobs on a cluster of two instances', () => {
  const prefix = uniquePrefix('cluster-reports');
  prefixes.push(prefix);
  let a: ServerProcess;
  let b: ServerProcess;
  let receiver: WebhookReceiver;

  before(async () => {
    receiver = await startWebhookReceiver();
    const args = ['--webhook-allow-hosts', '127.0.0.1'];
    // One after the other: starts from source are CPU-bound.
    a = await start(prefix, args);
    b = await start(prefix, args);
  });
  after(() => receiver.close());

  it("a worker's report on A wakes a long-poll and an event stream held on B", { timeout: 60_000 }, async () => {
    const job = await createJob(a, {});
    const stream = new JobStream(b, job.id);
    try {
      await stream.until((j) => j.version === 1);
      const polled = fetch(`${b.url}/v1/jobs/${job.id}`, { headers: { prefer: 'wait=30', 'if-none-match': `W/"${job.id}.1"` } }).then(async (res) => (await res.json()) as Job);
      const finalPoll = fetch(`${b.url}/v1/jobs/${job.id}`, { headers: { prefer: 'wait=30, until=final' } }).then(async (res) => (await res.json()) as Job);
      await holding(b, 2);

      assert.equal((await report(a, job, { event: 'progress', progress: 0.4, message: 'transcribing' })).status, 200);
      const woke = await polled;
      assert.deepEqual([woke.version, woke.progress, woke.message], [2, 0.4, 'transcribing']);
      const streamed = await stream.until((j) => j.version === 2);
      assert.deepEqual([streamed.progress, streamed.message, streamed.status], [0.4, 'transcribing', 'pending']);

      assert.equal((await report(a, job, { event: 'completed', result: { url: 'https://cdn.example/talk.fr.mp4' } })).status, 200);
      const done = await finalPoll;
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.result, { url: 'https://cdn.example/talk.fr.mp4' });
      await stream.ended;
      assert.deepEqual(stream.events.map((j) => [j.version, j.status]), [[1, 'pending'], [2, 'pending'], [3, 'completed']]);
    } finally {
      stream.close();
    }
  });

  it('declares each silent worker\'s job stalled once with both instances settling: one transition, one job.failed webhook', { timeout: 90_000 }, async () => {
    const finishedBefore = metricValue(await metrics(a), 'jobwait_jobs_finished_total') + metricValue(await metrics(b), 'jobwait_jobs_finished_total');
    const jobs: Created[] = [];
    for (let i = 0; i < 20; i++) jobs.push(await createJob(i % 2 ? a : b, { heartbeatTimeoutSeconds: 1, callbackUrl: `${receiver.url}/stalls` }));
    // Workers start the jobs on either instance, then die: both instances know every deadline.
    for (const [i, job] of jobs.entries()) assert.equal((await report(i % 3 ? a : b, job, { event: 'started', message: 'working' })).status, 200);
    const ended = await Promise.all(
      jobs.map(async (job, i) => (await (await fetch(`${(i % 2 ? b : a).url}/v1/jobs/${job.id}`, { headers: { prefer: 'wait=30, until=final' } })).json()) as Job),
    );
    for (const job of ended) {
      assert.equal(job.status, 'error');
      assert.equal(job.error?.code, 'JOBWAIT_ERR_JOB_STALLED');
      assert.equal(job.version, 3, 'created, started, stalled: one transition to the end');
    }
    // Every webhook delivered (deliveries are listed on either instance)...
    for (const job of jobs) {
      const until = Date.now() + 20_000;
      for (;;) {
        const list = ((await (await fetch(`${a.url}/v1/jobs/${job.id}/deliveries`)).json()) as { deliveries: { event: string; status: string }[] }).deliveries;
        if (list.length === 1 && list[0]!.status === 'delivered') {
          assert.equal(list[0]!.event, 'job.failed');
          break;
        }
        assert.ok(list.length <= 1, JSON.stringify(list));
        if (Date.now() > until) throw new Error(`webhook of ${job.id} not delivered: ${JSON.stringify(list)}`);
        await delay(50);
      }
    }
    // ...once each, and each stall counted by exactly one instance (the one whose write won).
    const got = receiver.received.filter((r) => r.path === '/stalls');
    assert.equal(got.length, jobs.length);
    assert.deepEqual(new Set(got.map((r) => r.headers['webhook-id'])), new Set(jobs.map((j) => `msg_${j.id}_failed`)));
    const finishedAfter = metricValue(await metrics(a), 'jobwait_jobs_finished_total') + metricValue(await metrics(b), 'jobwait_jobs_finished_total');
    assert.equal(finishedAfter - finishedBefore, jobs.length);
  });
});

describe('the restart rule on Redis', () => {
  it('after every instance was down, running jobs get one heartbeat interval from the return; then a silent one stalls', { timeout: 120_000 }, async () => {
    const prefix = uniquePrefix('cluster-grace');
    prefixes.push(prefix);
    let instance = await start(prefix);
    const port = instance.port;
    // 8 s: the report after the return must come within one interval, on a busy machine too.
    const live = await createJob(instance, { heartbeatTimeoutSeconds: 8 });
    const silent = await createJob(instance, { heartbeatTimeoutSeconds: 8 });
    for (const job of [live, silent]) assert.equal((await report(instance, job, { event: 'progress', progress: 0.3 })).status, 200);
    await stopInstance(instance, 'SIGKILL');
    // Down longer than both the heartbeat timeout and the gap (5 s) that tells an outage from a restart.
    await delay(10_000);
    instance = await start(prefix, [], port);
    // Both jobs' stall deadlines passed while the server was down; neither stalled of it.
    const back = await report(instance, live, { event: 'progress', progress: 0.6, message: 'back' });
    assert.equal(back.status, 200, JSON.stringify(back.job));
    assert.equal(back.job.status, 'pending');
    const polled = await fetch(`${instance.url}/v1/jobs/${silent.id}`, { headers: { prefer: 'wait=30, until=final' } });
    const stalled = (await polled.json()) as Job;
    assert.equal(stalled.status, 'error');
    assert.equal(stalled.error?.code, 'JOBWAIT_ERR_JOB_STALLED');
    assert.ok(Date.parse(stalled.updatedAt) > Date.parse(back.job.updatedAt), 'it stalled a heartbeat interval after the return, not at its deadline during the outage');
    assert.equal((await report(instance, live, { event: 'completed', result: 'ok' })).job.status, 'completed');
  });
});
