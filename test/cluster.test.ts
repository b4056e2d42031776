/**
 * Issue 4, cluster mode: three real server processes on different ports share
 * the real Redis (a prefix of their own, deleted afterwards). A waiter on one
 * instance wakes when its job changes on another; creates are idempotent
 * across instances; each settle is published once; an instance that crashes
 * and comes back, or loses its Redis subscription, loses nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Job } from '@jobwait/client';
import { SseParser } from '@jobwait/client/internal';
import type { Redis } from 'ioredis';
import { startInstance, stopInstance } from './helpers/cluster.js';
import { clientIdByName, deleteKeys, testRedis, uniquePrefix } from './helpers/redis.js';
import type { ServerProcess } from './helpers/server-process.js';

const prefix = uniquePrefix('cluster');
let a: ServerProcess;
let b: ServerProcess;
let c: ServerProcess;
let redis: Redis;
/** Every process started, so none outlives the suite even when a start fails. */
const started: ServerProcess[] = [];

async function start(port?: number): Promise<ServerProcess> {
  const instance = await startInstance(prefix, port);
  started.push(instance);
  return instance;
}

before(async () => {
  redis = testRedis();
  // One after the other: starts from source are CPU-bound, and parallel ones can outlast the start timeout on a busy machine.
  a = await start();
  b = await start();
  c = await start();
});
after(async () => {
  await Promise.allSettled(started.map((instance) => stopInstance(instance)));
  await deleteKeys(prefix);
  redis.disconnect();
});

async function createJob(on: ServerProcess, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ status: number; job: Job; replayed: boolean }> {
  const res = await fetch(`${on.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, job: (await res.json()) as Job, replayed: res.headers.get('idempotent-replayed') === 'true' };
}

/** A long-poll; resolves with the answer and when it arrived. */
async function longPoll(on: ServerProcess, id: string, waitSeconds = 30): Promise<{ status: number; job: Job; at: number }> {
  const res = await fetch(`${on.url}/v1/jobs/${id}`, { headers: { prefer: `wait=${waitSeconds}` } });
  const job = (await res.json()) as Job;
  return { status: res.status, job, at: Date.now() };
}

/** An SSE reader of one job's stream that records each `job` event and when it came. */
class JobStream {
  readonly events: { job: Job; at: number }[] = [];
  readonly ended: Promise<void>;
  private readonly controller = new AbortController();

  constructor(on: ServerProcess, id: string) {
    this.ended = this.read(`${on.url}/v1/jobs/${id}/events`);
  }

  /** Resolves once an event matches (the first one proves the stream is subscribed). */
  async until(match: (job: Job) => boolean, timeoutMs = 20_000): Promise<{ job: Job; at: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => match(e.job));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching event; got ${JSON.stringify(this.events.map((e) => [e.job.status, e.job.version]))}`);
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
        for (const event of parser.push(decoder.decode(chunk, { stream: true }))) {
          if (event.event === 'job') this.events.push({ job: JSON.parse(event.data) as Job, at: Date.now() });
        }
      }
    } catch (error) {
      if (!this.controller.signal.aborted) throw error;
    }
  }
}

describe('a cluster of three instances on one Redis', () => {
  it('a job created on A is long-polled on B and streamed on C, and both wake when it completes', { timeout: 60_000 }, async () => {
    const { status, job } = await createJob(a, { duration: 1.5 });
    assert.equal(status, 201);
    const stream = new JobStream(c, job.id);
    await stream.until((j) => j.version === 1);
    const held = longPoll(b, job.id);
    const [polled, final] = await Promise.all([held, stream.until((j) => j.version === 2)]);
    await stream.ended; // the server closes the stream after the final state
    const dueAt = Date.parse(job.dueAt!);
    assert.equal(polled.status, 200);
    assert.equal(polled.job.status, 'completed');
    assert.equal(polled.job.version, 2);
    assert.equal(final.job.status, 'completed');
    assert.ok(polled.at >= dueAt && final.at >= dueAt, 'nobody woke before the due time');
    // A long-poll also re-reads on its own a second after the due time; waking well before that shows the feed woke it.
    assert.ok(polled.at - dueAt < 900, `long-poll on B woke ${polled.at - dueAt} ms after due`);
  });

  it('a cancel on C wakes the long-polls and streams waiting on A', { timeout: 60_000 }, async () => {
    const { job } = await createJob(b, { duration: 120 });
    const stream = new JobStream(a, job.id);
    await stream.until((j) => j.version === 1);
    const held = [longPoll(a, job.id, 30), longPoll(a, job.id, 30)];
    await delay(300);
    const t0 = Date.now();
    const res = await fetch(`${c.url}/v1/jobs/${job.id}`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as Job).status, 'canceled');
    for (const answer of await Promise.all(held)) {
      assert.equal(answer.job.status, 'canceled');
      assert.ok(answer.at - t0 < 10_000, 'woken by the cancel, not by the end of its 30 s hold');
    }
    assert.equal((await stream.until((j) => j.status === 'canceled')).job.version, 2);
    await stream.ended;
  });

  it('one Idempotency-Key sent to several instances at once makes one job', { timeout: 30_000 }, async () => {
    const body = { duration: 30, metadata: { test: 'idempotency', run: prefix } };
    const headers = { 'idempotency-key': `key-${Date.now()}` };
    const answers = await Promise.all([createJob(a, body, headers), createJob(b, body, headers), createJob(c, body, headers), createJob(a, body, headers)]);
    assert.ok(answers.every((x) => x.status === 201), JSON.stringify(answers.map((x) => x.status)));
    assert.equal(new Set(answers.map((x) => x.job.id)).size, 1);
    assert.equal(answers.filter((x) => !x.replayed).length, 1, 'one created, the others replayed');
    const other = await fetch(`${c.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ ...body, duration: 31 }) });
    assert.equal(other.status, 422);
    await other.arrayBuffer();
    const listed = (await (await fetch(`${b.url}/v1/jobs?limit=100`)).json()) as { jobs: Job[] };
    assert.equal(listed.jobs.filter((j) => (j.metadata as { test?: string } | undefined)?.test === 'idempotency').length, 1);
    await (await fetch(`${a.url}/v1/jobs/${answers[0]!.job.id}`, { method: 'DELETE' })).arrayBuffer();
  });

  it('publishes each change once, whichever instance settles it', { timeout: 60_000 }, async () => {
    const subscriber = testRedis();
    const seen = new Map<string, Job[]>();
    try {
      subscriber.on('message', (_channel: string, message: string) => {
        const { j } = JSON.parse(message) as { j: { id: string; version: number; state: string } };
        const list = seen.get(j.id) ?? [];
        list.push(j as unknown as Job);
        seen.set(j.id, list);
      });
      await subscriber.subscribe(`${prefix}changes`);
      const instances = [a, b, c];
      const created = await Promise.all(Array.from({ length: 30 }, (_, i) => createJob(instances[i % 3]!, { duration: 0.4 + (i % 5) * 0.1, outcome: i % 4 === 0 ? 'error' : 'completed' })));
      const finals = await Promise.all(created.map(({ job }, i) => longPoll(instances[(i + 1) % 3]!, job.id)));
      for (const [i, answer] of finals.entries()) assert.equal(answer.job.status, i % 4 === 0 ? 'error' : 'completed');
      await delay(500); // any duplicate publish would have arrived by now
      for (const { job } of created) {
        const versions = (seen.get(job.id) ?? []).map((j) => j.version).sort();
        assert.deepEqual(versions, [1, 2], `job ${job.id}: one 'created' and one settle message`);
      }
    } finally {
      subscriber.disconnect();
    }
  });

  it('an instance that crashes and restarts loses nothing, and its waiters resume', { timeout: 90_000 }, async () => {
    const onB = await createJob(b, { duration: 8 });
    const stays = await createJob(b, { duration: 300 });
    const onA = await createJob(a, { duration: 1 });
    const held = fetch(`${b.url}/v1/jobs/${onB.job.id}`, { headers: { prefer: 'wait=30' } }).then(
      () => 'answered',
      () => 'connection lost',
    );
    await delay(200);
    await stopInstance(b, 'SIGKILL');
    assert.equal(await held, 'connection lost');
    // While B is down the others settle what falls due.
    assert.equal((await longPoll(c, onA.job.id)).job.status, 'completed');
    b = await start(b.port);
    // The waiter comes back to B and holds until the job completes there (or, if the restart took
    // longer than the job, gets the final state at once).
    const sentAt = Date.now();
    const resumed = await longPoll(b, onB.job.id);
    assert.equal(resumed.job.status, 'completed');
    assert.equal(resumed.job.version, 2);
    const dueAt = Date.parse(onB.job.dueAt!);
    if (sentAt < dueAt - 100) assert.ok(resumed.at - dueAt < 900, `woke ${resumed.at - dueAt} ms after due`);
    const listed = (await (await fetch(`${b.url}/v1/jobs?limit=100`)).json()) as { jobs: Job[] };
    const byId = new Map(listed.jobs.map((j) => [j.id, j]));
    assert.equal(byId.get(onB.job.id)?.status, 'completed');
    assert.equal(byId.get(onA.job.id)?.status, 'completed');
    assert.equal(byId.get(stays.job.id)?.status, 'pending');
    await (await fetch(`${b.url}/v1/jobs/${stays.job.id}`, { method: 'DELETE' })).arrayBuffer();
  });

  it('an instance whose Redis subscription drops resyncs its streams and delivers what it missed', { timeout: 60_000 }, async () => {
    const { job } = await createJob(a, { duration: 120 });
    const stream = new JobStream(b, job.id);
    await stream.until((j) => j.version === 1);
    const feedConnection = await clientIdByName(redis, `jobwait-feed-${b.child.pid}`);
    assert.ok(feedConnection, "found B's subscriber connection");
    await redis.client('KILL', 'ID', feedConnection);
    // Published while B is not subscribed: only the resync after its reconnect can tell it.
    const res = await fetch(`${a.url}/v1/jobs/${job.id}`, { method: 'DELETE' });
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    assert.equal((await stream.until((j) => j.status === 'canceled')).job.version, 2);
    await stream.ended;
    assert.equal((await (await fetch(`${b.url}/readyz`)).json() as { status: string }).status, 'ready');
  });
});
