/**
 * Ingest against the real brokers: RabbitMQ and Redis Streams as sources of one in-process server
 * on SQLite. Each test uses queues and streams of its own names, so tests sharing the brokers never
 * see each other's messages.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { SourceStatus } from '@jobwait/server';
import { amqpPublisher, streamPublisher, TEST_AMQP_URL, uniqueName, type AmqpPublisher, type StreamPublisher } from './helpers/brokers.js';
import { pipelineTraffic } from './helpers/ingest-traffic.js';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';
import { TEST_REDIS_URL } from './helpers/redis.js';

type Kind = 'amqp' | 'redis-stream';

/** A server with one source of `kind` on a fresh queue or stream, and a publisher on it. */
async function setup(kind: Kind, extra: Record<string, unknown> = {}): Promise<{ server: TestServer; publisher: AmqpPublisher | StreamPublisher; status: () => SourceStatus }> {
  const name = uniqueName(kind);
  const source =
    kind === 'amqp'
      ? { kind, url: TEST_AMQP_URL, queue: name, tenants: ['public'], ...extra }
      : { kind, url: TEST_REDIS_URL, stream: name, tenants: ['public'], claimIdleMs: 1000, ...extra };
  const publisher = kind === 'amqp' ? await amqpPublisher(name) : streamPublisher(name);
  const server = await startTestServer({ store: 'sqlite', maxResultBytes: 2048, ingestSources: [source as never] });
  return { server, publisher, status: () => server.app.ingest.status()[0]! };
}

/** Polls until `done()` holds (a generous bound: a failure is a hang, not a slow run). */
async function until(done: () => boolean | Promise<boolean>, what: string, limitMs = 120_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const kind of ['amqp', 'redis-stream'] as const) {
  describe(`ingest from ${kind}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    it('applies 10,000 messages with 1% poison: every good one once, every poison one dead-lettered with its reason', async () => {
      const { server, publisher, status } = await setup(kind);
      cleanups.push(() => server.close(), () => publisher.close());
      const plan = pipelineTraffic({ jobs: 990, perJob: 10, poison: 100, prefix: 'bulk' });
      assert.equal(plan.length, 10_000);
      for (const message of plan) await publisher.publish(message.body);
      await publisher.flush();
      await until(() => {
        const s = status();
        return s.applied + s.duplicate + s.ignored + s.deadLettered >= 10_000;
      }, 'all 10,000 messages acknowledged');
      const s = status();
      assert.deepEqual({ applied: s.applied, duplicate: s.duplicate, ignored: s.ignored, deadLettered: s.deadLettered }, { applied: 9900, duplicate: 0, ignored: 0, deadLettered: 100 });
      const counts = await server.app.jobs.countByStatus('public');
      assert.deepEqual(counts, { pending: 0, completed: 990, error: 0, canceled: 0 });
      // Each job: created (version 1), then ten visible changes, each applied once.
      const { jobs } = await server.app.jobs.list('public', { limit: 1000 });
      assert.equal(jobs.length, 990);
      for (const job of jobs) {
        assert.equal(job.version, 11, `job ${job.id} version`);
        assert.match(String((job.result as { url: string }).url), /^https:\/\/cdn\.example\/bulk-video-\d+\.fr\.mp4$/);
      }
      const dead = await publisher.deadLetters();
      assert.equal(dead.length, 100);
      const expected = plan.filter((m) => m.poison).map((m) => `${typeof m.body === 'string' ? m.body : JSON.stringify(m.body)} => ${m.poison}`).sort();
      assert.deepEqual(dead.map((d) => `${d.body} => ${d.reason}`).sort(), expected);
      const ready = await server.app.inject('/readyz');
      assert.equal(ready.statusCode, 200);
      const body = ready.json() as { status: string; ingest: SourceStatus[] };
      assert.equal(body.ingest[0]!.state, 'consuming');
      assert.equal(body.ingest[0]!.applied, 9900);
      const metrics = await server.app.inject('/metrics');
      assert.match(metrics.body, new RegExp(`jobwait_ingest_messages_total\\{source="${kind}:[^"]+",result="applied"\\} 9900`));
      assert.match(metrics.body, /jobwait_ingest_dead_letters_total\{source="[^"]+",reason="wrong_tenant"\} 20/);
      assert.match(metrics.body, /jobwait_ingest_source_up\{source="[^"]+"\} 1/);
    });

    it('changes nothing twice for duplicates, and never moves a job backwards on reordering', async () => {
      const { server, publisher, status } = await setup(kind);
      cleanups.push(() => server.close(), () => publisher.close());
      const at = (s: number) => new Date(Date.now() - 60_000 + s * 1000).toISOString();
      const m = (id: string, fields: object) => ({ messageId: id, tenant: 'public', externalId: 'reorder', ...fields });
      const sequence = [
        m('a', { event: 'started', seq: 1, at: at(1) }),
        m('c', { event: 'progress', progress: 0.6, seq: 3, at: at(3) }),
        m('b', { event: 'progress', progress: 0.3, seq: 2, at: at(2) }), // older seq: stale
        m('c', { event: 'progress', progress: 0.6, seq: 3, at: at(3) }), // a duplicate
        m('d', { event: 'completed', result: { url: 'https://cdn.example/r.mp4' }, seq: 4, at: at(4) }),
        m('e', { event: 'progress', progress: 0.9, seq: 5, at: at(5) }), // late: after completed
        m('d', { event: 'completed', result: { url: 'https://cdn.example/r.mp4' }, seq: 4, at: at(4) }), // duplicate final
      ];
      for (const message of sequence) await publisher.publish(message);
      await publisher.flush();
      await until(() => {
        const s = status();
        return s.applied + s.duplicate + s.ignored + s.deadLettered >= sequence.length;
      }, 'the messages acknowledged');
      const s = status();
      assert.deepEqual({ applied: s.applied, duplicate: s.duplicate, ignored: s.ignored, deadLettered: s.deadLettered }, { applied: 3, duplicate: 2, ignored: 2, deadLettered: 0 });
      const { jobs } = await server.app.jobs.list('public', { limit: 10 });
      assert.equal(jobs.length, 1);
      assert.equal(jobs[0]!.state, 'completed');
      assert.equal(jobs[0]!.version, 4);
      const metrics = await server.app.inject('/metrics');
      assert.match(metrics.body, /result="ignored_late"\} 1/);
      assert.match(metrics.body, /result="ignored_stale"\} 1/);
    });

    it('refuses a message for a tenant its source is not bound to, and moves on', async () => {
      const { server, publisher, status } = await setup(kind, { tenants: ['tenant-a'] });
      cleanups.push(() => server.close(), () => publisher.close());
      await publisher.publish({ messageId: 'w1', tenant: 'tenant-b', externalId: 'v', event: 'started', at: new Date().toISOString() });
      await publisher.publish({ messageId: 'w2', tenant: 'tenant-a', externalId: 'v', event: 'started', at: new Date().toISOString() });
      await publisher.flush();
      await until(() => status().applied + status().deadLettered >= 2, 'both messages acknowledged');
      assert.equal(status().applied, 1);
      assert.deepEqual((await publisher.deadLetters()).map((d) => d.reason), ['wrong_tenant']);
      assert.equal((await server.app.jobs.list('tenant-b', { limit: 10 })).jobs.length, 0);
      assert.equal((await server.app.jobs.list('tenant-a', { limit: 10 })).jobs.length, 1);
    });
  });
}
