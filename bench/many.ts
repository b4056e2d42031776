/**
 * `npm run bench:many [-- --jobs N] [-- --no-docs]`: waiting on many jobs at once (issue 18).
 *
 * One jobwait server per side, each in its own process (a plain transpile of the current source,
 * bench/server-build.ts; SQLite in a fresh temp dir; `--rate-limit 0`; held-connection caps raised to
 * the run's size). The bench process is the one client (`@jobwait/client`, counting its requests):
 *
 * 1. Set wait: N jobs (10,000) of 1–30 s (uniform, seeded), created in batches of 1,000
 *    (`createJobs`) sharing one tag, then waited on with `waitForJobs({tag})`: one event stream.
 * 2. Baseline: the same N jobs (same durations) created the same way, each waited on with its own
 *    `waitForJob(id, {strategy: 'long-poll'})`: N long-polls held at once.
 *
 * Figures per side: waiting requests (creates not counted), delay after each job's end (the
 * moment the client has it − its `dueAt`, same clock) for the jobs that ended after the wait
 * opened, and server memory per waited job = (VmRSS held − VmRSS before the wait) / jobs still
 * pending at that moment, VmRSS from /proc/<pid>/status sampled once the wait is held.
 * Targets: waiting requests <= 50, delay p99 <= 20 ms, memory <= 1 KB per waited job.
 * Exit code 0 when every target of the set wait passes, 1 otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { JobwaitClient, type CreateJobInput, type Job } from '@jobwait/client';
import type { FetchLike } from '@jobwait/client/internal';
import { writeBenchSection } from './bench-report.js';
import { buildServerCopy } from './server-build.js';

const args = process.argv.slice(2);
const argValue = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const JOBS = Number(argValue('--jobs') ?? 10_000);
const WRITE_DOCS = !args.includes('--no-docs');
const BATCH = 1000;
const TAG = 'bench-many';
/** Jobs last 1–30 s. */
const MIN_S = 1;
const MAX_S = 30;
const TARGET = { requests: 50, p99Ms: 20, perJobKb: 1 };
/** The baseline's long-polls start this many at a time, this far apart (2 s for 10,000). */
const STAGGER = 250;
const STAGGER_MS = 50;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** A seeded PRNG (mulberry32), so both sides get the same durations. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const next = random(18);
const DURATIONS = Array.from({ length: JOBS }, () => Math.round((MIN_S + next() * (MAX_S - MIN_S)) * 1000) / 1000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN);
}

interface Server {
  url: string;
  pid: number;
  /** V8 heap in use plus external memory, in KB, right after a full garbage collection in the server (bench/heap-probe.mjs). */
  liveKb(): Promise<number>;
  stop(): Promise<void>;
}

async function startServer(bin: string): Promise<Server> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'jobwait-bench-many-'));
  const cap = String(2 * JOBS + 1000);
  const script = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
  const probeFile = join(dataDir, 'heap.json');
  const probe = join(ROOT, 'bench', 'heap-probe.mjs');
  const child = spawn('bash', ['-c', script, 'bash', process.execPath, '--expose-gc', '--import', probe, bin, '--rate-limit', '0', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, JOBWAIT_MAX_HELD_PER_KEY: cap, JOBWAIT_MAX_HELD_CONNECTIONS: cap, JOBWAIT_HEAP_PROBE_FILE: probeFile },
  });
  children.add(child);
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  for (const until = Date.now() + 60_000; ; ) {
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (child.exitCode !== null || Date.now() > until) throw new Error(`server did not start:\n${err}`);
    await sleep(100);
  }
  let seq = 0;
  return {
    url,
    pid: child.pid!,
    async liveKb() {
      seq++;
      child.kill('SIGUSR2');
      for (const until = Date.now() + 30_000; Date.now() < until; ) {
        await sleep(20);
        try {
          const usage = JSON.parse(readFileSync(probeFile, 'utf8')) as { seq: number; heapUsed: number; external: number };
          if (usage.seq >= seq) return (usage.heapUsed + usage.external) / 1024;
        } catch {
          // Not written yet.
        }
      }
      throw new Error('the server did not answer the heap probe');
    },
    async stop() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
      children.delete(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface Side {
  name: string;
  requests: number;
  delays: number[];
  /** Jobs that had ended before the wait opened (delivered at once; not in the delays). */
  endedBefore: number;
  received: number;
  perJobKb: number;
  /** RSS grown per waited job: the heap grown by the creates before is reused, so this reads low when the heap had room. */
  rssPerJobKb: number;
  rssBeforeMiB: number;
  rssHeldMiB: number;
  heldJobs: number;
  errors: string[];
  seconds: number;
  /** Waiting requests by answer status (or failure). */
  statuses: string;
  /** The server's wake-delay histogram: bucket bounds of its p50 and p99, ms. */
  serverDelay: { p50: number; p99: number; count: number };
}

/** A client that counts its requests other than creates. */
/** Statuses of the waiting requests' answers (and failures), for the run's notes. */
const answers = new Map<string, number>();

function countingClient(url: string): { client: JobwaitClient; waiting: () => number } {
  let waiting = 0;
  answers.clear();
  const counting: FetchLike = async (input, init) => {
    const method = init.method ?? 'GET';
    const create = method === 'POST' && /\/v1\/(batches|jobs)$/.test(new URL(input).pathname);
    if (!create) waiting++;
    try {
      const response = await fetch(input, init);
      if (!create) answers.set(String(response.status), (answers.get(String(response.status)) ?? 0) + 1);
      return response;
    } catch (error) {
      const name = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      answers.set(name, (answers.get(name) ?? 0) + 1);
      throw error;
    }
  };
  return { client: new JobwaitClient({ baseUrl: url, fetch: counting, requestTimeoutMs: 120_000 }), waiting: () => waiting };
}

/** Creates the N jobs in batches of 1,000 with the shared tag; answers them with their due times. */
async function createAll(client: JobwaitClient): Promise<Job[]> {
  const jobs: Job[] = [];
  for (let i = 0; i < JOBS; i += BATCH) {
    const inputs: CreateJobInput[] = DURATIONS.slice(i, i + BATCH).map((duration) => ({ duration, outcome: 'completed' }));
    const { jobs: created } = await client.createJobs(inputs, { tags: [TAG] });
    jobs.push(...created);
  }
  return jobs;
}

/** Samples the server's memory once the wait is held (~2 s after it opened), with how many jobs were pending then. */
async function sampleHeld(server: Server, openedAt: number, pending: () => number): Promise<{ rssKb: number; liveKb: number; held: number }> {
  await sleep(Math.max(0, openedAt + 2000 + (JOBS / STAGGER) * STAGGER_MS - Date.now()));
  const held = pending();
  return { rssKb: rssKb(server.pid), liveKb: await server.liveKb(), held };
}

async function runSet(bin: string): Promise<Side> {
  const server = await startServer(bin);
  try {
    const { client, waiting } = countingClient(server.url);
    // Warm-up, not measured: a small tagged batch waited on to its end.
    const warm = await client.createJobs([{ duration: 0.05 }, { duration: 0.1 }], { tags: ['warm-up'] });
    await client.waitForJobs({ batch: warm.batch.id }).all();
    const requestsBefore = waiting();
    const started = Date.now();
    const jobs = await createAll(client);
    const due = new Map(jobs.map((job) => [job.id, Date.parse(job.dueAt!)]));
    await sleep(500);
    const rssBefore = rssKb(server.pid);
    const liveBefore = await server.liveKb();
    const openedAt = Date.now();
    const delays: number[] = [];
    let endedBefore = 0;
    let received = 0;
    const errors: string[] = [];
    const sample = sampleHeld(server, openedAt, () => JOBS - received);
    for await (const job of client.waitForJobs({ tag: TAG }, { timeoutMs: (MAX_S + 60) * 1000 })) {
      const at = Date.now();
      received++;
      const dueAt = due.get(job.id);
      if (dueAt === undefined) continue;
      if (job.status !== 'completed') errors.push(`${job.id} ${job.status}`);
      if (dueAt < openedAt) endedBefore++;
      else delays.push(at - dueAt);
    }
    const held = await sample;
    const serverDelay = await serverWakeDelay(server.url, 'sse');
    return {
      serverDelay,
      name: 'one waitForJobs({tag}) stream',
      requests: waiting() - requestsBefore,
      delays: delays.sort((a, b) => a - b),
      endedBefore,
      received,
      perJobKb: (held.liveKb - liveBefore) / Math.max(1, held.held),
      rssPerJobKb: (held.rssKb - rssBefore) / Math.max(1, held.held),
      rssBeforeMiB: rssBefore / 1024,
      rssHeldMiB: held.rssKb / 1024,
      heldJobs: held.held,
      errors: errors.slice(0, 5),
      seconds: (Date.now() - started) / 1000,
      statuses: [...answers].map(([status, n]) => `${status}: ${n}`).join(', '),
    };
  } finally {
    await server.stop();
  }
}

async function runSeparate(bin: string): Promise<Side> {
  const server = await startServer(bin);
  try {
    const { client, waiting } = countingClient(server.url);
    const warm = await client.createJob({ duration: 0.05 });
    await client.waitForJob(warm.id, { strategy: 'long-poll' });
    const requestsBefore = waiting();
    const started = Date.now();
    const jobs = await createAll(client);
    await sleep(500);
    const rssBefore = rssKb(server.pid);
    const liveBefore = await server.liveKb();
    const openedAt = Date.now();
    const delays: number[] = [];
    const errors: string[] = [];
    let endedBefore = 0;
    let received = 0;
    const sample = sampleHeld(server, openedAt, () => JOBS - received);
    await Promise.all(
      jobs.map(async (job, i) => {
        const dueAt = Date.parse(job.dueAt!);
        // Opened STAGGER at a time: 10,000 connections at once overflow the server's accept backlog (resets, then backoff).
        await sleep(Math.floor(i / STAGGER) * STAGGER_MS);
        try {
          const done = await client.waitForJob(job.id, { strategy: 'long-poll', timeoutMs: (MAX_S + 60) * 1000 });
          const at = Date.now();
          received++;
          if (done.status !== 'completed') errors.push(`${job.id} ${done.status}`);
          if (dueAt < openedAt) endedBefore++;
          else delays.push(at - dueAt);
        } catch (error) {
          received++;
          errors.push(String(error));
        }
      }),
    );
    const held = await sample;
    const serverDelay = await serverWakeDelay(server.url, 'long-poll');
    return {
      serverDelay,
      name: `${JOBS.toLocaleString('en')} waitForJob long-polls`,
      requests: waiting() - requestsBefore,
      delays: delays.sort((a, b) => a - b),
      endedBefore,
      received,
      perJobKb: (held.liveKb - liveBefore) / Math.max(1, held.held),
      rssPerJobKb: (held.rssKb - rssBefore) / Math.max(1, held.held),
      rssBeforeMiB: rssBefore / 1024,
      rssHeldMiB: held.rssKb / 1024,
      heldJobs: held.held,
      errors: errors.slice(0, 5),
      seconds: (Date.now() - started) / 1000,
      statuses: [...answers].map(([status, n]) => `${status}: ${n}`).join(', '),
    };
  } finally {
    await server.stop();
  }
}

/**
 * The server's own view of the delay: the bucket bound of `jobwait_wake_delay_seconds{transport}`
 * (from a job's end to the write that tells a held waiter) under which 50 % and 99 % of the observations fall.
 */
async function serverWakeDelay(url: string, transport: 'sse' | 'long-poll'): Promise<{ p50: number; p99: number; count: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets: [number, number][] = [];
  for (const match of text.matchAll(new RegExp(`^jobwait_wake_delay_seconds_bucket\\{le="([^"]+)",transport="${transport}"\\} (\\d+)`, 'gm'))) {
    buckets.push([match[1] === '+Inf' ? Infinity : Number(match[1]) * 1000, Number(match[2])]);
  }
  const count = buckets.at(-1)?.[1] ?? 0;
  const bound = (p: number): number => buckets.find(([, n]) => n >= (p / 100) * count)?.[0] ?? Number.NaN;
  return { p50: bound(50), p99: bound(99), count };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');

async function main(): Promise<void> {
  const load = loadavg();
  console.log(`bench:many — ${fmt(JOBS)} jobs of ${MIN_S}–${MAX_S} s in batches of ${BATCH}, one tag; load average ${load.map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
  const build = await buildServerCopy(ROOT, join(ROOT, 'node_modules'));
  let set: Side;
  let separate: Side;
  try {
    console.log('set wait …');
    set = await runSet(build.bin);
    print(set);
    console.log('separate long-polls …');
    separate = await runSeparate(build.bin);
    print(separate);
  } finally {
    build.remove();
  }
  const loadAfter = loadavg();
  const pass = {
    requests: set.requests <= TARGET.requests,
    p99: percentile(set.delays, 99) <= TARGET.p99Ms,
    memory: set.perJobKb <= TARGET.perJobKb,
  };
  const mark = (ok: boolean): string => (ok ? 'pass' : '**FAIL**');
  const row = (side: Side): string =>
    `| ${side.name} | ${fmt(side.requests)} | ${fmt(percentile(side.delays, 50))} / ${fmt(percentile(side.delays, 99))} / ${fmt(side.delays.at(-1) ?? Number.NaN)} ms | ≤ ${fmt(side.serverDelay.p50)} / ≤ ${fmt(side.serverDelay.p99)} ms | ${fmt(side.perJobKb, 2)} KB live heap; ${fmt(side.rssPerJobKb, 2)} KB RSS (${fmt(side.rssBeforeMiB, 1)} → ${fmt(side.rssHeldMiB, 1)} MiB) | ${fmt(side.heldJobs)} | ${fmt(side.received)} (${fmt(side.endedBefore)} before the wait) | ${side.errors.length} |`;
  const noisy = Math.max(load[0]!, loadAfter[0]!) > cpus().length;
  const markdown = `## Many jobs at once (\`npm run bench:many\`)

${fmt(JOBS)} jobs of ${MIN_S}–${MAX_S} s (uniform, seeded), created with \`createJobs\` in batches of ${BATCH} sharing one tag,
waited on by one client; then, on a fresh server, the same jobs each waited on with its own
\`waitForJob(id, {strategy: 'long-poll'})\`. Rate limit off; SQLite; server and client in separate processes on 127.0.0.1.
Delay = when the client had the ended job − its \`dueAt\` (same clock), for the jobs that ended after the wait opened; the server's
wake delay is its \`jobwait_wake_delay_seconds\` histogram (end → the write that tells the waiter; bucket bounds). The baseline's
long-polls open ${STAGGER} at a time, ${STAGGER_MS} ms apart: all at once, they overflow the accept backlog (resets, backoff).
memory per waited job = (server's live memory ~2 s into the wait − before it) / jobs still pending then, where live memory is
V8 heap used + external right after a full GC in the server (\`bench/heap-probe.mjs\`, SIGUSR2); VmRSS grown per job is shown
too, but reads low whenever the heap the creates grew has room left (sockets' kernel buffers are in neither).

| waiting with | waiting requests (creates not counted) | delay p50 / p99 / max (client) | server's wake delay p50 / p99 | server memory per waited job | jobs held then | jobs received | errors |
|---|---|---|---|---|---|---|---|
${row(set)}
${row(separate)}

The server observed ${fmt(separate.serverDelay.count)} of the ${fmt(JOBS)} long-polls held before their job ended (the rest reached it
after the end: one client process opening ${fmt(JOBS)} requests, each answered at once then) and ${fmt(set.serverDelay.count)} ends sent on the set's stream.
Waiting requests by answer: set ${set.statuses}; long-polls ${separate.statuses}.

Targets for the set wait: waiting requests <= ${TARGET.requests}: ${mark(pass.requests)}; delay p99 <= ${TARGET.p99Ms} ms: ${mark(pass.p99)};
memory <= ${TARGET.perJobKb} KB per waited job: ${mark(pass.memory)}.

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load average ${load[0]!.toFixed(1)} before and ${loadAfter[0]!.toFixed(1)} after the run${
    noisy ? ' — **shared and busy** (more runnable processes than CPUs: other agents ran their builds and tests meanwhile), so the delays carry that noise' : ''
  }. Run ${new Date().toISOString().slice(0, 10)}, ${fmt(set.seconds + separate.seconds)} s.
`;
  console.log(`\n${markdown}`);
  if (WRITE_DOCS) writeBenchSection('many', markdown);
  process.exitCode = pass.requests && pass.p99 && pass.memory ? 0 : 1;
}

function print(side: Side): void {
  console.log(
    `  ${side.name}: ${fmt(side.received)} received (${side.endedBefore} ended before the wait), ${fmt(side.requests)} waiting requests, delay p50 ${fmt(percentile(side.delays, 50))} ms p99 ${fmt(percentile(side.delays, 99))} ms max ${fmt(side.delays.at(-1) ?? Number.NaN)} ms; RSS ${fmt(side.rssBeforeMiB, 1)} → ${fmt(side.rssHeldMiB, 1)} MiB with ${fmt(side.heldJobs)} held: ${fmt(side.perJobKb, 2)} KB live heap, ${fmt(side.rssPerJobKb, 2)} KB RSS per job; errors ${side.errors.join('; ') || 'none'}; answers ${side.statuses}; server wake delay p50 ≤ ${fmt(side.serverDelay.p50)} ms, p99 ≤ ${fmt(side.serverDelay.p99)} ms (${fmt(side.serverDelay.count)})`,
  );
}

await main();
process.exit(process.exitCode ?? 0);
