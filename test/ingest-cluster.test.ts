/**
 * Ingest in a cluster: two instances on one Redis store (the job store is shared) consume the
 * same RabbitMQ queue, or the same Redis stream through one consumer group. The broker gives each
 * message to one of them, so a job's messages are applied by both, not in order: an older one
 * that arrives after a newer one is ignored (stale, or late after the end), never applied. What
 * shows nothing was applied twice: every applied message made one visible change, so the jobs'
 * versions add up to the messages applied across both instances, exactly.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { SourceStatus } from '@jobwait/server';
import { amqpPublisher, streamPublisher, TEST_AMQP_URL, uniqueName, type AmqpPublisher, type StreamPublisher } from './helpers/brokers.js';
import { pipelineTraffic } from './helpers/ingest-traffic.js';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';

const JOBS = 200;
const PER_JOB = 10;

async function until(done: () => boolean | Promise<boolean>, what: string, limitMs = 180_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const kind of ['amqp', 'redis-stream'] as const) {
  describe(`ingest from ${kind} by two instances of a cluster`, () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    });

    it('applies every message once across the instances, and every job ends once', async () => {
      const name = uniqueName(`cluster-${kind}`);
      const prefix = uniquePrefix(`ingest-${kind}`);
      cleanups.push(() => deleteKeys(prefix));
      const publisher: AmqpPublisher | StreamPublisher = kind === 'amqp' ? await amqpPublisher(name) : streamPublisher(name);
      cleanups.push(() => publisher.close());
      const servers: TestServer[] = [];
      for (const consumer of ['a', 'b']) {
        const source =
          kind === 'amqp'
            ? { kind, url: TEST_AMQP_URL, queue: name, tenants: ['public'], prefetch: 20 }
            : { kind, url: TEST_REDIS_URL, stream: name, tenants: ['public'], consumer, batch: 20, claimIdleMs: 60_000 };
        const server = await startTestServer({ store: 'redis', redisUrl: TEST_REDIS_URL, redisPrefix: prefix, ingestSources: [source as never] });
        servers.push(server);
        cleanups.push(() => server.close());
      }
      const statuses = (): SourceStatus[] => servers.map((server) => server.app.ingest.status()[0]!);
      for (const message of pipelineTraffic({ jobs: JOBS, perJob: PER_JOB, poison: 0, prefix: `cluster-${kind}` })) await publisher.publish(message.body);
      await publisher.flush();
      const total = JOBS * PER_JOB;
      await until(() => statuses().reduce((n, s) => n + s.applied + s.duplicate + s.ignored + s.deadLettered, 0) >= total, 'every message acknowledged');
      const [a, b] = statuses();
      assert.equal(a!.applied + b!.applied + a!.ignored + b!.ignored + a!.duplicate + b!.duplicate, total);
      assert.equal(a!.deadLettered + b!.deadLettered, 0);
      assert.ok(a!.applied > 0 && b!.applied > 0, `both instances applied messages (${a!.applied} and ${b!.applied})`);
      const { jobs } = await servers[0]!.app.jobs.list('public', { limit: 1000 });
      assert.equal(jobs.length, JOBS);
      const unfinished = jobs.filter((job) => job.state !== 'completed' || !String((job.result as { url?: string } | undefined)?.url).endsWith('.fr.mp4'));
      assert.deepEqual(unfinished.map((job) => `${job.id} ${job.state}`), []);
      // Each applied message is one version (created at 1): none counted, or changed, twice.
      assert.equal(jobs.reduce((n, job) => n + job.version - 1, 0), a!.applied + b!.applied);
    });
  });
}
