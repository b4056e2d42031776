/**
 * Ingest through faults, against the real brokers: the broker connection cut mid-stream (a TCP
 * fault proxy between jobwait and the broker, so other tests sharing it are not disturbed), and
 * jobwait itself killed with SIGKILL mid-stream and started again on the same data. In both,
 * nothing is lost and nothing is applied twice: each job ends completed at exactly the version
 * its ten messages make, and nothing is dead-lettered.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { SourceStatus } from '@jobwait/server';
import { amqpPublisher, streamPublisher, TEST_AMQP_URL, uniqueName, type AmqpPublisher, type StreamPublisher } from './helpers/brokers.js';
import { pipelineTraffic } from './helpers/ingest-traffic.js';
import { startTestServer } from './helpers/jobwait-server.js';
import { TEST_REDIS_URL } from './helpers/redis.js';
import { freePort, spawnServer, type ServerProcess } from './helpers/server-process.js';
import { startTcpFaultProxy } from './helpers/tcp-fault-proxy.js';

type Kind = 'amqp' | 'redis-stream';
const JOBS = 300;
const PER_JOB = 10;

function sourceFor(kind: Kind, name: string, url: string): Record<string, unknown> {
  return kind === 'amqp' ? { kind, url, queue: name, tenants: ['public'], prefetch: 50 } : { kind, url, stream: name, tenants: ['public'], claimIdleMs: 1000, batch: 50 };
}

async function until(done: () => boolean | Promise<boolean>, what: string, limitMs = 180_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every job completed, each at version 11: created, then its ten messages, each applied once. */
function assertAllOnce(jobs: { state: string; version: number; id: string }[]): void {
  assert.equal(jobs.length, JOBS);
  const wrong = jobs.filter((job) => job.state !== 'completed' || job.version !== PER_JOB + 1);
  assert.deepEqual(wrong.map((job) => `${job.id} ${job.state} v${job.version}`), []);
}

for (const kind of ['amqp', 'redis-stream'] as const) {
  describe(`ingest from ${kind} through faults`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    });

    it('resumes by itself after the broker connection is cut mid-stream, and the API stays ready meanwhile', async () => {
      const name = uniqueName(`cut-${kind}`);
      const target = new URL(kind === 'amqp' ? TEST_AMQP_URL : TEST_REDIS_URL);
      const proxy = await startTcpFaultProxy(target.hostname, Number(target.port));
      cleanups.push(() => proxy.close());
      const publisher: AmqpPublisher | StreamPublisher = kind === 'amqp' ? await amqpPublisher(name) : streamPublisher(name);
      cleanups.push(() => publisher.close());
      const url = proxy.via(kind === 'amqp' ? TEST_AMQP_URL : TEST_REDIS_URL);
      const server = await startTestServer({ store: 'sqlite', ingestSources: [sourceFor(kind, name, url) as never] });
      cleanups.push(() => server.close());
      const status = (): SourceStatus => server.app.ingest.status()[0]!;
      for (const message of pipelineTraffic({ jobs: JOBS, perJob: PER_JOB, poison: 0, prefix: 'cut' })) await publisher.publish(message.body);
      await publisher.flush();
      await until(() => status().applied >= 300, 'some messages applied');
      proxy.down();
      await until(() => status().state !== 'consuming', 'the source to notice the cut');
      // A broker outage degrades ingest, not the API.
      const ready = await server.app.inject('/readyz');
      assert.equal(ready.statusCode, 200);
      assert.notEqual((ready.json() as { ingest: SourceStatus[] }).ingest[0]!.state, 'consuming');
      const metrics = await server.app.inject('/metrics');
      assert.match(metrics.body, /jobwait_ingest_source_up\{source="[^"]+"\} 0/);
      const connectionsBefore = proxy.connections;
      proxy.up();
      await until(async () => (await server.app.jobs.countByStatus('public')).completed === JOBS && (await publisher.depth()) === 0, 'every job completed and the queue drained');
      assert.equal(status().state, 'consuming');
      assert.ok(proxy.connections > connectionsBefore, 'it connected again');
      assert.equal(status().deadLettered, 0);
      assertAllOnce((await server.app.jobs.list('public', { limit: 1000 })).jobs);
    });

    it('loses nothing and applies nothing twice when jobwait is killed with SIGKILL mid-stream and started again', async () => {
      const name = uniqueName(`kill-${kind}`);
      const publisher: AmqpPublisher | StreamPublisher = kind === 'amqp' ? await amqpPublisher(name) : streamPublisher(name);
      cleanups.push(() => publisher.close());
      const dataDir = mkdtempSync(join(tmpdir(), 'jobwait-ingest-kill-'));
      cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
      const env = { JOBWAIT_INGEST_SOURCES: JSON.stringify([sourceFor(kind, name, kind === 'amqp' ? TEST_AMQP_URL : TEST_REDIS_URL)]) };
      const args = ['--store', 'sqlite', '--data-dir', dataDir, '--rate-limit', '0'];
      const ingestOf = async (server: ServerProcess): Promise<SourceStatus | undefined> => {
        const res = await fetch(`${server.url}/readyz`).catch(() => undefined);
        return res?.ok ? ((await res.json()) as { ingest: SourceStatus[] }).ingest[0] : undefined;
      };
      const port = await freePort();
      const first = await spawnServer(port, args, env);
      let alive: ServerProcess | undefined = first;
      cleanups.push(async () => {
        alive?.child.kill('SIGKILL');
      });
      for (const message of pipelineTraffic({ jobs: JOBS, perJob: PER_JOB, poison: 0, prefix: 'kill' })) await publisher.publish(message.body);
      await publisher.flush();
      await until(async () => ((await ingestOf(first))?.applied ?? 0) >= 500, 'some messages applied before the kill');
      first.child.kill('SIGKILL');
      assert.equal(await first.exited, 'SIGKILL');
      const appliedBefore = (await publisher.depth()) < JOBS * PER_JOB;
      assert.ok(appliedBefore, 'the kill came mid-stream');
      const second = await spawnServer(port, args, env);
      alive = second;
      const jobs = async (): Promise<{ state: string; version: number; id: string }[]> => {
        const out: { state: string; version: number; id: string }[] = [];
        let cursor = '';
        for (;;) {
          const res = await fetch(`${second.url}/v1/jobs?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
          const page = (await res.json()) as { jobs: { status: string; version: number; id: string }[]; nextCursor?: string };
          out.push(...page.jobs.map((job) => ({ id: job.id, state: job.status, version: job.version })));
          if (!page.nextCursor) return out;
          cursor = page.nextCursor;
        }
      };
      await until(async () => {
        const counts = (await (await fetch(`${second.url}/v1/jobs/counts`)).json()) as { completed?: number; counts?: { completed: number } };
        const completed = counts.completed ?? counts.counts?.completed ?? 0;
        return completed === JOBS && (await publisher.depth()) === 0;
      }, 'every job completed after the restart and the queue drained');
      const after = (await ingestOf(second))!;
      assert.equal(after.deadLettered, 0);
      assertAllOnce(await jobs());
      second.child.kill('SIGTERM');
      await second.exited;
      alive = undefined;
    });
  });
}
