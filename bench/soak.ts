/**
 * Soak benchmark (`npm run bench:soak`): mixed create / wait (long-poll, SSE,
 * hinted polling) / cancel / list load against one server process for a
 * bounded time (10 minutes by default, `--minutes N`, `--quick` = 1 minute).
 * Every 10 s it samples the server's RSS and open file descriptors and the
 * p99 latency of plain GETs. After a warm-up minute (a sixth of the run in
 * quick mode), it checks: RSS growth under 10 % (the peak of the first third
 * against the peak of the last third), no file-descriptor growth,
 * and a p99 that stays stable (last window within 2x of the first, or 5 ms).
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobwaitClient, type WaitStrategy } from '@jobwait/client';
import { freePort, spawnServer } from '../test/helpers/server-process.js';
import { writeBenchSection } from './bench-report.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const minutesArg = args.indexOf('--minutes');
const minutes = minutesArg >= 0 ? Number(args[minutesArg + 1]) : quick ? 1 : 10;
if (!(minutes > 0 && minutes <= 60)) throw new Error('--minutes must be from 0 to 60');
const durationMs = minutes * 60_000;
const warmupMs = Math.min(60_000, durationMs / 6);
const SAMPLE_MS = quick ? 5_000 : 10_000;
const CONCURRENCY = 40;

interface Sample {
  at: number;
  rssKb: number;
  fds: { sockets: number; other: number };
  p99: number;
  requests: number;
}

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** Open descriptors: sockets follow the load (one per client connection); anything else must not grow. */
function openFds(pid: number): { sockets: number; other: number } {
  let sockets = 0;
  let other = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
      else other++;
    } catch {
      // closed while listing
    }
  }
  return { sockets, other };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const dir = mkdtempSync(join(tmpdir(), 'jobwait-soak-'));
const port = await freePort();
const server = await spawnServer(port, ['--data-dir', dir, '--rate-limit', '0']);
const pid = server.child.pid!;
const client = new JobwaitClient({ baseUrl: server.url });
const started = Date.now();
const stopAt = started + durationMs;
let operations = 0;
let failures = 0;
const failureKinds = new Map<string, number>();
const latencies: number[] = [];
const strategies: WaitStrategy[] = ['long-poll', 'sse', 'poll', 'auto'];

async function worker(n: number): Promise<void> {
  let i = n;
  while (Date.now() < stopAt) {
    i++;
    try {
      const job = await client.createJob({ duration: 0.2 + (i % 10) * 0.2, metadata: { worker: n, i } });
      if (i % 10 === 3) await client.cancelJob(job.id).catch(() => undefined);
      else await client.waitForJob(job.id, { strategy: strategies[i % strategies.length]!, timeoutMs: 30_000 });
      if (i % 25 === 0) await client.listJobs({ limit: 50 });
      operations++;
    } catch (error) {
      failures++;
      const kind = (error as { code?: string }).code ?? String(error);
      failureKinds.set(kind, (failureKinds.get(kind) ?? 0) + 1);
    }
  }
}

async function sampler(): Promise<Sample[]> {
  const samples: Sample[] = [];
  const probe = await client.createJob({ duration: 86_400 });
  while (Date.now() < stopAt) {
    const windowEnd = Math.min(stopAt, Date.now() + SAMPLE_MS);
    const window: number[] = [];
    while (Date.now() < windowEnd) {
      const t0 = performance.now();
      await fetch(`${server.url}/v1/jobs/${probe.id}`).then((r) => r.arrayBuffer());
      window.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
    latencies.push(...window);
    samples.push({ at: Date.now() - started, rssKb: rssKb(pid), fds: openFds(pid), p99: percentile(window, 99), requests: window.length });
    const last = samples.at(-1)!;
    process.stdout.write(`t=${(last.at / 1000).toFixed(0)}s rss=${(last.rssKb / 1024).toFixed(1)}MiB fds=${last.fds.other}+${last.fds.sockets} sockets p99=${last.p99.toFixed(2)}ms ops=${operations} failures=${failures}\n`);
  }
  await client.cancelJob(probe.id);
  return samples;
}

const [samples] = await Promise.all([sampler(), ...Array.from({ length: CONCURRENCY }, (_, n) => worker(n * 1000))]);
server.child.kill('SIGTERM');
await server.exited;
rmSync(dir, { recursive: true, force: true });

const afterWarmup = samples.filter((s) => s.at >= warmupMs);
const base = afterWarmup[0] ?? samples[0]!;
const last = samples.at(-1)!;
// RSS is a sawtooth (the heap grows until a major GC gives it back): one sample against another says
// more about when the GC ran than about a leak, and a third of the run may hold no major GC at all
// (its lowest sample is then just its first). What a leak lifts for sure is the peak: the most memory
// the process needs. So the peaks of the first and the last third are compared; troughs are shown.
const third = Math.max(1, Math.floor(afterWarmup.length / 3));
const [early, late] = [afterWarmup.slice(0, third), afterWarmup.slice(-third)];
const peak = (window: Sample[]): number => Math.max(...window.map((s) => s.rssKb));
const trough = (window: Sample[]): number => Math.min(...window.map((s) => s.rssKb));
const peakGrowth = (peak(late) - peak(early)) / peak(early);
const mib = (kb: number): string => (kb / 1024).toFixed(1);
const otherFdGrowth = last.fds.other - base.fds.other;
// Each client connection is a socket; a leak shows as sockets beyond what the load can hold open.
const socketBound = CONCURRENCY * 2 + 10;
const p99Stable = last.p99 <= Math.max(2 * base.p99, base.p99 + 5);
const checks = [
  {
    name: 'RSS growth after warm-up < 10 % (peak of the first third vs peak of the last third)',
    value: `${(peakGrowth * 100).toFixed(1)} % (${mib(peak(early))} -> ${mib(peak(late))} MiB; lowest samples ${mib(trough(early))} -> ${mib(trough(late))} MiB)`,
    pass: peakGrowth < 0.1,
  },
  { name: 'no file-descriptor growth (non-socket)', value: `${base.fds.other} -> ${last.fds.other}`, pass: otherFdGrowth <= 2 },
  { name: `sockets bounded by the load (<= ${socketBound})`, value: `${base.fds.sockets} -> ${last.fds.sockets}`, pass: last.fds.sockets <= socketBound },
  { name: 'GET p99 stable (last window <= 2x first, or +5 ms)', value: `${base.p99.toFixed(2)} -> ${last.p99.toFixed(2)} ms`, pass: p99Stable },
  { name: 'no failed operation', value: `${failures} of ${operations + failures}${failures ? ` ${JSON.stringify(Object.fromEntries(failureKinds))}` : ''}`, pass: failures === 0 },
];
const table = [
  '| check | measured | result |',
  '|---|---|---|',
  ...checks.map((c) => `| ${c.name} | ${c.value} | ${c.pass ? 'PASS' : 'FAIL'} |`),
].join('\n');
const timeline = [
  '| t (s) | RSS (MiB) | fds (other + sockets) | GET p99 (ms) |',
  '|---|---|---|---|',
  ...samples.map((s) => `| ${(s.at / 1000).toFixed(0)} | ${(s.rssKb / 1024).toFixed(1)} | ${s.fds.other} + ${s.fds.sockets} | ${s.p99.toFixed(2)} |`),
].join('\n');
const report = `### Soak (\`npm run bench:soak${args.length ? ` -- ${args.filter((a) => a !== '--no-write').join(' ')}` : ''}\`)

${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x ${cpus().length}, Node ${process.version}. ${minutes} min, ${CONCURRENCY} concurrent workers
(create, then wait by long-poll / SSE / hinted polling / auto, 10 % cancels, a list every 25th), SQLite store,
rate limit off; ${operations} operations, overall GET p99 ${percentile(latencies, 99).toFixed(2)} ms. Warm-up ${(warmupMs / 1000).toFixed(0)} s excluded.

${table}

<details><summary>timeline</summary>

${timeline}

</details>`;
process.stdout.write(`\n${table}\n`);
if (!args.includes('--no-write')) writeBenchSection('soak', report);
process.exitCode = checks.every((c) => c.pass) ? 0 : 1;
