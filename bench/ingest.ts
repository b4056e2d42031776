/**
 * Ingest benchmark (`npm run bench:ingest`): a jobwait server process on the embedded SQLite
 * engine taking job events from RabbitMQ and from a Redis stream (the real brokers on
 * 127.0.0.1), one source at a time, in one run.
 *
 * 1. throughput: a backlog of messages (`--messages N`, default 20,000; `--quick` 10,000) is
 *    published before the server starts — jobs of ten messages each (started, eight progress
 *    reports, completed with a result), each job created by its first message (`externalId`) —
 *    then the server drains it; messages applied per second, from the first applied to the last,
 *    read off `/readyz`. Target: >= 5,000/s on SQLite.
 * 2. publish → waiter: one server with both sources; waiters hold event streams on reported jobs
 *    while progress messages are published, paced (`--samples N` per source, default 400, one
 *    every 10 ms); the delay from just before the publish to the waiter's event. Target: p99 <= 20 ms.
 *
 * Each server is a separate process, so the publisher and the waiters do not share its event loop.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { amqpPublisher, streamPublisher, TEST_AMQP_URL, uniqueName, type AmqpPublisher, type StreamPublisher } from '../test/helpers/brokers.js';
import { pipelineTraffic } from '../test/helpers/ingest-traffic.js';
import { TEST_REDIS_URL } from '../test/helpers/redis.js';
import { freePort, spawnServer, type ServerProcess } from '../test/helpers/server-process.js';
import { buildServer } from '@jobwait/server';
import { IngestApplier } from '../packages/server/src/ingest/ingest-applier.js';
import { writeBenchSection } from './bench-report.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const quick = args.includes('--quick');
const MESSAGES = option('--messages', quick ? 10_000 : 20_000);
const SAMPLES = option('--samples', quick ? 200 : 400);
const PACE_MS = 10;
const THROUGHPUT_TARGET = 5000;
const P99_TARGET_MS = 20;
type Kind = 'amqp' | 'redis-stream';
const KINDS: readonly Kind[] = ['amqp', 'redis-stream'];

interface SourceStatus {
  name: string;
  state: string;
  applied: number;
  duplicate: number;
  deadLettered: number;
}

function sourceFor(kind: Kind, name: string): Record<string, unknown> {
  return kind === 'amqp'
    ? { kind, name: kind, url: TEST_AMQP_URL, queue: name, tenants: ['public'], prefetch: 500 }
    : { kind, name: kind, url: TEST_REDIS_URL, stream: name, tenants: ['public'], batch: 200 };
}

async function startServer(sources: Record<string, unknown>[], dir: string): Promise<ServerProcess> {
  return spawnServer(await freePort(), ['--store', 'sqlite', '--data-dir', dir, '--rate-limit', '0', '--log-level', 'error'], { JOBWAIT_INGEST_SOURCES: JSON.stringify(sources) });
}

async function ingestStatus(server: ServerProcess): Promise<SourceStatus[]> {
  const res = await fetch(`${server.url}/readyz`);
  return ((await res.json()) as { ingest: SourceStatus[] }).ingest;
}

async function stopServer(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

/** Phase 1: messages applied per second draining a backlog, for one source. */
async function throughput(kind: Kind): Promise<{ perSecond: number; seconds: number; applied: number; deadLettered: number }> {
  const name = uniqueName(`bench-${kind}`);
  const publisher: AmqpPublisher | StreamPublisher = kind === 'amqp' ? await amqpPublisher(name) : streamPublisher(name);
  const dir = mkdtempSync(join(tmpdir(), 'jobwait-bench-ingest-'));
  try {
    const jobs = Math.ceil(MESSAGES / 10);
    for (const message of pipelineTraffic({ jobs, perJob: 10, poison: 0, prefix: `bench-${kind}` })) await publisher.publish(message.body);
    await publisher.flush();
    const total = jobs * 10;
    const server = await startServer([sourceFor(kind, name)], dir);
    try {
      let first: { at: number; applied: number } | undefined;
      for (;;) {
        const [status] = await ingestStatus(server);
        const at = performance.now();
        if (status!.applied > 0 && !first) first = { at, applied: status!.applied };
        if (status!.applied + status!.duplicate + status!.deadLettered >= total) {
          const seconds = (at - first!.at) / 1000;
          return { perSecond: Math.round((status!.applied - first!.applied) / seconds), seconds, applied: status!.applied, deadLettered: status!.deadLettered };
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await stopServer(server);
    }
  } finally {
    await publisher.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The store path alone, in this process, no broker: the same messages through IngestApplier in
 * batches of 200 (one commit each), as a source applies them. Tells jobwait's own cost apart from
 * the brokers' and from the machine's load.
 */
async function applierAlone(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'jobwait-bench-ingest-'));
  const app = await buildServer({ store: 'sqlite', dataDir: dir, logLevel: 'silent' });
  try {
    await app.ready();
    const applier = new IngestApplier({ service: app.jobs, maxResultBytes: 262_144, retentionSeconds: 604_800 });
    const bodies = pipelineTraffic({ jobs: Math.ceil(MESSAGES / 10), perJob: 10, poison: 0, prefix: 'alone' }).map((m) => JSON.stringify(m.body));
    const tenants = new Set(['public']);
    const t0 = performance.now();
    for (let i = 0; i < bodies.length; i += 200) {
      const { error } = await applier.applyBatch(bodies.slice(i, i + 200), tenants);
      if (error) throw error;
    }
    return Math.round(bodies.length / ((performance.now() - t0) / 1000));
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An event stream on one job: calls `onEvent` with each event's `message` at its arrival. */
async function watch(url: string, onEvent: (message: string | undefined, at: number) => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((line) => line.startsWith('data:'));
          if (data) onEvent((JSON.parse(data.slice(5)) as { message?: string }).message, performance.now());
        }
      }
    } catch {
      // aborted at the end
    }
  })();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Phase 2: publish → waiter delays for each source, on one server with both. */
async function delays(): Promise<Record<Kind, number[]>> {
  const names = { amqp: uniqueName('bench-delay-amqp'), 'redis-stream': uniqueName('bench-delay-stream') };
  const publishers = { amqp: await amqpPublisher(names.amqp), 'redis-stream': streamPublisher(names['redis-stream']) };
  const dir = mkdtempSync(join(tmpdir(), 'jobwait-bench-ingest-'));
  const server = await startServer(KINDS.map((kind) => sourceFor(kind, names[kind])), dir);
  const abort = new AbortController();
  const out: Record<Kind, number[]> = { amqp: [], 'redis-stream': [] };
  try {
    await waitConsuming(server);
    for (const kind of KINDS) {
      // Ten reported jobs, each watched by one event stream.
      const jobs: string[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"timeoutSeconds": 3600}' });
        jobs.push(((await res.json()) as { id: string }).id);
      }
      const sent = new Map<string, number>();
      let seen = 0;
      let opened = 0;
      for (const id of jobs) {
        await watch(
          `${server.url}/v1/jobs/${id}/events`,
          (message, at) => {
            if (message === undefined) return void opened++;
            const t = sent.get(message);
            if (t !== undefined) {
              out[kind].push(at - t);
              sent.delete(message);
              seen++;
            }
          },
          abort.signal,
        );
      }
      while (opened < jobs.length) await new Promise((r) => setTimeout(r, 10));
      const publisher = publishers[kind];
      for (let i = 0; i < SAMPLES; i++) {
        const jobId = jobs[i % jobs.length]!;
        const message = `step ${i} ${randomUUID().slice(0, 8)}`;
        const body = { messageId: randomUUID(), tenant: 'public', jobId, event: 'progress', progress: Math.min(1, (i + 1) / (SAMPLES + 1)), message, at: new Date().toISOString() };
        sent.set(message, performance.now());
        await publisher.publish(body);
        await publisher.flush();
        await new Promise((r) => setTimeout(r, PACE_MS));
      }
      const end = Date.now() + 30_000;
      while (seen < SAMPLES && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      if (seen < SAMPLES) throw new Error(`${kind}: only ${seen} of ${SAMPLES} progress events reached the waiters`);
    }
    return out;
  } finally {
    abort.abort();
    await stopServer(server);
    for (const kind of KINDS) await publishers[kind].close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitConsuming(server: ServerProcess): Promise<void> {
  for (;;) {
    const statuses = await ingestStatus(server);
    if (statuses.every((status) => status.state === 'consuming')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const loadBefore = loadavg()[0]!;
const alone = await applierAlone();
process.stdout.write(`store path alone (no broker, in process): ${alone}/s\n`);
const rates = {} as Record<Kind, Awaited<ReturnType<typeof throughput>>>;
for (const kind of KINDS) {
  rates[kind] = await throughput(kind);
  process.stdout.write(`${kind}: ${rates[kind].applied} applied in ${rates[kind].seconds.toFixed(2)} s = ${rates[kind].perSecond}/s\n`);
}
const samples = await delays();
const loadAfter = loadavg()[0]!;
const rows = KINDS.map((kind) => {
  const sorted = [...samples[kind]].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  const max = sorted[sorted.length - 1]!;
  const rate = rates[kind].perSecond;
  process.stdout.write(`${kind}: publish → waiter p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms (${sorted.length} samples)\n`);
  return `| ${kind === 'amqp' ? 'RabbitMQ (AMQP)' : 'Redis stream'} | ${rates[kind].applied.toLocaleString('en')} | ${rate.toLocaleString('en')} ${rate >= THROUGHPUT_TARGET ? 'PASS' : 'FAIL'} | ${p50.toFixed(1)} | ${p99.toFixed(1)} ${p99 <= P99_TARGET_MS ? 'PASS' : 'FAIL'} | ${max.toFixed(1)} |`;
});
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}, load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after`;
writeBenchSection(
  'ingest',
  `## Ingest: RabbitMQ and Redis Streams into SQLite (\`npm run bench:ingest${quick ? ' -- --quick' : ''}\`)

One jobwait process (SQLite file, WAL) per phase, the brokers on 127.0.0.1; ${machine}.
Throughput: a backlog of ${MESSAGES.toLocaleString('en')} messages (jobs of ten: started, eight progress, completed with a
result; each job created by its first message) drained by one source; applied per second from the first applied to the
last (target >= ${THROUGHPUT_TARGET.toLocaleString('en')}/s). Delay: ${SAMPLES} progress messages per source, one every ${PACE_MS} ms, to ten
reported jobs each held by an event stream; from just before the publish to the waiter's event (target p99 <= ${P99_TARGET_MS} ms).

| source | messages | applied/s | delay p50 ms | delay p99 ms | delay max ms |
|---|---:|---:|---:|---:|---:|
${rows.join('\n')}

The store path alone — the same messages through the applier in this process, batches of 200, no broker — ran at
${alone.toLocaleString('en')}/s in the same run: the rest of a source's time goes to the broker round trips and to sharing two
cores with the brokers${loadBefore > cpus().length ? ' and, here, with a machine loaded well past its cores (figures are a lower bound)' : ''}.
`,
);
process.stdout.write('wrote the ingest section of docs/benchmarks.md\n');
process.exit(0);
