/**
 * `npm run bench:server [-- --quick] [-- --no-docs] [-- --rounds N] [-- --waiters N] [-- --only throughput,long-poll,sse]
 * [-- --cpu-prof] [-- --server build|source|dist] [-- --server-root <dir>]`:
 * server throughput, create rate and held waiters, side by side with a bare node:http handler.
 *
 * Everything runs on 127.0.0.1, each server in its own process: the jobwait server as `npm start` runs it
 * (default logging, JSON since stdout is a pipe) but with `--rate-limit 0` (a limit would cap every figure),
 * SQLite store in a fresh temp dir; by default a plain transpile of the current source, see
 * bench/server-build.ts) and the baseline `bench/bare-server.ts`. The load generator (`wrk`, a Debian
 * package, in its own process) and the waiters (`bench/waiter-worker.ts` processes) never share the event
 * loop of the server they measure.
 *
 * 1. Throughput with wrk: first a probe of wrk settings (threads × connections) against the baseline, so
 *    that the baseline runs at its own limit, not at the load generator's; then with the best setting,
 *    `GET /v1/jobs/{id}` and `GET /status` against the baseline answering a body of the same size, in
 *    `--rounds` rounds alternating baseline and jobwait (median of the per-round ratios), then `POST /v1/jobs` creates/s.
 *    A minimal Fastify (`bench/fastify-minimal-server.ts`: the baseline's answers, no plugins or hooks, logger off)
 *    runs in the same rounds: Fastify's own floor on this machine, beside jobwait's figure. So does the
 *    baseline's own handler started after a jobwait server in one process (`BARE_AFTER_JOBWAIT`): the
 *    floor of any handler inside a jobwait process.
 * 2. Long-poll waiters: a fresh server; 20 jobs all due at the same moment; N waiters (20,000,
 *    or fewer when RLIMIT_NOFILE cannot hold them) spread evenly over them. RSS per waiter =
 *    (VmRSS held − VmRSS before) / N; lateness = when a waiter got the final state − dueAt
 *    (client-side, same clock); event-loop delay = round-trip of `GET /healthz` every 50 ms
 *    while they are held (plus `nodejs_eventloop_lag_p99_seconds` from `/metrics` when served).
 *    Then the same N waiters on the bare handler: the floor of this machine.
 * 3. The same with N event streams (`GET /v1/jobs/{id}/events`).
 *
 * `--cpu-prof` profiles every jobwait server and prints where their time went; `--server-root` measures
 * another tree (a copy of an older one, for before/after figures).
 * Default run 4-5 minutes (longer leads on a busy machine), `--quick` under 1 minute (short rounds,
 * 2,000 waiters, no bare waiters). Exit code 0 when every target passes, 1 when one fails, 3 on the hard timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { formatProfile } from './cpu-profile.js';
import { buildServerCopy, type ServerBuild } from './server-build.js';
import type { WaitTarget, WorkerCommand, WorkerReport } from './waiter-worker.js';
import { writeBenchSection } from './bench-report.js';

// ---------------------------------------------------------------- options

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const WRITE_DOCS = !args.includes('--no-docs');
const CPU_PROF = args.includes('--cpu-prof');
const argValue = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
/**
 * How the server under test runs: `build` (default) transpiles `packages/server/src` to a temp folder
 * first (bench/server-build.ts: plain JavaScript as `tsc` emits it, without tsx's `__name` wrappers);
 * `source` runs the .ts files through `--import tsx`; `dist` runs `packages/server/dist/bin.js` as built.
 */
const SERVER_MODE = (argValue('--server') ?? 'build') as 'build' | 'source' | 'dist';
if (!['build', 'source', 'dist'].includes(SERVER_MODE)) throw new Error('--server must be build, source or dist');
/** Tree whose `packages/server/src` is the server under test (A/B runs against a copy); this repo by default. */
const SERVER_ROOT = resolve(argValue('--server-root') ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const PHASES = new Set((argValue('--only') ?? 'throughput,long-poll,sse').split(','));
for (const p of PHASES) if (!['throughput', 'long-poll', 'sse'].includes(p)) throw new Error(`--only: unknown phase ${p}`);
const WAITERS_ASKED = Number(argValue('--waiters') ?? (QUICK ? 2_000 : 20_000));
if (!Number.isInteger(WAITERS_ASKED) || WAITERS_ASKED < 1) throw new Error('--waiters needs a positive integer');

/** wrk settings probed against the baseline; the one that gets it the most requests/s is used throughout. */
const WRK_SETTINGS: readonly WrkSetting[] = [
  { threads: 1, connections: 50 },
  { threads: 1, connections: 100 },
  { threads: 2, connections: 100 },
  { threads: 2, connections: 200 },
];
/** Probe, warm-up and measured round, seconds. */
const PROBE_S = QUICK ? 1 : 3;
const WARM_S = QUICK ? 1 : 3;
const MEASURE_S = QUICK ? 2 : 4;
/**
 * Measured rounds per pair, alternating baseline and jobwait. The machine is shared: a round's rate
 * swings by a third, so the verdict is the median of the per-round ratios (each ratio compares two
 * rounds run back to back), not one ratio of two separate runs.
 */
const ROUNDS = Number(argValue('--rounds') ?? (QUICK ? 1 : 5));
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds needs a positive integer');
/** Jobs the waiters share; all due at the same moment. */
const WAIT_JOBS = 20;
/**
 * The second wake-up: the same jobs and waiters, the jobs due one after another over this span
 * (20 jobs: one every 500 ms, 1,000 waiters each) rather than at one instant. All 20,000 at one
 * instant is past what this 2-core VM can answer in 500 ms even bare (~50–60 µs of CPU per answer).
 */
const SPREAD_MS = 9_500;
/** From creating the jobs to their dueAt: time to open every waiter, then a hold to measure. */
const LEAD_MS = QUICK ? 4_000 : 15_000;
/** Waiters of the pilot that measures how fast this machine opens them (see waiterPhase). */
const PILOT_WAITERS = QUICK ? 200 : 500;
/** Hold measured at least, after the last waiter opened and before dueAt. */
const MIN_HOLD_MS = QUICK ? 2_000 : 6_000;
/** Longest lead however slowly the pilot opened. */
const MAX_LEAD_MS = QUICK ? 20_000 : 90_000;
/** Waiters still unanswered this long after dueAt are counted missing. */
const ANSWER_BOUND_MS = 10_000;
/** Waiters per worker process at most (each process may hold RLIMIT_NOFILE descriptors). */
const PER_WORKER = 10_000;
const PROBE_EVERY_MS = 50;
/** Source addresses the waiters spread over, so no one address runs out of ephemeral ports. */
const LOCAL_ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
const HARD_TIMEOUT_MS = QUICK ? 150_000 : 900_000;

const TARGET = { ratio: 0.8, createsPerSecond: 5_000, rssPerWaiterKb: 12, lateMs: 500, wakeRatio: 1.2, loopP99Ms: 50 } as const;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = join(ROOT, 'docs', 'benchmarks.md');
const COMMAND = `npm run bench:server${QUICK ? ' -- --quick' : ''}`;
const PROFILE_DIR = join(tmpdir(), `jobwait-bench-profiles-${process.pid}`);

// ---------------------------------------------------------------- processes

interface ServerChild {
  name: string;
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

const children = new Set<ChildProcess>();
let serverBuild: ServerBuild | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

/**
 * Starts `argv` through bash so the descriptor limit is raised first (a shell builtin; `exec`
 * keeps the pid, so /proc/<pid> is node's). 65,536 when allowed, else the hard limit.
 */
function spawnWithLimit(name: string, argv: string[], port: number, extraEnv: Record<string, string> = {}): ServerChild {
  const script = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
  const child = spawn('bash', ['-c', script, 'bash', ...argv], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...extraEnv } });
  children.add(child);
  let out = '';
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.once('exit', () => children.delete(child));
  return {
    name,
    child,
    pid: child.pid ?? -1,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function waitUntilUp(server: ServerChild, path: string): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const res = await get(server.port, path).catch(() => undefined);
    if (res?.status === 200) return;
    if (server.child.exitCode !== null || Date.now() > until) throw new Error(`${server.name} did not start:\n${server.output()}`);
    await sleep(100);
  }
}

/** `build-server` of the jobwait under test (the same build `startJobwait` runs), for the in-process floor. */
function buildServerModule(): string {
  if (SERVER_MODE === 'source') return join(SERVER_ROOT, 'packages/server/src/build-server.ts');
  return SERVER_MODE === 'dist' ? join(SERVER_ROOT, 'packages/server/dist/build-server.js') : join(dirname(serverBuild!.bin), 'build-server.js');
}

/** The jobwait server under test, from source, as the brief runs it: rate limit off, SQLite in a fresh dir. */
async function startJobwait(name: string): Promise<ServerChild & { dataDir: string }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'jobwait-bench-server-'));
  // One folder per server: the tsx loader thread writes a profile of its own beside the main thread's.
  const prof = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', join(PROFILE_DIR, name)] : [];
  const argv =
    SERVER_MODE === 'source'
      ? [process.execPath, ...prof, '--conditions=jobwait-source', '--import', 'tsx', join(SERVER_ROOT, 'packages/server/src/bin.ts')]
      : [process.execPath, ...prof, SERVER_MODE === 'dist' ? join(SERVER_ROOT, 'packages/server/dist/bin.js') : serverBuild!.bin];
  // As `npm start` runs it (default log level and format), but with the rate limit off.
  argv.push('--rate-limit', '0', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', String(port));
  // Every waiter comes from this one address: the held-connection limits are set to what the run needs
  // (as environment variables, which a build from before those limits ignores).
  const heldCap = String(2 * WAITERS_ASKED + 1000);
  const server = spawnWithLimit(name, argv, port, { JOBWAIT_MAX_HELD_PER_KEY: heldCap, JOBWAIT_MAX_HELD_CONNECTIONS: heldCap });
  await waitUntilUp(server, '/healthz');
  const stop = server.stop;
  return {
    ...server,
    dataDir,
    stop: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function startBaseline(
  jobJson: string,
  mirrored: { job: Record<string, string>; status: Record<string, string> } = { job: {}, status: {} },
  script = 'bench/bare-server.ts',
  name = script === 'bench/bare-server.ts' ? 'baseline' : 'fastify-minimal',
  env: Record<string, string> = {},
): Promise<ServerChild> {
  const port = await freePort();
  const argv = [process.execPath, '--import', 'tsx', script, String(port), jobJson, JSON.stringify(mirrored.job), JSON.stringify(mirrored.status)];
  const server = spawnWithLimit(name, argv, port, env);
  await waitUntilUp(server, '/status');
  return server;
}

// ---------------------------------------------------------------- http helpers

const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });
const setupAgent = new Agent({ keepAlive: true, maxSockets: 8 });

function get(port: number, path: string, agent: Agent = setupAgent): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return send(port, 'GET', path, undefined, agent);
}

function send(port: number, method: string, path: string, body?: unknown, agent: Agent = setupAgent): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((done, fail) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port, method, path, agent, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
        res.on('error', fail);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', fail);
    req.end(payload);
  });
}

async function createJob(port: number, duration: number): Promise<{ id: string; dueAt: number; version: number; json: string }> {
  const res = await send(port, 'POST', '/v1/jobs', { duration });
  if (res.status !== 201) throw new Error(`POST /v1/jobs answered ${res.status}: ${res.body}`);
  const job = JSON.parse(res.body) as { id: string; dueAt: string; version: number };
  return { id: job.id, dueAt: Date.parse(job.dueAt), version: job.version, json: res.body };
}

// ---------------------------------------------------------------- /proc

function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? Number.NaN);
}

/** CPU time (user + system) a process has used, ms; 10 ms resolution. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function fdLimit(pid: number): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
}

// ---------------------------------------------------------------- stats

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—');

// ---------------------------------------------------------------- results

interface Row {
  measure: string;
  jobwait: string;
  baseline: string;
  ratio: string;
  target: string;
  pass: boolean | undefined;
  /** Shown instead of PASS/FAIL when `pass` is undefined. */
  note?: string;
}

const rows: Row[] = [];
const notes: string[] = [];
const profiles: string[] = [];

function row(measure: string, jobwait: string, target: string, pass: boolean | undefined, baseline = '', ratio = '', note?: string): void {
  rows.push({ measure, jobwait, baseline, ratio, target, pass, ...(note === undefined ? {} : { note }) });
}

function markdownTable(): string {
  const head = ['measure', 'jobwait', 'baseline', 'ratio', 'target', 'result'];
  const body = rows.map((r) => [r.measure, r.jobwait, r.baseline, r.ratio, r.target, r.pass === undefined ? (r.note ?? '') : r.pass ? 'PASS' : '**FAIL**']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 || i === 4 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(head), rule, ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------- throughput

interface Round {
  rps: number;
  p50: number;
  p99: number;
  bad: number;
  /** Server CPU (user + system) per answer, µs: steadier than req/s on a shared machine, where other work takes CPU from the server. */
  cpuUs: number;
}

/** How wrk loads a server. */
interface WrkSetting {
  threads: number;
  connections: number;
}

/** The setting chosen by {@link probeWrk}. */
let wrkSetting: WrkSetting = WRK_SETTINGS[2]!;

/** A wrk script for a POST with a JSON body (wrk's own Lua hooks). */
function postScript(body: string): string {
  const path = join(tmpdir(), `jobwait-bench-post-${process.pid}.lua`);
  writeFileSync(path, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`);
  return path;
}

/** wrk's latency text (`812.00us`, `1.23ms`, `2.00s`) in ms. */
function wrkMs(text: string | undefined): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? '');
  if (!match) return Number.NaN;
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(match[1]) * scale;
}

/** One wrk run of `seconds` against `url` (127.0.0.1 only), bounded by a kill after twice its time. */
async function wrk(url: string, seconds: number, setting: WrkSetting = wrkSetting, script?: string): Promise<Round> {
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`wrk only runs against 127.0.0.1, not ${url}`);
  const argv = ['-t', String(setting.threads), '-c', String(setting.connections), '-d', `${seconds}s`, '--latency', ...(script ? ['-s', script] : []), url];
  const out = await new Promise<string>((done, fail) => {
    const child = spawn('wrk', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), seconds * 2000 + 10_000);
    child.once('error', (error) => fail(new Error(`wrk could not run (${error.message}): install it (Debian: apt-get install wrk)`)));
    child.once('exit', (code) => {
      clearTimeout(killer);
      children.delete(child);
      if (code === 0) done(text);
      else fail(new Error(`wrk exited ${code}: ${text}`));
    });
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return { rps, p50: wrkMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1]), p99: wrkMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1]), bad: non2xx + errors, cpuUs: Number.NaN };
}

async function measure(label: string, url: string, pid: number, script?: string): Promise<Round> {
  const cpuBefore = cpuMs(pid);
  const round = await wrk(url, MEASURE_S, wrkSetting, script);
  round.cpuUs = ((cpuMs(pid) - cpuBefore) * 1000) / (round.rps * MEASURE_S);
  console.log(
    `  ${label.padEnd(34)} ${fmt(round.rps).padStart(8)} req/s  latency p50 ${fmt(round.p50, 2)} ms, p99 ${fmt(round.p99, 2)} ms; server CPU ${fmt(round.cpuUs, 1)} µs/answer${round.bad ? `; ${round.bad} errors/non-2xx` : ''}`,
  );
  if (round.bad) notes.push(`${label}: ${round.bad} socket errors or non-2xx answers in a round`);
  return round;
}

/**
 * Tries each of {@link WRK_SETTINGS} against the baseline and keeps the one that gets it the most
 * requests/s: the baseline then runs at its own limit, so the ratio is not squeezed toward 1 by a
 * load generator that cannot keep up.
 */
async function probeWrk(url: string): Promise<void> {
  await wrk(url, WARM_S);
  const results: [WrkSetting, number][] = [];
  for (const setting of WRK_SETTINGS) results.push([setting, (await wrk(url, PROBE_S, setting)).rps]);
  results.sort((a, b) => b[1] - a[1]);
  wrkSetting = results[0]![0];
  const text = results.map(([st, rps]) => `${st.threads} thread(s) × ${st.connections} connections ${fmt(rps)} req/s`).join('; ');
  console.log(`  wrk probe against the baseline (${PROBE_S} s each): ${text}; using ${wrkSetting.threads} × ${wrkSetting.connections}`);
  notes.push(`wrk settings probed against the baseline's GET /status (${PROBE_S} s each, best first): ${text}; the best was used for every round`);
}

/** Medians of a baseline / jobwait comparison: each side's median round, the median per-round ratio, and every round's ratio. */
interface Pair {
  b: Round;
  j: Round;
  ratio: number;
  rounds: string;
  /** Median per-round ratio of the baseline's CPU per answer to jobwait's (throughput at equal CPU). */
  cpuRatio: number;
  /** The same for each floor server (minimal Fastify, the bare handler in a jobwait process), measured in the same rounds. */
  floors: Array<{ label: string; f: Round; ratio: number; rounds: string; cpuRatio: number }>;
}

/** A server that answers the baseline's paths, measured beside jobwait as a floor. */
interface Floor {
  /** What it is, in the table (`minimal Fastify`). */
  label: string;
  server: ServerChild;
}

/**
 * Warms them all up, then {@link ROUNDS} measured rounds of baseline, each floor and jobwait in
 * turn (the floors answer the baseline's path).
 */
async function pair(what: string, baseline: ServerChild, baselinePath: string, floors: Floor[], jobwait: ServerChild, jobwaitPath: string): Promise<Pair> {
  const baselineUrl = `${baseline.url}${baselinePath}`;
  const jobwaitUrl = `${jobwait.url}${jobwaitPath}`;
  await wrk(baselineUrl, WARM_S);
  for (const { server } of floors) await wrk(`${server.url}${baselinePath}`, WARM_S);
  await wrk(jobwaitUrl, WARM_S);
  const b: Round[] = [];
  const f: Round[][] = floors.map(() => []);
  const j: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    b.push(await measure(`baseline ${what}`, baselineUrl, baseline.pid));
    for (const [k, { label, server }] of floors.entries()) f[k]!.push(await measure(`${label} ${what}`, `${server.url}${baselinePath}`, server.pid));
    j.push(await measure(`jobwait ${what}`, jobwaitUrl, jobwait.pid));
  }
  const median = (rounds: Round[]): Round => {
    const sorted = [...rounds].sort((x, y) => x.rps - y.rps);
    return { ...sorted[Math.floor(sorted.length / 2)]!, bad: rounds.reduce((sum, r) => sum + r.bad, 0) };
  };
  const middle = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
  const ratios = b.map((round, i) => j[i]!.rps / round.rps);
  const cpuRatios = b.map((round, i) => round.cpuUs / j[i]!.cpuUs);
  return {
    b: median(b),
    j: median(j),
    ratio: middle(ratios),
    rounds: ratios.map((r) => `${r.toFixed(2)}x`).join(', '),
    cpuRatio: middle(cpuRatios),
    floors: floors.map(({ label }, k) => {
      const fk = f[k]!;
      const floorRatios = b.map((round, i) => fk[i]!.rps / round.rps);
      return {
        label,
        f: median(fk),
        ratio: middle(floorRatios),
        rounds: floorRatios.map((r) => `${r.toFixed(2)}x`).join(', '),
        cpuRatio: middle(b.map((round, i) => round.cpuUs / fk[i]!.cpuUs)),
      };
    }),
  };
}

/** Headers of a jobwait answer that the baseline sends too (all but those node:http writes itself and the body's own). */
function mirroredHeaders(headers: Record<string, unknown>): Record<string, string> {
  const own = new Set(['date', 'connection', 'keep-alive', 'content-length', 'content-type', 'transfer-encoding']);
  return Object.fromEntries(Object.entries(headers).filter(([name, value]) => !own.has(name) && typeof value === 'string')) as Record<string, string>;
}

async function throughputPhase(): Promise<void> {
  console.log(`\n[throughput] wrk, ${WARM_S} s warm-up each, then ${ROUNDS} x ${MEASURE_S} s measured rounds alternating baseline / jobwait`);
  const server = await startJobwait('throughput');
  let baseline: ServerChild | undefined;
  const floors: Floor[] = [];
  try {
    const job = await createJob(server.port, 3600);
    const timer = await send(server.port, 'POST', '/start-timer', { duration: 3600 });
    if (timer.status !== 200) throw new Error(`POST /start-timer answered ${timer.status}`);
    const shown = await get(server.port, `/v1/jobs/${job.id}`);
    const status = await get(server.port, '/status');
    const mirrored = { job: mirroredHeaders(shown.headers), status: mirroredHeaders(status.headers) };
    baseline = await startBaseline(shown.body, mirrored);
    floors.push({ label: 'minimal Fastify', server: await startBaseline(shown.body, mirrored, 'bench/fastify-minimal-server.ts') });
    floors.push({
      label: 'bare handler in a jobwait process',
      server: await startBaseline(shown.body, mirrored, 'bench/bare-server.ts', 'bare-in-jobwait', { BARE_AFTER_JOBWAIT: buildServerModule() }),
    });
    const bareJob = await get(baseline.port, `/v1/jobs/${job.id}`);
    const bareStatus = await get(baseline.port, '/status');
    notes.push(`baseline bodies: ${Buffer.byteLength(bareJob.body)} B for the job (jobwait: ${Buffer.byteLength(shown.body)} B), ${Buffer.byteLength(bareStatus.body)} B for /status (jobwait: ${Buffer.byteLength(status.body)} B)`);
    notes.push(`header lines both send besides Content-Type and Content-Length: ${Object.keys(mirrored.job).join(', ')} (job); ${Object.keys(mirrored.status).join(', ')} (/status)`);

    await probeWrk(`${baseline.url}/status`);
    const statusPair = await pair('GET /status', baseline, '/status', floors, server, '/status');
    const jobPair = await pair('GET /v1/jobs/{id}', baseline, `/v1/jobs/${job.id}`, floors, server, `/v1/jobs/${job.id}`);
    const createUrl = `${server.url}/v1/jobs`;
    const script = postScript('{"duration":3600}');
    await wrk(createUrl, WARM_S, wrkSetting, script);
    const create = await measure('jobwait POST /v1/jobs', createUrl, server.pid, script);
    rmSync(script, { force: true });

    const ratioRow = (measure: string, { j, b, ratio, rounds, cpuRatio, floors: fls }: Pair): void => {
      row(measure, `${fmt(j.rps)} req/s`, `>= ${TARGET.ratio}x baseline`, ratio >= TARGET.ratio && j.bad === 0, `${fmt(b.rps)} req/s`, `${ratio.toFixed(2)}x`);
      row(`${measure}: server CPU per answer (baseline / jobwait)`, `${fmt(j.cpuUs, 1)} µs`, '', undefined, `${fmt(b.cpuUs, 1)} µs`, `${cpuRatio.toFixed(2)}x`);
      for (const fl of fls) {
        row(`${measure}: ${fl.label} instead of jobwait (req/s; CPU per answer)`, `${fmt(fl.f.rps)} req/s; ${fmt(fl.f.cpuUs, 1)} µs`, '', undefined, `${fmt(b.rps)} req/s; ${fmt(b.cpuUs, 1)} µs`, `${fl.ratio.toFixed(2)}x; ${fl.cpuRatio.toFixed(2)}x`, 'floor');
      }
      if (ROUNDS > 1) notes.push(`${measure}: ratio per round ${rounds}; the ratio shown is their median, the req/s each side's median round; CPU per answer from /proc/<pid>/stat over each round (10 ms ticks), its ratio the median per round`);
      if (ROUNDS > 1) for (const fl of fls) notes.push(`${measure}, ${fl.label}: ratio per round ${fl.rounds}`);
    };
    ratioRow('GET /status (SQLite)', statusPair);
    ratioRow('GET /v1/jobs/{id} (SQLite)', jobPair);
    row('POST /v1/jobs creates (SQLite, WAL, synchronous=NORMAL)', `${fmt(create.rps)} /s`, `>= ${fmt(TARGET.createsPerSecond)} /s`, create.rps >= TARGET.createsPerSecond && create.bad === 0);
  } finally {
    for (const { server: f } of floors) await f.stop();
    await baseline?.stop();
    await server.stop();
  }
}

// ---------------------------------------------------------------- waiters

interface Worker {
  child: ChildProcess;
  next: <T extends WorkerReport['type']>(type: T) => Promise<Extract<WorkerReport, { type: T }>>;
}

function startWorker(): Worker {
  const child = spawn('bash', ['-c', 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"', 'bash', process.execPath, '--import', 'tsx', 'bench/waiter-worker.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  // Reports are taken by type: a worker's `opened` and `done` may cross when its deadline cuts the opening short.
  const inbox: WorkerReport[] = [];
  const waiting: { type: WorkerReport['type']; take: (m: WorkerReport) => void; fail: (e: Error) => void }[] = [];
  child.on('message', (m: WorkerReport) => {
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0]!.take(m);
    else inbox.push(m);
  });
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.fail(new Error(`waiter worker exited (${code}) before sending ${w.type}`));
  });
  const next = <T extends WorkerReport['type']>(type: T): Promise<Extract<WorkerReport, { type: T }>> =>
    new Promise((done, fail) => {
      const take = (m: WorkerReport): void => done(m as Extract<WorkerReport, { type: T }>);
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) take(inbox.splice(i, 1)[0]!);
      else waiting.push({ type, take, fail });
    });
  return { child, next };
}

/** Spreads `count` waiters evenly over the workers and over `targets`; resolves once every worker has opened its share. */
async function openWaiters(workers: Worker[], kind: 'long-poll' | 'sse', port: number, targets: WaitTarget[], count: number, deadline: number): Promise<Extract<WorkerReport, { type: 'opened' }>[]> {
  const perWorker = Math.ceil(count / workers.length);
  workers.forEach((w, i) => {
    const cmd: WorkerCommand = {
      type: 'open',
      kind,
      host: '127.0.0.1',
      port,
      targets,
      count: Math.max(0, Math.min(perWorker, count - i * perWorker)),
      offset: i * perWorker,
      localAddresses: LOCAL_ADDRESSES,
      waitSeconds: 60,
      deadline,
    };
    w.child.send(cmd);
  });
  return Promise.all(workers.map((w) => w.next('opened')));
}

/** Closes every connection the workers hold. */
async function closeWaiters(workers: Worker[]): Promise<void> {
  for (const w of workers) w.child.send({ type: 'close' } satisfies WorkerCommand);
  await Promise.all(workers.map((w) => w.next('closed')));
}

/** `GET /healthz` round trips, one every {@link PROBE_EVERY_MS} (or at once after a slower one), until `until`. */
async function probeHealth(port: number, until: number): Promise<number[]> {
  const rtts: number[] = [];
  while (Date.now() < until) {
    const started = performance.now();
    await get(port, '/healthz', probeAgent).catch(() => undefined);
    const rtt = performance.now() - started;
    rtts.push(rtt);
    const wait = Math.min(PROBE_EVERY_MS - rtt, until - Date.now());
    if (wait > 0) await sleep(wait);
  }
  return rtts;
}

/** `nodejs_eventloop_lag_p99_seconds` when the server has `/metrics` (each scrape resets prom-client's histogram). */
async function scrapeLoopP99(port: number): Promise<number | undefined> {
  const res = await get(port, '/metrics', probeAgent).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  const match = /^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})?\s+([0-9.eE+-]+)/m.exec(res.body);
  return match ? Number(match[1]) * 1000 : undefined;
}

/** What one waiter run measured. */
interface WaiterRun {
  count: number;
  failed: number;
  openMs: number;
  fdsHeld: number;
  rssBeforeKb: number;
  rssHeldKb: number;
  perWaiterKb: number;
  /** Sorted, ms after dueAt. */
  late: number[];
  errors: number;
  early: number;
  missing: number;
  /** /healthz round trips while held, sorted. */
  rtt: number[];
  heldEnough: boolean;
  metricsP99: number | undefined;
  burstMaxRtt: number;
  serverCpuMs: number;
  workerCpuMs: number[];
}

/**
 * Holds `n` waiters of `kind` on one server and wakes them together: the jobwait server (20 jobs due at the same
 * moment) or the bare baseline (the same, the most direct way node:http allows; see bench/bare-server.ts).
 */
async function runWaiters(kind: 'long-poll' | 'sse', subject: 'jobwait' | 'bare', asked: number, jobJson: string, spreadMs = 0): Promise<WaiterRun & { jobJson: string }> {
  const server = subject === 'jobwait' ? await startJobwait(kind) : await startBaseline(jobJson);
  const workers: Worker[] = [];
  try {
    let sample = jobJson;
    if (subject === 'jobwait') {
      // Warm-up, not measured: a few creates, reads, one long-poll and one stream to a finished job.
      const warm = await createJob(server.port, 0.05);
      sample = warm.json;
      await sleep(100);
      for (let i = 0; i < 200; i++) await get(server.port, `/v1/jobs/${warm.id}`);
      await get(server.port, `/v1/jobs/${warm.id}?wait=1`);
      await get(server.port, `/v1/jobs/${warm.id}/events`);
    } else {
      for (let i = 0; i < 200; i++) await get(server.port, '/v1/jobs/warm-up');
    }

    const limit = fdLimit(server.pid);
    const idleFds = openFds(server.pid);
    // The probe, a /metrics scrape and a margin besides the waiters' sockets.
    const n = Math.min(asked, limit - idleFds - 16);
    if (n < WAITERS_ASKED && subject === 'jobwait') {
      notes.push(
        `${kind}: ${fmt(n)} waiters, not ${fmt(WAITERS_ASKED)}: the server process may hold ${fmt(limit)} descriptors (RLIMIT_NOFILE hard limit here; raising it needs CAP_SYS_RESOURCE, which this container lacks) and uses ${idleFds} before any waiter`,
      );
    }
    const hasMetrics = (await scrapeLoopP99(server.port)) !== undefined;

    const workerCount = Math.max(1, Math.ceil(n / PER_WORKER));
    for (let i = 0; i < workerCount; i++) workers.push(startWorker());
    await sleep(QUICK ? 500 : 1500); // workers load tsx before the clock starts
    // Before the pilot: memory the pilot leaves free is reused by the measured waiters, so this is the conservative baseline.
    const rssBeforeKb = procStatusKb(server.pid, 'VmRSS');

    // Pilot, not measured: a few waiters on a job that is then canceled. Their opening rate sets how long before
    // dueAt the measured waiters start, so a busy (shared) machine still holds them all before the jobs are due.
    const pilot = subject === 'jobwait' ? await createJob(server.port, 600) : { id: `bare-${Date.now() + 600_000}`, dueAt: Date.now() + 600_000, version: 1 };
    const pilotCount = Math.min(n, PILOT_WAITERS);
    const pilotStarted = Date.now();
    await openWaiters(workers, kind, server.port, [{ id: pilot.id, dueAt: pilot.dueAt, finalVersion: pilot.version + 1 }], pilotCount, Date.now() + 60_000);
    const pilotMs = Date.now() - pilotStarted;
    await send(server.port, 'DELETE', `/v1/jobs/${pilot.id}`);
    await Promise.all(workers.map((w) => w.next('done')));
    await closeWaiters(workers);
    const lead = Math.min(MAX_LEAD_MS, Math.max(LEAD_MS, Math.ceil(((n / pilotCount) * pilotMs * 1.5 + MIN_HOLD_MS) / 1000) * 1000));
    if (lead > LEAD_MS) notes.push(`${kind} (${subject}): jobs due ${lead / 1000} s after creation, not ${LEAD_MS / 1000} s, so that all ${fmt(n)} are held first (a pilot opened ${pilotCount} in ${pilotMs} ms)`);

    const dueTarget = Date.now() + lead;
    const targets: WaitTarget[] = [];
    for (let i = 0; i < WAIT_JOBS; i++) {
      // Together: 1 ms apart (distinct bare groups). Spread: one job every spreadMs / (jobs - 1).
      const due = dueTarget + (spreadMs > 0 ? Math.round((i * spreadMs) / (WAIT_JOBS - 1)) : i);
      if (subject === 'bare') {
        targets.push({ id: `bare-${due}`, dueAt: due, finalVersion: 2 });
        continue;
      }
      const job = await createJob(server.port, Math.max(0.001, (due - Date.now()) / 1000));
      targets.push({ id: job.id, dueAt: job.dueAt, finalVersion: job.version + 1 });
    }
    const firstDueAt = Math.min(...targets.map((t) => t.dueAt));
    const dueAt = Math.max(...targets.map((t) => t.dueAt));
    const openStarted = Date.now();
    const opened = await openWaiters(workers, kind, server.port, targets, n, dueAt + ANSWER_BOUND_MS);
    const count = opened.reduce((sum, o) => sum + o.count, 0);
    const failed = opened.reduce((sum, o) => sum + o.failed, 0);
    const openMs = Date.now() - openStarted;
    // Let the server read the last requests before measuring the hold.
    await sleep(1000);
    const holdEnd = firstDueAt - 200;
    const heldEnough = holdEnd - Date.now() >= 1000;
    if (!heldEnough) notes.push(`${kind} (${subject}): opening ${fmt(n)} waiters took ${fmt(openMs)} ms, leaving no hold to measure before dueAt (lead ${lead} ms)`);
    const fdsHeld = openFds(server.pid);
    if (hasMetrics) await scrapeLoopP99(server.port); // resets the histogram: the next scrape covers the hold only
    const rtt = (heldEnough ? await probeHealth(server.port, holdEnd) : []).sort((a, b) => a - b);
    const metricsP99 = hasMetrics && heldEnough ? await scrapeLoopP99(server.port) : undefined;
    const rssHeldKb = procStatusKb(server.pid, 'VmRSS');
    const pids = [server.pid, ...workers.map((w) => w.child.pid ?? -1)];
    const burstProbe = probeHealth(server.port, dueAt + 2_000);
    const cpuAtHoldEnd = pids.map(cpuMs);
    const done = await Promise.all(workers.map((w) => w.next('done')));
    const cpu = pids.map((pid, i) => cpuMs(pid) - cpuAtHoldEnd[i]!);
    const burstMaxRtt = Math.max(...(await burstProbe));
    await closeWaiters(workers);

    const samples = done.flatMap((d) => d.errorSamples).slice(0, 5);
    if (samples.length) notes.push(`${kind} (${subject}) errors (first ${samples.length}): ${samples.join('; ')}`);
    const late = done.flatMap((d) => d.lateMs).sort((a, b) => a - b);
    const run: WaiterRun & { jobJson: string } = {
      count,
      failed,
      openMs,
      fdsHeld,
      rssBeforeKb,
      rssHeldKb,
      perWaiterKb: (rssHeldKb - rssBeforeKb) / Math.max(1, count),
      late,
      errors: done.reduce((sum, d) => sum + d.errors, 0),
      early: done.reduce((sum, d) => sum + d.early, 0),
      missing: done.reduce((sum, d) => sum + d.missing, 0),
      rtt,
      heldEnough,
      metricsP99,
      burstMaxRtt,
      serverCpuMs: cpu[0]!,
      workerCpuMs: cpu.slice(1),
      jobJson: sample,
    };
    const label = kind === 'sse' ? 'SSE streams' : 'long-poll waiters';
    console.log(
      `  ${subject.padEnd(7)} ${fmt(count)} ${label} opened in ${fmt(openMs)} ms (${failed} failed), server fds ${fmt(fdsHeld)}, RSS ${fmt(rssBeforeKb / 1024, 1)} → ${fmt(rssHeldKb / 1024, 1)} MiB (${fmt(run.perWaiterKb, 1)} KB per waiter)`,
    );
    console.log(
      `          answered ${fmt(late.length)}: late p50 ${fmt(percentile(late, 50))} ms, p99 ${fmt(percentile(late, 99))} ms, max ${fmt(late.at(-1) ?? Number.NaN)} ms; ${run.errors} errors, ${run.early} early, ${run.missing} missing; CPU from dueAt−0.2 s to the last answer: server ${fmt(run.serverCpuMs)} ms, waiter processes ${run.workerCpuMs.map((c) => fmt(c)).join(' + ')} ms`,
    );
    console.log(
      `          /healthz RTT while held (${rtt.length} probes): p50 ${fmt(percentile(rtt, 50), 1)} ms, p99 ${fmt(percentile(rtt, 99), 1)} ms, max ${fmt(rtt.at(-1) ?? Number.NaN, 1)} ms; during the wake-up max ${fmt(burstMaxRtt, 1)} ms` +
        (metricsP99 !== undefined ? `; /metrics nodejs_eventloop_lag_p99 ${fmt(metricsP99, 1)} ms` : ''),
    );
    return run;
  } finally {
    for (const w of workers) if (w.child.connected) w.child.disconnect();
    await server.stop();
  }
}

/** Stands for the baseline run that --quick skips. */
const NO_RUN: WaiterRun = {
  count: Number.NaN,
  failed: 0,
  openMs: Number.NaN,
  fdsHeld: Number.NaN,
  rssBeforeKb: Number.NaN,
  rssHeldKb: Number.NaN,
  perWaiterKb: Number.NaN,
  late: [],
  errors: 0,
  early: 0,
  missing: 0,
  rtt: [],
  heldEnough: false,
  metricsP99: undefined,
  burstMaxRtt: Number.NaN,
  serverCpuMs: Number.NaN,
  workerCpuMs: [],
};

async function waiterPhase(kind: 'long-poll' | 'sse'): Promise<void> {
  console.log(`  ${WAIT_JOBS} jobs due together:`);
  const j = await runWaiters(kind, 'jobwait', WAITERS_ASKED, '{}');
  // --quick skips the bare waiters to stay under a minute: its waiter rows have no baseline.
  const b: WaiterRun = QUICK ? NO_RUN : await runWaiters(kind, 'bare', j.count, j.jobJson);
  console.log(`  ${WAIT_JOBS} jobs due one every ${fmt(SPREAD_MS / (WAIT_JOBS - 1))} ms:`);
  const js = await runWaiters(kind, 'jobwait', WAITERS_ASKED, '{}', SPREAD_MS);
  const bs: WaiterRun = QUICK ? NO_RUN : await runWaiters(kind, 'bare', js.count, js.jobJson, SPREAD_MS);
  const tag = kind === 'sse' ? 'SSE' : 'long-poll';
  const hasBase = b !== NO_RUN;
  const base = (text: string): string => (hasBase ? text : '');
  const times = (a: number, z: number): string => (hasBase && Number.isFinite(a / z) ? `${(a / z).toFixed(2)}x` : '');
  const max = (r: WaiterRun): number => r.late.at(-1) ?? Number.NaN;
  const within = (r: WaiterRun): number => r.late.filter((ms) => ms <= TARGET.lateMs).length;
  const lateText = (r: WaiterRun): string => `${fmt(percentile(r.late, 50))} / ${fmt(percentile(r.late, 99))} / ${fmt(max(r))} ms`;
  const cpuPerAnswer = (r: WaiterRun): number => (r.serverCpuMs * 1000) / Math.max(1, r.late.length);
  const allAnswered = j.count > 0 && j.errors === 0 && j.missing === 0 && j.early === 0 && j.failed === 0;
  const loopP99 = percentile(j.rtt, 99);
  // Fewer than asked only when the descriptor limit leaves no room (noted): the server did not refuse any.
  const capped = j.count < WAITERS_ASKED && j.failed === 0;
  row(
    `${tag}: waiters held on one process`,
    fmt(j.count),
    fmt(20_000),
    j.count >= 20_000 && j.failed === 0 ? true : QUICK || capped ? undefined : false,
    base(fmt(b.count)),
    '',
    capped ? 'fd limit' : undefined,
  );
  row(`${tag}: RSS per waiter`, `${fmt(j.perWaiterKb, 1)} KB`, `<= ${TARGET.rssPerWaiterKb} KB`, j.perWaiterKb <= TARGET.rssPerWaiterKb, base(`${fmt(b.perWaiterKb, 1)} KB`), times(j.perWaiterKb, b.perWaiterKb));
  const together = `all ${WAIT_JOBS} jobs due at once`;
  // The target is relative: all at one instant is past what this machine answers in 500 ms even bare.
  row(
    `${tag}: woken after dueAt, p50 / p99 / max (${together})`,
    lateText(j),
    `max <= ${TARGET.wakeRatio}x bare`,
    hasBase ? allAnswered && max(j) / max(b) <= TARGET.wakeRatio : undefined,
    base(lateText(b)),
    times(max(j), max(b)),
  );
  row(`${tag}: woken within ${TARGET.lateMs} ms (${together})`, `${fmt(within(j))} of ${fmt(j.count)}`, '', undefined, base(`${fmt(within(b))} of ${fmt(b.count)}`));
  const spread = `one job due every ${fmt(SPREAD_MS / (WAIT_JOBS - 1))} ms`;
  const spreadAnswered = js.count > 0 && js.errors === 0 && js.missing === 0 && js.early === 0 && js.failed === 0;
  const spreadBase = (text: string): string => (bs !== NO_RUN ? text : '');
  row(`${tag}: woken after dueAt, p50 / p99 / max (${spread})`, lateText(js), `all <= ${TARGET.lateMs} ms`, spreadAnswered && within(js) === js.count, spreadBase(lateText(bs)), bs !== NO_RUN ? times(max(js), max(bs)) : '');
  row(`${tag}: woken within ${TARGET.lateMs} ms (${spread})`, `${fmt(within(js))} of ${fmt(js.count)}`, 'all', spreadAnswered && within(js) === js.count, spreadBase(`${fmt(within(bs))} of ${fmt(bs.count)}`));
  row(`${tag}: server CPU per answer in the wake-up`, `${fmt(cpuPerAnswer(j))} µs`, '', undefined, base(`${fmt(cpuPerAnswer(b))} µs`), times(cpuPerAnswer(j), cpuPerAnswer(b)));
  row(
    `${tag}: event-loop delay p99 while held (/healthz RTT${j.metricsP99 !== undefined ? '; /metrics' : ''})`,
    `${fmt(loopP99, 1)} ms${j.metricsP99 !== undefined ? `; ${fmt(j.metricsP99, 1)} ms` : ''}`,
    `<= ${TARGET.loopP99Ms} ms`,
    j.heldEnough && loopP99 <= TARGET.loopP99Ms && (j.metricsP99 === undefined || j.metricsP99 <= TARGET.loopP99Ms),
    base(`${fmt(percentile(b.rtt, 99), 1)} ms`),
  );
}

const SERVER_TEXT = {
  build: '`packages/server/src` transpiled by esbuild into a temp folder (`bench/server-build.ts`: the JavaScript `tsc` emits for `dist/`, from the current source; not tsx, whose `keepNames` wraps every closure in `__name()` and adds ~1.3 KB per held waiter)',
  source: '`packages/server/src/bin.ts` through `--conditions=jobwait-source --import tsx` (tsx `keepNames` wrappers included)',
  dist: '`packages/server/dist/bin.js` as last built',
} as const;

// ---------------------------------------------------------------- docs


// ---------------------------------------------------------------- main

function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
  serverBuild?.remove();
}

async function main(): Promise<number> {
  const startedAt = Date.now();
  const hard = setTimeout(() => {
    console.error(`bench:server: hard timeout after ${HARD_TIMEOUT_MS / 1000} s, aborting`);
    killChildren();
    process.exit(3);
  }, HARD_TIMEOUT_MS);
  if (CPU_PROF) mkdirSync(PROFILE_DIR, { recursive: true });
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}, ${platform()} ${release()}`;
  const loadBefore = loadavg();
  console.log(`bench:server ${QUICK ? 'quick' : 'default'} mode on ${machine}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);

  if (SERVER_MODE === 'build') serverBuild = await buildServerCopy(SERVER_ROOT, join(ROOT, 'node_modules'));
  if (PHASES.has('throughput')) await throughputPhase();
  if (PHASES.has('long-poll')) {
    console.log(`\n[long-poll] ${fmt(WAITERS_ASKED)} waiters (Prefer: wait=60) on ${WAIT_JOBS} jobs due ${LEAD_MS / 1000} s or more after creation`);
    await waiterPhase('long-poll');
  }
  if (PHASES.has('sse')) {
    console.log(`\n[sse] ${fmt(WAITERS_ASKED)} event streams on ${WAIT_JOBS} jobs due ${LEAD_MS / 1000} s or more after creation`);
    await waiterPhase('sse');
  }
  const loadAfter = loadavg();
  const tookS = (Date.now() - startedAt) / 1000;

  if (CPU_PROF) {
    for (const name of readdirSync(PROFILE_DIR)) {
      // The main thread's profile is the largest; the loader thread's only covers module loading.
      const files = readdirSync(join(PROFILE_DIR, name))
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(PROFILE_DIR, name, f))
        .sort((a, b) => statSync(b).size - statSync(a).size);
      if (files[0]) profiles.push(formatProfile(files[0], 25));
    }
  }

  const table = markdownTable();
  const failed = rows.filter((r) => r.pass === false);
  const load = `load average (1/5/15 min) ${loadBefore.map((l) => l.toFixed(2)).join(' / ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' / ')} after`;
  console.log(`\n${table}\n`);
  for (const note of notes) console.log(`note: ${note}`);
  console.log(`\n${failed.length === 0 ? 'ALL PASS' : `${failed.length} FAIL: ${failed.map((r) => r.measure).join('; ')}`}`);
  console.log(`run took ${tookS.toFixed(0)} s; ${load}`);
  for (const p of profiles) console.log(`\n${p}`);

  if (WRITE_DOCS) {
    writeBenchSection('server', `## Server throughput and held waiters: \`npm run bench:server\`

- Command: \`${COMMAND}\` (\`-- --quick\` for a shorter run with ${fmt(2_000)} waiters)
- Date: ${new Date().toISOString()}
- Machine: ${machine}; ${load}${loadBefore[0]! > cpu.length * 0.5 ? ' (shared machine, busy: figures are noisy)' : ''}
- Run took ${tookS.toFixed(0)} s${PHASES.size < 3 ? `; phases: ${[...PHASES].join(', ')}` : ''}
- Server under test: ${SERVER_TEXT[SERVER_MODE]}${SERVER_ROOT === ROOT ? '' : ` (tree ${SERVER_ROOT})`}, run as
  \`node <bin.js> --rate-limit 0 --data-dir <fresh tmp dir>\` in its own process (a fresh one per phase): **the defaults as \`npm start\` runs them**
  (log level info, JSON lines since stdout is a pipe: a summary line per minute, no line per request) except **rate limit off** (\`--rate-limit 0\`, i.e. \`rateLimit: false\`; the default 100/s per IP would
  cap every figure), no API keys (open mode), SQLite store with **WAL + \`synchronous=NORMAL\`** (a commit survives a process crash; an OS
  crash or power loss may lose the last transactions).
- Baseline: \`bench/bare-server.ts\`, a bare \`node:http\` handler in its own process that serializes and sends a job-shaped JSON
  body of the same size as jobwait's (\`/status\`: the same 20 B body), with the same header lines as jobwait's answer (values
  read from jobwait at the start), so both write the same bytes: the ratio is the cost of what jobwait does besides writing.
- Load: \`wrk\` (its own process, ${wrkSetting.threads} thread(s) × ${wrkSetting.connections} connections: the best of a probe against the baseline, in the notes);
  each server warmed up ${WARM_S} s, then ${ROUNDS} measured round(s) of ${MEASURE_S} s alternating baseline / jobwait; ratio = median of the
  per-round ratios (every round's in the notes), req/s = each side's median round; POST body \`{"duration":3600}\`, no Idempotency-Key.
- Fastify's floor: \`bench/fastify-minimal-server.ts\`, the baseline's two answers (same bodies and header lines) served by a
  minimal Fastify of the version jobwait uses (no plugins, no hooks, logger off), measured in the same rounds: the most a Fastify
  server reaches on this machine before doing anything of its own.
- In-process floor: \`bench/bare-server.ts\` with \`BARE_AFTER_JOBWAIT\`, the baseline's own handler in a process that first
  built and started a jobwait server (the build under test, port 0, rate limit off, default logging) and only then listened:
  the same handler code as the baseline, so its ratio is what the jobwait process costs node:http before any handler runs.
- Waiter baseline: the same waiters held by \`bench/bare-server.ts\` (one timer per due time answers all of them in a loop, no
  framework), so the wake-up and memory figures of this machine have a floor to be read against.
- Waiters: ${WAIT_JOBS} jobs due at the same moment ${LEAD_MS / 1000} s after creation (then, in a second run on a fresh server, the same
  jobs due one every ${fmt(SPREAD_MS / (WAIT_JOBS - 1))} ms from then on), waiters spread evenly over them, opened by
  \`bench/waiter-worker.ts\` processes (\`http.Agent({keepAlive: true, maxSockets: Infinity})\`, source addresses 127.0.0.2–9).
  RSS per waiter = (server VmRSS with all held − VmRSS before) / waiters, from \`/proc/<pid>/status\`. Woken = client-side time the
  final state arrived − the job's \`dueAt\`. Event-loop delay = round trip of \`GET /healthz\` every ${PROBE_EVERY_MS} ms while held
  (an upper bound: includes the network stack and the probe client)${rows.some((r) => r.measure.includes('/metrics')) ? '; also `nodejs_eventloop_lag_p99_seconds` of `/metrics` over the same window' : ''}.

${table}

${notes.map((n) => `- ${n}`).join('\n')}

${failed.length === 0 ? '**All targets pass.**' : `**${failed.length} target(s) missed:** ${failed.map((r) => r.measure).join('; ')}.`}
`);
    console.log(`wrote ${DOCS}`);
  }
  clearTimeout(hard);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    killChildren();
    process.exit(code);
  },
  (error: unknown) => {
    console.error(error);
    killChildren();
    process.exit(2);
  },
);
