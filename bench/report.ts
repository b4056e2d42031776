/**
 * `npm run bench:report [-- --quick] [-- --no-write]`: workers' reports on a jobwait server (SQLite).
 * Targets: report → waiter delay p99 <= 10 ms for long-poll and SSE; >= 5,000 reports/s sustained
 * with 1,000 running jobs heartbeating; RSS per running job stated.
 *
 * The server is the build (`bench/server-build.ts`) run as its own process on a fresh data folder,
 * `--rate-limit 0`; every load generator is another process (`bench/report-worker.ts`), and the
 * paced reporter of the delay phase is this process.
 *
 * 1. RSS of the server after a warm-up, then with 1,000 running reported jobs (created, then
 *    `started` by a report each), and with 10,000: RSS per running job from the growth between.
 * 2. Throughput: the flood worker(s) report on the 1,000 jobs round-robin over keep-alive
 *    connections for a fixed time (heartbeats; every tenth report of a job a progress): reports/s
 *    answered 200, their latency, anything else counted.
 * 3. Delay: 200 of those jobs each get a long-poll (answered by the next version, asked again at
 *    once) and an event stream, held in a worker process; this process then reports progress on
 *    them one at a time (paced), noting when each report was sent. Delay = when a waiter has the
 *    new version − when its report was sent (one clock: `performance.timeOrigin + now()`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/server-process.js';
import { metricValue, parseMetrics } from '../test/helpers/prometheus.js';
import { writeBenchSection } from './bench-report.js';
import type { Arrival, ReportTarget, ReportWorkerCommand, ReportWorkerReport } from './report-worker.js';
import { buildServerCopy } from './server-build.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const WRITE = !args.includes('--no-write');
const TARGET_DELAY_P99_MS = 10;
const TARGET_REPORTS_PER_S = 5000;
/** Running jobs the flood reports on. */
const RUNNING = 1000;
/** Running jobs at the second RSS reading. */
const RUNNING_MANY = QUICK ? 5000 : 10_000;
const FLOOD_MS = QUICK ? 10_000 : 30_000;
/** Flood processes and keep-alive connections each. */
const FLOOD_PROCESSES = 1;
const FLOOD_CONCURRENCY = 32;
/** Jobs with a long-poll and a stream each in the delay phase, and reports per job. */
const WATCHED = 200;
const DELAY_ROUNDS = QUICK ? 3 : 5;
/** Between two paced reports: the delay phase measures the path of one report, not a queue. */
const PACE_MS = 10;
/** Creates and starts in flight at once. */
const SETUP_CONCURRENCY = 32;

const now = (): number => performance.timeOrigin + performance.now();
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—');

/** RSS of process `pid`, in bytes (Linux /proc). */
function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** CPU time process `pid` used so far (user + system), in ms (Linux /proc; 100 ticks a second). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Worker {
  child: ChildProcess;
  send(cmd: ReportWorkerCommand): void;
  next<T extends ReportWorkerReport['type']>(type: T): Promise<Extract<ReportWorkerReport, { type: T }>>;
}

function startWorker(): Worker {
  const child = spawn(process.execPath, ['--conditions=jobwait-source', '--import', 'tsx', 'bench/report-worker.ts'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const inbox: ReportWorkerReport[] = [];
  const waiting: { type: string; take: (m: ReportWorkerReport) => void }[] = [];
  child.on('message', (m: ReportWorkerReport) => {
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0]!.take(m);
    else inbox.push(m);
  });
  return {
    child,
    send: (cmd) => void child.send(cmd),
    next: (type) =>
      new Promise((resolve) => {
        const i = inbox.findIndex((m) => m.type === type);
        if (i >= 0) return resolve(inbox.splice(i, 1)[0] as never);
        waiting.push({ type, take: (m) => resolve(m as never) });
      }),
  };
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function pool<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await task(items[next++]!);
  }));
}

async function post(url: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Creates `count` reported jobs and starts each with a report; their targets. */
async function runningJobs(url: string, count: number): Promise<ReportTarget[]> {
  const targets: ReportTarget[] = [];
  await pool(Array.from({ length: count }, (_, i) => i), SETUP_CONCURRENCY, async () => {
    const job = await post(`${url}/v1/jobs`, { heartbeatTimeoutSeconds: 600, metadata: { video: 'talk.mp4' } });
    const started = await post(`${url}/v1/jobs/${String(job.id)}/reports`, { event: 'started', message: 'working' }, String(job.reportToken));
    targets.push({ id: String(job.id), token: String(job.reportToken), version: Number(started.version) });
  });
  return targets;
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const build = await buildServerCopy(ROOT, join(ROOT, 'node_modules'));
  const dataDir = mkdtempSync(join(tmpdir(), 'jobwait-bench-report-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [build.bin, '--port', String(port), '--store', 'sqlite', '--data-dir', dataDir, '--rate-limit', '0', '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.add(server);
  try {
    for (let tries = 0; ; tries++) {
      const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (tries > 600) throw new Error('the server did not start');
      await delay(100);
    }
    // Warm-up: the code paths of the phases run (and are optimized) before any reading.
    const warm = await runningJobs(url, 200);
    for (const job of warm) await post(`${url}/v1/jobs/${job.id}/reports`, { event: 'completed', result: 'warm' }, job.token);
    await delay(1000);
    const rssIdle = rssOf(server.pid!);

    console.log(`bench:report: ${RUNNING} running jobs…`);
    const running = await runningJobs(url, RUNNING);
    await delay(1000);
    const rssRunning = rssOf(server.pid!);

    console.log(`bench:report: flood of reports for ${FLOOD_MS / 1000} s…`);
    const floods = Array.from({ length: FLOOD_PROCESSES }, startWorker);
    const loadDuring: number[] = [];
    const loadTimer = setInterval(() => loadDuring.push(loadavg()[0]!), 2000);
    const cpuBefore = cpuMsOf(server.pid!);
    for (const [i, worker] of floods.entries()) {
      worker.send({ type: 'flood', host: '127.0.0.1', port, targets: running.filter((_, j) => j % FLOOD_PROCESSES === i), concurrency: FLOOD_CONCURRENCY, durationMs: FLOOD_MS });
    }
    const flooded = await Promise.all(floods.map((w) => w.next('flooded')));
    const cpuFlood = cpuMsOf(server.pid!) - cpuBefore;
    clearInterval(loadTimer);
    for (const worker of floods) worker.send({ type: 'close' });
    const floodOk = flooded.reduce((n, f) => n + f.ok, 0);
    const floodSeconds = Math.max(...flooded.map((f) => f.elapsedMs)) / 1000;
    const floodLatency = flooded.flatMap((f) => f.latencyMs).sort((a, b) => a - b);
    const floodFailed: Record<string, number> = {};
    for (const f of flooded) for (const [k, v] of Object.entries(f.failed)) floodFailed[k] = (floodFailed[k] ?? 0) + v;
    const reportsPerSecond = floodOk / floodSeconds;
    // What the server spent per report: on a busy machine the rate above is what the server got of the CPU, this is what a report costs.
    const cpuUsPerReport = (cpuFlood * 1000) / Math.max(1, floodOk);

    console.log(`bench:report: report → waiter delay, ${WATCHED} jobs x ${DELAY_ROUNDS} reports…`);
    // The versions the flood left: each waiter waits for the next one.
    const watched: ReportTarget[] = [];
    for (const job of running.slice(0, WATCHED)) {
      const read = (await (await fetch(`${url}/v1/jobs/${job.id}`)).json()) as { version: number };
      watched.push({ ...job, version: read.version });
    }
    const waiters = startWorker();
    waiters.send({ type: 'waiters', host: '127.0.0.1', port, targets: watched });
    const opened = await waiters.next('opened');
    // Held on the server, not just sent: its own gauges say so.
    for (let tries = 0; ; tries++) {
      const samples = parseMetrics(await (await fetch(`${url}/metrics`)).text());
      if (metricValue(samples, 'jobwait_waiters', { transport: 'long-poll' }) >= WATCHED && metricValue(samples, 'jobwait_waiters', { transport: 'sse' }) >= WATCHED) break;
      if (tries > 300) throw new Error('the waiters were not held');
      await delay(100);
    }
    const sentAt = new Map<string, number>();
    for (let round = 0; round < DELAY_ROUNDS; round++) {
      for (const job of watched) {
        const at = now();
        const answer = await post(`${url}/v1/jobs/${job.id}/reports`, { event: 'progress', progress: 0.5 + round / 100, message: `step ${round}` }, job.token);
        sentAt.set(`${job.id}.${Number(answer.version)}`, at);
        await delay(PACE_MS);
      }
    }
    await delay(2000);
    waiters.send({ type: 'collect' });
    const { arrivals, errors } = await waiters.next('arrivals');
    waiters.send({ type: 'close' });
    const delays = (kind: Arrival['kind']): number[] =>
      arrivals
        .filter((a) => a.kind === kind)
        .map((a) => a.at - (sentAt.get(`${a.id}.${a.version}`) ?? Number.NaN))
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
    const longPoll = delays('long-poll');
    const sse = delays('sse');
    const expected = sentAt.size;

    console.log(`bench:report: ${RUNNING_MANY} running jobs…`);
    await runningJobs(url, RUNNING_MANY - RUNNING);
    await delay(1000);
    const rssMany = rssOf(server.pid!);
    const perJob = (rssMany - rssRunning) / (RUNNING_MANY - RUNNING);

    const loadAfter = loadavg();
    const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'} x ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}, Node ${process.version}`;
    const shared = `load average ${loadBefore[0]!.toFixed(1)} before, ${loadDuring.length ? Math.max(...loadDuring).toFixed(1) : '—'} at most during the flood, ${loadAfter[0]!.toFixed(1)} after, on ${cpus().length} cores`;
    const verdict = (ok: boolean): string => (ok ? 'meets the target' : 'MISSES the target');
    const delayRow = (name: string, sorted: number[]): string =>
      `| ${name} | ${fmt(sorted.length)} of ${fmt(expected)} | ${fmt(percentile(sorted, 50), 1)} | ${fmt(percentile(sorted, 99), 1)} | ${fmt(sorted.at(-1) ?? Number.NaN, 1)} | ${verdict(percentile(sorted, 99) <= TARGET_DELAY_P99_MS)} |`;
    const failedText = Object.keys(floodFailed).length ? Object.entries(floodFailed).map(([k, v]) => `${fmt(v)} × ${k}`).join(', ') : 'none';
    const markdown = `## Workers' reports: \`npm run bench:report\`

Run: ${new Date().toISOString().slice(0, 10)}${QUICK ? ' (--quick)' : ''}. Machine: ${machine}; ${shared}. The machine is shared
with other agents' builds and tests${loadBefore[0]! > cpus().length ? ' and was busy (load above its core count): the figures are noisy and a lower bound of what the server does on a machine of its own' : ''}.
Server: the build, one process, SQLite (\`--store sqlite\`, fresh data folder, \`--rate-limit 0\`); load
generators in other processes (bench/report-worker.ts; the paced reporter of the delay phase is the bench).

**Reports/s sustained** (target >= ${fmt(TARGET_REPORTS_PER_S)}/s): ${fmt(RUNNING)} running jobs, ${FLOOD_PROCESSES} load process × ${FLOOD_CONCURRENCY}
keep-alive connections reporting round-robin for ${fmt(floodSeconds, 1)} s (heartbeats; every tenth report of a job a progress, a new version):
**${fmt(reportsPerSecond)} reports/s** answered 200 (${verdict(reportsPerSecond >= TARGET_REPORTS_PER_S)}); latency p50 ${fmt(percentile(floodLatency, 50), 1)} ms, p99 ${fmt(percentile(floodLatency, 99), 1)} ms; other answers: ${failedText}.
The server process used ${fmt(cpuFlood / 1000 / floodSeconds * 100)} % of a core meanwhile, **${fmt(cpuUsPerReport)} µs of CPU per report**: ${fmt(1e6 / cpuUsPerReport)} reports/s
for each core the server has to itself (the server is one process: one core).

**Report → waiter delay** (target p99 <= ${TARGET_DELAY_P99_MS} ms): ${WATCHED} of those jobs, each with a held long-poll and an event
stream; ${fmt(expected)} progress reports sent one at a time, ${PACE_MS} ms apart; delay = a waiter has the new version − its report was sent
(the report's own round trip included).

| waiter | versions seen | p50 ms | p99 ms | max ms | |
|---|---:|---:|---:|---:|---|
${delayRow('long-poll', longPoll)}
${delayRow('event stream', sse)}
${opened.errors.length + errors.length ? `\nWaiter errors: ${[...opened.errors, ...errors].slice(0, 5).join('; ')}\n` : ''}
**RSS per running job**: server RSS ${fmt(rssIdle / 2 ** 20, 1)} MiB after the warm-up, ${fmt(rssRunning / 2 ** 20, 1)} MiB with ${fmt(RUNNING)} running jobs,
${fmt(rssMany / 2 ** 20, 1)} MiB with ${fmt(RUNNING_MANY)}: **${fmt(perJob / 1024, 2)} KiB per running job** (growth from ${fmt(RUNNING)} to ${fmt(RUNNING_MANY)}; a running job
lives in the SQLite file and its page cache, the process keeps its deadline in the scheduler and recent records in the read cache).
`;
    console.log(markdown);
    if (WRITE) writeBenchSection('report', markdown);
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
    build.remove();
  }
}

await main();
process.exit(0);
