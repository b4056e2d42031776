/**
 * Retention benchmark (`npm run bench:retention`): one server process on the
 * embedded SQLite engine with a short retention (20 s), a steady create rate
 * and a steady read rate, for a few minutes (`--minutes N`, default 3;
 * `--quick` = 1.5). Every second it samples the server's RSS and, from
 * `/metrics`, the database size, its free pages, the WAL and the rows deleted.
 *
 * Two phases:
 * 1. backlog: the server first runs with a long retention while a burst
 *    fills the file with finished jobs (`--backlog N`, default 50,000), then
 *    restarts with the short one: its first sweep deletes them all, batch by
 *    batch, while the steady load goes on;
 * 2. steady: the load continues; each sweep deletes what passed retention.
 *
 * Checks: database size and RSS flat after the first retention window (the
 * peaks of the second half against the first half, after two windows), and
 * the p99 of reads and creates in seconds when rows were deleted against
 * seconds when none were.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnServer, type ServerProcess } from '../test/helpers/server-process.js';
import { writeBenchSection } from './bench-report.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const quick = args.includes('--quick');
const minutes = option('--minutes', quick ? 1.5 : 3);
const backlog = option('--backlog', quick ? 20_000 : 50_000);
const RETENTION_S = option('--retention', 20);
const CREATES_PER_S = option('--rate', 200);
const READS_PER_S = CREATES_PER_S;
const JOB_SECONDS = 1;
if (!(minutes > 0 && minutes <= 30)) throw new Error('--minutes must be from 0 to 30');

/** One second of the run. */
interface Second {
  at: number;
  reads: number[];
  creates: number[];
  /** Rows of jobs deleted in this second (from the counter). */
  deleted: number;
}

/** One sample of sizes. */
interface Sample {
  at: number;
  rssKb: number;
  databaseBytes: number;
  freeBytes: number;
  walBytes: number;
  deletedJobs: number;
  jobs: number;
}

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function metric(text: string, name: string): number {
  const match = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

const dir = mkdtempSync(join(tmpdir(), 'jobwait-retention-'));
const serverArgs = (retention: number): string[] => ['--data-dir', dir, '--rate-limit', '0', '--retention', String(retention)];

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ id: string }> {
  const res = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { id: string };
}

// Phase 0: a backlog of finished jobs, written under a long retention.
let server: ServerProcess = await spawnServer(await freePort(), serverArgs(86_400));
{
  const t0 = performance.now();
  let made = 0;
  await Promise.all(
    Array.from({ length: 32 }, async (_, w) => {
      while (made < backlog) {
        made++;
        await post(server.url, { duration: 0.01, metadata: { backlog: w } }, made % 4 === 0 ? { 'idempotency-key': `backlog-${made}` } : {});
      }
    }),
  );
  process.stdout.write(`backlog: ${backlog} jobs in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  // Past the short retention before the restart: the first sweep finds the whole backlog due.
  await new Promise((r) => setTimeout(r, (RETENTION_S + 2) * 1000));
  server.child.kill('SIGTERM');
  await server.exited;
}

server = await spawnServer(await freePort(), serverArgs(RETENTION_S));
const pid = server.child.pid!;
const started = Date.now();
const stopAt = started + minutes * 60_000;
const seconds: Second[] = [];
const samples: Sample[] = [];
/** Jobs created lately, with when: reads pick among those still well inside retention (older ones are rightly 404). */
const recent: { id: string; at: number }[] = [];
let failures = 0;
const failureKinds = new Map<string, number>();
let created = 0;
const second = (): Second => {
  const at = Math.floor((Date.now() - started) / 1000);
  while (seconds.length <= at) seconds.push({ at: seconds.length, reads: [], creates: [], deleted: 0 });
  return seconds[at]!;
};

/** Runs `task` `perSecond` times a second, paced, until the end (each call on its own: a slow answer does not slow the rate). */
async function paced(perSecond: number, task: () => Promise<void>): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const intervalMs = 10;
  const perTick = perSecond / (1000 / intervalMs);
  let owed = 0;
  while (Date.now() < stopAt) {
    owed += perTick;
    for (; owed >= 1; owed--) {
      const run = task().catch((error: unknown) => {
        failures++;
        const kind = String((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message ?? error).slice(0, 80);
        failureKinds.set(kind, (failureKinds.get(kind) ?? 0) + 1);
      });
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  await Promise.all(inFlight);
}

async function createOne(): Promise<void> {
  const n = ++created;
  const t0 = performance.now();
  const job = await post(server.url, { duration: JOB_SECONDS, metadata: { n } }, n % 4 === 0 ? { 'idempotency-key': `steady-${n}` } : {});
  second().creates.push(performance.now() - t0);
  recent.push({ id: job.id, at: Date.now() });
  while (recent.length > 0 && recent[0]!.at < Date.now() - (RETENTION_S * 1000) / 2) recent.shift();
}

async function readOne(): Promise<void> {
  const id = recent[Math.floor(Math.random() * recent.length)]?.id;
  if (!id) return;
  const t0 = performance.now();
  const res = await fetch(`${server.url}/v1/jobs/${id}`);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`read answered ${res.status}`);
  second().reads.push(performance.now() - t0);
}

async function sampler(): Promise<void> {
  let lastDeleted = 0;
  while (Date.now() < stopAt) {
    await new Promise((r) => setTimeout(r, 1000));
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const deletedJobs = metric(text, 'jobwait_retention_deleted_total{kind="job"}');
    // Deletions seen now happened during the second that just ended.
    const previous = seconds[Math.floor((Date.now() - started) / 1000) - 1];
    if (previous) previous.deleted += deletedJobs - lastDeleted;
    lastDeleted = deletedJobs;
    const sample: Sample = {
      at: (Date.now() - started) / 1000,
      rssKb: rssKb(pid),
      databaseBytes: metric(text, 'jobwait_database_size_bytes{file="database"}'),
      freeBytes: metric(text, 'jobwait_database_free_bytes'),
      walBytes: metric(text, 'jobwait_database_size_bytes{file="wal"}'),
      deletedJobs,
      jobs: created,
    };
    samples.push(sample);
    if (samples.length % 5 === 0) {
      process.stdout.write(
        `t=${sample.at.toFixed(0)}s db=${(sample.databaseBytes / 2 ** 20).toFixed(1)}MiB free=${(sample.freeBytes / 2 ** 20).toFixed(1)}MiB wal=${(sample.walBytes / 2 ** 20).toFixed(1)}MiB rss=${(sample.rssKb / 1024).toFixed(1)}MiB deleted=${deletedJobs} created=${created} failures=${failures}\n`,
      );
    }
  }
}

await Promise.all([sampler(), paced(CREATES_PER_S, createOne), paced(READS_PER_S, readOne)]);
server.child.kill('SIGTERM');
await server.exited;
rmSync(dir, { recursive: true, force: true });

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
// Flat after the first retention window: compare the peaks of two halves of what follows two windows
// (the first holds the backlog's sweep; the second refills the freed pages).
const settled = samples.filter((s) => s.at >= 2 * RETENTION_S + 10);
const half = Math.max(1, Math.floor(settled.length / 2));
const [early, late] = [settled.slice(0, half), settled.slice(half)];
const peak = (window: Sample[], of: (s: Sample) => number): number => Math.max(...window.map(of));
const growth = (of: (s: Sample) => number): number => (peak(late, of) - peak(early, of)) / peak(early, of);
const dbGrowth = growth((s) => s.databaseBytes + s.walBytes);
const rssGrowth = growth((s) => s.rssKb);
const full = seconds.slice(1, -1);
const pruning = full.filter((s) => s.deleted > 0);
const quiet = full.filter((s) => s.deleted === 0 && s.at > RETENTION_S + 5);
const backlogSeconds = full.filter((s) => s.at < RETENTION_S && s.deleted > 0);
const p99 = (list: Second[], of: (s: Second) => number[]): string => percentile(list.flatMap(of), 99).toFixed(2);
const count = (list: Second[], of: (s: Second) => number[]): number => list.reduce((n, s) => n + of(s).length, 0);
const reads = (s: Second): number[] => s.reads;
const creates = (s: Second): number[] => s.creates;
const last = samples.at(-1)!;
const checks = [
  {
    name: 'database + WAL flat after the first retention (peak of the 2nd half vs 1st half, after 2 windows)',
    value: `${(dbGrowth * 100).toFixed(1)} % (${mib(peak(early, (s) => s.databaseBytes + s.walBytes))} -> ${mib(peak(late, (s) => s.databaseBytes + s.walBytes))} MiB)`,
    pass: dbGrowth < 0.1,
  },
  {
    name: 'RSS flat after the first retention (same halves)',
    value: `${(rssGrowth * 100).toFixed(1)} % (${mib(peak(early, (s) => s.rssKb * 1024))} -> ${mib(peak(late, (s) => s.rssKb * 1024))} MiB)`,
    pass: rssGrowth < 0.1,
  },
  {
    name: 'no failed request',
    value: `${failures} of ${count(full, reads) + count(full, creates)}${failures ? ` ${JSON.stringify(Object.fromEntries(failureKinds))}` : ''}`,
    pass: failures === 0,
  },
];
const table = [
  '| check | measured | result |',
  '|---|---|---|',
  ...checks.map((c) => `| ${c.name} | ${c.value} | ${c.pass ? 'PASS' : 'FAIL'} |`),
].join('\n');
const latency = [
  '| seconds of the run | seconds | reads | read p99 (ms) | creates | create p99 (ms) |',
  '|---|---|---|---|---|---|',
  `| deleting the backlog (first sweep) | ${backlogSeconds.length} | ${count(backlogSeconds, reads)} | ${p99(backlogSeconds, reads)} | ${count(backlogSeconds, creates)} | ${p99(backlogSeconds, creates)} |`,
  `| any deletion (backlog and steady sweeps) | ${pruning.length} | ${count(pruning, reads)} | ${p99(pruning, reads)} | ${count(pruning, creates)} | ${p99(pruning, creates)} |`,
  `| no deletion (after the first window) | ${quiet.length} | ${count(quiet, reads)} | ${p99(quiet, reads)} | ${count(quiet, creates)} | ${p99(quiet, creates)} |`,
].join('\n');
const timeline = [
  '| t (s) | database (MiB) | free (MiB) | WAL (MiB) | RSS (MiB) | jobs created | jobs deleted |',
  '|---|---|---|---|---|---|---|',
  ...samples
    .filter((_, i) => i % 5 === 4)
    .map((s) => `| ${s.at.toFixed(0)} | ${mib(s.databaseBytes)} | ${mib(s.freeBytes)} | ${mib(s.walBytes)} | ${mib(s.rssKb * 1024)} | ${s.jobs} | ${s.deletedJobs} |`),
].join('\n');
const report = `### Retention (\`npm run bench:retention${args.length ? ` -- ${args.filter((a) => a !== '--no-write').join(' ')}` : ''}\`)

${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x ${cpus().length}, Node ${process.version}. SQLite engine, \`--retention ${RETENTION_S}\`,
${minutes} min of ${CREATES_PER_S} creates/s (${JOB_SECONDS} s jobs, every 4th with an Idempotency-Key) and ${READS_PER_S} reads/s of recent jobs,
after a backlog of ${backlog} finished jobs written under a long retention (the restarted server's first sweep deletes it while the load runs).
End: ${last.jobs} jobs created, ${last.deletedJobs} deleted; database ${mib(last.databaseBytes)} MiB (${mib(last.freeBytes)} MiB free), WAL ${mib(last.walBytes)} MiB.
A second counts as "deletion" when the deleted-rows counter moved during it (sampled each second).

${table}

${latency}

<details><summary>timeline</summary>

${timeline}

</details>`;
process.stdout.write(`\n${table}\n\n${latency}\n`);
if (!args.includes('--no-write')) writeBenchSection('retention', report);
process.exitCode = checks.every((c) => c.pass) ? 0 : 1;
