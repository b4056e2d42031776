/**
 * `npm run bench:latency [-- --full] [-- --seed N]`: detection delay and status requests of
 * seven waiters side by side, against one in-process jobwait server (issue 3).
 *
 * Every waiter type gets its own copy of each job (same duration, created together), so
 * requests are counted per job and per waiter. Detection delay = when the waiter returns
 * the final state − the job's `dueAt` (same machine, same clock).
 *
 * Quick mode (default): 14 seeded jobs of 1..27 s, bounded at about 41 s of waiting. The
 * longest job is 27 s, not 30 s, because the seed schedule looks at 0, 4, 12, 28, 60 s:
 * a 30 s job would keep the run open for 60 s. The AWS SDK waiter (random jitter) can still
 * be unfinished at the bound; such jobs are reported censored, with their delay as a lower
 * bound (">=").
 * Full mode (`--full`): 16 seeded jobs of 1..300 s (61 and 300 s included), about 9 minutes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobwaitClient, poll, type Job } from '@jobwait/client';
import { SEED_SCHEDULE, isTerminal, nextPollDelay, sleep, type FetchLike } from '@jobwait/client/internal';
import { buildServer } from '@jobwait/server';
import { WaiterState, createWaiter } from '@smithy/util-waiter';
import { writeBenchSection } from './bench-report.js';

// ---------------------------------------------------------------- options

const args = process.argv.slice(2);
const FULL = args.includes('--full');
const seedArg = args.indexOf('--seed');
const SEED = seedArg >= 0 ? Number(args[seedArg + 1]) : 20240603;
const WRITE_DOCS = !args.includes('--no-docs');
if (!Number.isInteger(SEED)) throw new Error('--seed needs an integer');

const MODE = FULL ? 'full' : 'quick';
/** Waits still open this long after the first job was created are aborted and reported censored. */
const WAIT_BOUND_MS = FULL ? 520_000 : 41_000;
/** Everything (server start, warm-up, creates, waits, report) ends by this, whatever happens. */
const HARD_TIMEOUT_MS = WAIT_BOUND_MS + 15_000;
/** Pause between creating one duration's copies and the next's, so 98 creates and first looks do not all land at once. */
const RAMP_MS = 50;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = join(ROOT, 'docs', 'benchmarks.md');
const EXTRA = [...(FULL ? ['--full'] : []), ...(seedArg >= 0 ? ['--seed', String(SEED)] : [])];
const COMMAND = `npm run bench:latency${EXTRA.length ? ` -- ${EXTRA.join(' ')}` : ''}`;

// ---------------------------------------------------------------- jobs

/** mulberry32: a small seeded PRNG, so every run waits on the same jobs. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Job durations in seconds (0.1 s steps): fixed anchors plus seeded draws, sorted. */
function durations(): number[] {
  const random = mulberry32(SEED);
  const [anchors, count, max] = FULL ? [[1, 10, 30, 61, 120, 300], 16, 300] : [[1, 10, 27], 14, 27];
  const out = [...anchors];
  while (out.length < count) {
    // Uniform in log space: short jobs are as common as long ones relative to their length.
    const seconds = Math.round(Math.exp(random() * Math.log(max)) * 10) / 10;
    if (seconds >= 1 && !out.includes(seconds)) out.push(seconds);
  }
  return out.sort((a, b) => a - b);
}

// ---------------------------------------------------------------- waiters

const WAITERS = ['seed', 'smithy', 'fixed-1s', 'jobwait-nohint', 'jobwait-hinted', 'jobwait-long-poll', 'jobwait-sse'] as const;
type WaiterName = (typeof WAITERS)[number];

const LABEL: Record<WaiterName, string> = {
  seed: 'seed schedule (4 s, doubling)',
  smithy: '@smithy/util-waiter 2..120 s',
  'fixed-1s': 'fixed 1 s polling',
  'jobwait-nohint': 'jobwait poll(), no hints',
  'jobwait-hinted': 'jobwait hinted (etaMs)',
  'jobwait-long-poll': 'jobwait long-poll',
  'jobwait-sse': 'jobwait SSE',
};

interface Counter {
  requests: number;
}

/** A fetch that counts its GETs (status requests) and dies with the run. */
function countingFetch(counter: Counter, stop: AbortSignal): FetchLike {
  return (input, init) => {
    if (stop.aborted) return Promise.reject(stop.reason);
    if ((init.method ?? 'GET').toUpperCase() === 'GET') counter.requests++;
    return fetch(input, { ...init, signal: init.signal ? AbortSignal.any([init.signal, stop]) : stop });
  };
}

async function getJobJson(fetchImpl: FetchLike, url: string, signal: AbortSignal): Promise<Job> {
  const response = await fetchImpl(url, { method: 'GET', headers: { accept: 'application/json' }, signal });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return (await response.json()) as Job;
}

/** Plain GET, sleep `delayAfter(attempt, elapsed)`, repeat: the seed's loop and fixed-interval polling. */
async function scheduledLoop(fetchImpl: FetchLike, url: string, signal: AbortSignal, delayAfter: (attempt: number, elapsedMs: number) => number): Promise<Job> {
  const startedAt = Date.now();
  for (let attempt = 0; ; attempt++) {
    const job = await getJobJson(fetchImpl, url, signal);
    if (isTerminal(job)) return job;
    await sleep(delayAfter(attempt, Date.now() - startedAt), signal);
  }
}

/** Waits on job `id` the way `waiter` does; resolves with the final job. */
async function runWaiter(waiter: WaiterName, baseUrl: string, id: string, counter: Counter, stop: AbortSignal): Promise<Job> {
  const fetchImpl = countingFetch(counter, stop);
  const url = `${baseUrl}/v1/jobs/${encodeURIComponent(id)}`;
  switch (waiter) {
    case 'seed':
      // The seed's get_timer_status: look, then wait 4 s, doubling after each pending look.
      return scheduledLoop(fetchImpl, url, stop, (attempt, elapsed) => nextPollDelay(attempt, elapsed, SEED_SCHEDULE));
    case 'fixed-1s':
      return scheduledLoop(fetchImpl, url, stop, () => 1000);
    case 'smithy': {
      const result = await createWaiter<Record<string, never>, string>(
        { client: {}, minDelay: 2, maxDelay: 120, maxWaitTime: 3600, abortSignal: stop },
        url,
        async (_client, input) => {
          const job = await getJobJson(fetchImpl, input, stop);
          return isTerminal(job) ? { state: WaiterState.SUCCESS, reason: job } : { state: WaiterState.RETRY };
        },
      );
      if (result.state !== WaiterState.SUCCESS) throw new Error(`smithy waiter ended ${result.state}`);
      return result.reason as Job;
    }
    case 'jobwait-nohint': {
      const client = new JobwaitClient({ baseUrl, fetch: fetchImpl });
      // The generic poll() with the default schedule and no hintMs: plain GETs, no Prefer.
      return poll(({ signal }) => client.getJob(id, { signal }), { isDone: isTerminal, signal: stop });
    }
    case 'jobwait-hinted':
      return new JobwaitClient({ baseUrl, fetch: fetchImpl }).waitForJob(id, { strategy: 'poll', signal: stop });
    case 'jobwait-long-poll':
      return new JobwaitClient({ baseUrl, fetch: fetchImpl }).waitForJob(id, { strategy: 'long-poll', signal: stop });
    case 'jobwait-sse':
      return new JobwaitClient({ baseUrl, fetch: fetchImpl }).waitForJob(id, { strategy: 'sse', signal: stop });
  }
}

// ---------------------------------------------------------------- measuring

interface Result {
  waiter: WaiterName;
  seconds: number;
  id: string;
  dueAt: number;
  requests: number;
  /** seenAt − dueAt; for a censored wait, the bound − dueAt (a lower bound). */
  delayMs: number;
  censored: boolean;
  error?: string;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface Summary {
  waiter: WaiterName;
  n: number;
  censored: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  meanDelay: number;
  meanRequests: number;
  maxRequests: number;
}

function summarize(waiter: WaiterName, results: Result[]): Summary {
  const mine = results.filter((r) => r.waiter === waiter);
  const delays = mine.map((r) => r.delayMs).sort((a, b) => a - b);
  const requests = mine.map((r) => r.requests);
  return {
    waiter,
    n: mine.length,
    censored: mine.filter((r) => r.censored).length,
    errors: mine.filter((r) => r.error !== undefined).length,
    p50: percentile(delays, 50),
    p95: percentile(delays, 95),
    p99: percentile(delays, 99),
    max: delays[delays.length - 1] ?? Number.NaN,
    meanDelay: delays.reduce((a, b) => a + b, 0) / delays.length,
    meanRequests: requests.reduce((a, b) => a + b, 0) / requests.length,
    maxRequests: Math.max(...requests),
  };
}

// ---------------------------------------------------------------- targets

interface Check {
  target: string;
  pass: boolean;
  detail: string;
}

function checkTargets(results: Result[], summaries: Map<WaiterName, Summary>): Check[] {
  const of = (w: WaiterName): Result[] => results.filter((r) => r.waiter === w);
  const s = (w: WaiterName): Summary => summaries.get(w)!;
  const checks: Check[] = [];
  const worst = (rs: Result[], score: (r: Result) => number): Result | undefined => [...rs].sort((a, b) => score(b) - score(a))[0];

  for (const w of ['jobwait-nohint', 'jobwait-hinted', 'jobwait-long-poll', 'jobwait-sse'] as const) {
    const bad = of(w).filter((r) => r.censored || r.error !== undefined);
    checks.push({
      target: `${w}: every job seen (no error, no censoring)`,
      pass: bad.length === 0,
      detail: bad.length === 0 ? `${of(w).length}/${of(w).length} seen` : bad.map((r) => `T=${r.seconds}s: ${r.error ?? 'censored'}`).join('; '),
    });
  }

  for (const w of ['jobwait-long-poll', 'jobwait-sse'] as const) {
    checks.push({ target: `${w}: delay p99 <= 15 ms`, pass: s(w).p99 <= 15, detail: `p99 ${fmtMs(s(w).p99)} ms (max ${fmtMs(s(w).max)} ms, n=${s(w).n})` });
  }
  {
    const over = of('jobwait-long-poll').filter((r) => r.requests > 1 + Math.ceil(r.seconds / 30));
    const w = worst(of('jobwait-long-poll'), (r) => r.requests - (1 + Math.ceil(r.seconds / 30)));
    checks.push({
      target: 'jobwait-long-poll: requests <= 1 + ceil(T / 30 s) for every job',
      pass: over.length === 0,
      detail:
        over.length === 0
          ? `tightest: T=${w?.seconds} s used ${w?.requests} of ${w ? 1 + Math.ceil(w.seconds / 30) : '?'}`
          : over.map((r) => `T=${r.seconds}s: ${r.requests} > ${1 + Math.ceil(r.seconds / 30)}`).join('; '),
    });
  }
  {
    const hs = s('jobwait-hinted');
    checks.push({ target: 'jobwait-hinted: delay p99 <= 50 ms', pass: hs.p99 <= 50, detail: `p99 ${fmtMs(hs.p99)} ms (max ${fmtMs(hs.max)} ms)` });
    const over = of('jobwait-hinted').filter((r) => r.requests > 3);
    checks.push({
      target: 'jobwait-hinted: <= 3 status requests per job (initial GET included)',
      pass: over.length === 0,
      detail: over.length === 0 ? `max ${hs.maxRequests}, mean ${hs.meanRequests.toFixed(2)}` : over.map((r) => `T=${r.seconds}s: ${r.requests}`).join('; '),
    });
  }
  {
    const bound = (r: Result): number => 0.2 * r.seconds * 1000 + 500;
    const late = of('jobwait-nohint').filter((r) => r.delayMs > bound(r));
    const w = worst(of('jobwait-nohint'), (r) => r.delayMs / bound(r));
    checks.push({
      target: 'jobwait-nohint: delay <= 0.2*T + 0.5 s for every job',
      pass: late.length === 0,
      detail:
        late.length === 0
          ? `tightest: T=${w?.seconds} s late ${fmtMs(w?.delayMs ?? NaN)} ms of ${w ? fmtMs(bound(w)) : '?'} allowed`
          : late.map((r) => `T=${r.seconds}s: ${fmtMs(r.delayMs)} > ${fmtMs(bound(r))} ms`).join('; '),
    });
    const fixed = new Map(of('fixed-1s').map((r) => [r.seconds, r]));
    const pairs = of('jobwait-nohint')
      .filter((r) => r.seconds >= 10)
      .sort((a, b) => a.seconds - b.seconds)
      .map((r) => ({ r, f: fixed.get(r.seconds)! }));
    const notFewer = pairs.filter(({ r, f }) => f.censored || f.error !== undefined || r.requests >= f.requests);
    checks.push({
      target: 'jobwait-nohint: fewer requests than fixed 1 s polling for every job with T >= 10 s',
      pass: notFewer.length === 0 && pairs.length > 0,
      detail:
        notFewer.length === 0
          ? pairs.map(({ r, f }) => `${r.seconds}s ${r.requests}<${f.requests}`).join(', ')
          : notFewer.map(({ r, f }) => `T=${r.seconds}s: ${r.requests} vs fixed ${f.requests}`).join('; '),
    });
  }
  return checks;
}

// ---------------------------------------------------------------- report

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return Math.round(ms).toLocaleString('en-US');
}

function ratio(a: number, b: number): string {
  if (!(b > 0) || !Number.isFinite(a)) return '—';
  const r = a / b;
  return r >= 0.01 ? `${r.toFixed(2)}x` : r >= 0.0001 ? `${r.toFixed(4)}x` : `${r.toExponential(1)}x`;
}

function markdownTable(header: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(align.map((a) => (a === 'r' ? '---:' : ':---'))), ...rows.map(line)].join('\n');
}

function summaryTable(summaries: Map<WaiterName, Summary>): string {
  const seed = summaries.get('seed')!;
  const fixed = summaries.get('fixed-1s')!;
  const rows = WAITERS.map((w) => {
    const s = summaries.get(w)!;
    const ge = s.censored > 0 ? '>=' : '';
    const flag = s.censored > 0 ? ` (${s.censored} censored)` : s.errors > 0 ? ` (${s.errors} errors)` : '';
    return [
      `${LABEL[w]}${flag}`,
      fmtMs(s.p50),
      fmtMs(s.p95),
      `${ge}${fmtMs(s.p99)}`,
      `${ge}${fmtMs(s.max)}`,
      `${ge}${fmtMs(s.meanDelay)}`,
      s.meanRequests.toFixed(2),
      String(s.maxRequests),
      `${ratio(s.meanDelay, seed.meanDelay)} / ${ratio(s.meanRequests, seed.meanRequests)}`,
      `${ratio(s.meanDelay, fixed.meanDelay)} / ${ratio(s.meanRequests, fixed.meanRequests)}`,
    ];
  });
  return markdownTable(
    ['waiter', 'delay p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'mean ms', 'req/job mean', 'req/job max', 'vs seed (delay / req)', 'vs fixed 1 s (delay / req)'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

function perJobTable(results: Result[], seconds: number[]): string {
  const short: Record<WaiterName, string> = {
    seed: 'seed',
    smithy: 'smithy',
    'fixed-1s': 'fixed 1 s',
    'jobwait-nohint': 'no hints',
    'jobwait-hinted': 'hinted',
    'jobwait-long-poll': 'long-poll',
    'jobwait-sse': 'SSE',
  };
  const rows = seconds.map((t) => [
    t.toFixed(1),
    ...WAITERS.map((w) => {
      const r = results.find((x) => x.waiter === w && x.seconds === t);
      if (!r) return '—';
      if (r.error !== undefined) return `error (${r.requests})`;
      return `${r.censored ? '>=' : ''}${fmtMs(r.delayMs)} (${r.requests})`;
    }),
  ]);
  return markdownTable(['T s', ...WAITERS.map((w) => `${short[w]} ms (req)`)], rows, ['r', ...WAITERS.map(() => 'r' as const)]);
}

function writeDocs(section: string): void {
  writeBenchSection('latency', section, DOCS);
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const runStartedAt = Date.now();
  const hard = setTimeout(() => {
    console.error(`bench:latency: hard timeout after ${HARD_TIMEOUT_MS} ms, aborting`);
    process.exit(3);
  }, HARD_TIMEOUT_MS);

  const dataDir = mkdtempSync(join(tmpdir(), 'jobwait-bench-latency-'));
  const app = await buildServer({ store: 'sqlite', dataDir, logLevel: 'silent' });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const creator = new JobwaitClient({ baseUrl });
  const seconds = durations();
  console.log(`bench:latency ${MODE} mode, seed ${SEED}: ${seconds.length} jobs x ${WAITERS.length} waiters against ${baseUrl} (sqlite)`);
  console.log(`durations (s): ${seconds.join(', ')}; waits still open after ${WAIT_BOUND_MS / 1000} s are aborted and reported censored`);

  // Warm-up, not measured: every waiter once on a finished job and the jobwait ones on a pending
  // job, so module transforms, JIT and the connection pool are not charged to the first measured jobs.
  const warm = new AbortController();
  setMaxListeners(0, warm.signal);
  const done = await creator.createJob({ duration: 0.05, outcome: 'completed', metadata: { bench: 'warm-up' } });
  await sleep(100);
  await Promise.all(WAITERS.map((w) => runWaiter(w, baseUrl, done.id, { requests: 0 }, warm.signal)));
  await Promise.all(
    (['jobwait-nohint', 'jobwait-hinted', 'jobwait-long-poll', 'jobwait-sse'] as const).map(async (w) => {
      const job = await creator.createJob({ duration: 0.3, outcome: 'completed', metadata: { bench: 'warm-up' } });
      await runWaiter(w, baseUrl, job.id, { requests: 0 }, warm.signal);
    }),
  );
  warm.abort(new Error('warm-up over'));

  const stopper = new AbortController();
  const stop = stopper.signal;
  setMaxListeners(0, stop);
  const loadBefore = loadavg();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const measureStartedAt = Date.now();
  const boundTimer = setTimeout(() => stopper.abort(new Error('bench wait bound reached')), WAIT_BOUND_MS);
  let stoppedAt = Number.POSITIVE_INFINITY;
  stop.addEventListener('abort', () => (stoppedAt = Date.now()), { once: true });

  const results: Result[] = [];
  const wait = async (t: number, waiter: WaiterName, job: Job): Promise<void> => {
    const dueAt = Date.parse(job.dueAt!);
    const counter: Counter = { requests: 0 };
    const result: Result = { waiter, seconds: t, id: job.id, dueAt, requests: 0, delayMs: Number.NaN, censored: false };
    try {
      const final = await runWaiter(waiter, baseUrl, job.id, counter, stop);
      const seenAt = Date.now();
      if (final.status !== 'completed') throw new Error(`ended ${final.status}`);
      result.delayMs = seenAt - dueAt;
    } catch (error) {
      if (stop.aborted) {
        result.censored = true;
        result.delayMs = stoppedAt - dueAt;
      } else {
        result.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        result.delayMs = Date.now() - dueAt;
      }
    }
    result.requests = counter.requests;
    results.push(result);
  };
  // Longest first, so the shortest jobs start when the ramp is over. Each waiter starts the
  // moment its own copy is created; the creating POST is made by an uncounted client.
  const runs: Promise<void>[] = [];
  for (const t of [...seconds].reverse()) {
    const created = WAITERS.map(async (waiter) => {
      const job = await creator.createJob({ duration: t, outcome: 'completed', metadata: { bench: 'latency', waiter } });
      runs.push(wait(t, waiter, job));
    });
    await Promise.all(created);
    await sleep(RAMP_MS);
  }
  await Promise.all(runs);
  clearTimeout(boundTimer);
  stopper.abort(new Error('bench over'));
  loopDelay.disable();
  const loadAfter = loadavg();
  const waitedMs = Date.now() - measureStartedAt;
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
  const loop = `event-loop delay of the bench process (server and clients): p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms; load average ${loadBefore[0]!.toFixed(2)} before, ${loadAfter[0]!.toFixed(2)} after`;

  const summaries = new Map(WAITERS.map((w) => [w, summarize(w, results)] as const));
  const checks = checkTargets(results, summaries);
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}, ${platform()} ${release()}`;
  const date = new Date().toISOString();
  const table = summaryTable(summaries);
  const jobs = perJobTable(results, seconds);
  const verdicts = checks.map((c) => `- **${c.pass ? 'PASS' : 'FAIL'}** ${c.target} — ${c.detail}`).join('\n');

  console.log(`\n${table}\n\nPer job: detection delay in ms (status requests)\n\n${jobs}\n\nTargets (issue 3):\n${verdicts}\n`);
  console.log(`measured phase took ${(waitedMs / 1000).toFixed(1)} s (whole run ${((Date.now() - runStartedAt) / 1000).toFixed(1)} s); ${loop}`);

  if (WRITE_DOCS) {
    writeDocs(`## Detection latency: \`npm run bench:latency\`

- Command: \`${COMMAND}\` (\`--full\` for jobs up to 300 s)
- Date: ${date}
- Machine: ${machine}
- Mode: ${MODE}; ${seconds.length} jobs per waiter, seeded (mulberry32, seed ${SEED}): ${seconds.join(', ')} s; measured phase took ${(waitedMs / 1000).toFixed(1)} s
- Noise: ${loop}
- Setup: one in-process jobwait server (\`buildServer({store: 'sqlite'})\`, 127.0.0.1), every waiter type waits
  on its own copy of each job, all ${seconds.length * WAITERS.length} waits at once (after a short warm-up; copies created longest first,
  one duration every ${RAMP_MS} ms). Delay = when the waiter returns the final
  state − the job's \`dueAt\`. Requests = GETs of the job by that waiter (long-polls and SSE connections count
  one each; the creating POST does not). The seed schedule looks at 0 s, then after 4 s, 8 s, 16 s…; fixed
  polling looks at 0 s and 1 s after each answer; \`@smithy/util-waiter\` \`createWaiter\` (minDelay 2, maxDelay 120)
  uses its own random jitter. Waits still open ${WAIT_BOUND_MS / 1000} s after the first create are aborted: their delay is a lower
  bound (>=).${FULL ? '' : ' The longest quick job is 27 s rather than 30 s because the seed schedule looks at 28 s and then 60 s.'}
  Percentiles are nearest-rank: with ${seconds.length} jobs, p95 and p99 are the worst job. Ratios are mean delay / mean
  requests per job relative to the baseline measured in the same run.

${table}

Per job: detection delay in ms (status requests).

${jobs}

Targets (issue 3):

${verdicts}
`);
    console.log(`wrote ${DOCS}`);
  }
  clearTimeout(hard);
  return checks.every((c) => c.pass) ? 0 : 1;
}

main().then(
  // The AWS SDK waiter's sleeps are not abortable: exit rather than wait for its timers.
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
