/**
 * Issue 5: a hostile fuzzer against a running server. fast-check generates
 * batches of random and malformed requests (methods, paths, percent-encoding,
 * ids, query strings, headers, bodies, HTTP framing) and sends them over real
 * sockets: node:http with a keep-alive agent, or raw bytes on their own
 * connection where node:http would refuse to send them. For every answer: no
 * 5xx, a content type, every 4xx a machine-readable error (problem+json with
 * `code` and `detail`; the seed's `{"error": ...}` on the seed routes), no
 * stack trace or internal path. Around every batch: the jobs, their states
 * and the current timer changed only through requests answered 2xx.
 *
 * Runs once open and once with API keys (so the 401 paths are fuzzed, and a
 * second key's jobs prove untouched). `FUZZ_REQUESTS` (per run) and
 * `FUZZ_SEED` scale or replay a run (the seed of a failure is printed; the
 * requests replay exactly, the job ids they aim at are new); `FUZZ_DEBUG=1`
 * prints each batch's timing.
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { generateApiKey, type JobView } from '@jobwait/server';
import { fuzzRequest, renderRequest, type FuzzContext, type RenderedRequest } from './helpers/fuzz-requests.js';
import { sendHttp, sendRaw, type WireAnswer, type WireResult } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

const REQUESTS_PER_RUN = Number(process.env.FUZZ_REQUESTS ?? 5000);
const BATCH = 1000;
const CONCURRENCY = 128;
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** A valid long-poll holds at most this long: the servers run with `maxWaitSeconds: 1`, so `wait=1e9` is capped, not awaited. */
const MAX_WAIT_SECONDS = 1;
/** Event streams stay open by design; read this long, then hang up. */
const STREAM_MS = 100;
/** Ten times the longest valid hold, for slow shared CI machines: an answer this late is a hang. */
const ANSWER_TIMEOUT_MS = 10_000;
/** Without a dashboard build, `/` (and `/assets/*`) answer 503 "not built" by design (issue 6); with one, no 503 at all. */
const DASHBOARD_BUILT = existsSync(new URL('../packages/dashboard/dist/index.html', import.meta.url));
const DASHBOARD_PATH = /^(?:https?:\/\/[^/]*)?(?:\*|\/(?:assets\/[^?#]*)?\/?)(?:[?#].*)?$/;

/** Counts over all runs. */
const totals = {
  requests: 0,
  byStatus: new Map<string, number>(),
  byWire: new Map<string, number>(),
  /** 400s Node writes itself, with no body, to an HTTP/1.1 request without Host (RFC 9112 §3.2): allowed, and reported. */
  nodeLevel: 0,
  /** Answers without x-request-id: refused before Fastify's routing (HTTP parser, bad URL). */
  belowRouting: 0,
};
/** The slowest exchanges, to keep the run's wall time explained. */
const slowest: { ms: number; what: string }[] = [];
function noteSlow(ms: number, r: RenderedRequest, result: WireResult): void {
  if (ms < 1200) return;
  slowest.push({ ms, what: `${ms} ms ${JSON.stringify(result.timing ?? {})} ${r.wire} ${r.method} ${r.target.slice(0, 80)} framing=${r.source.framing} mutation=${r.source.mutation} → ${result.end} ${result.answers.map((a) => a.status).join(',')}` });
  slowest.sort((a, b) => b.ms - a.ms).splice(5);
}
const bump = (map: Map<string, number>, key: string): void => void map.set(key, (map.get(key) ?? 0) + 1);

// ---------------------------------------------------------------- state

interface Snapshot {
  at: number;
  jobs: Map<string, JobView>;
  /** Id of the seed API's current timer. */
  timer: string | undefined;
  /** `GET /status` as the seed's clients see it. */
  status: string;
}

/** One tenant the fuzzer watches. */
interface Watched {
  label: string;
  tenant: string;
  headers: Record<string, string>;
}

async function snapshot(server: TestServer, who: Watched): Promise<Snapshot> {
  const jobs = new Map<string, JobView>();
  let cursor: string | undefined;
  do {
    const res = await fetch(`${server.url}/v1/jobs?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { headers: who.headers });
    assert.equal(res.status, 200, `listing ${who.label}'s jobs`);
    const page = (await res.json()) as { jobs: JobView[]; nextCursor?: string };
    for (const job of page.jobs) jobs.set(job.id, job);
    cursor = page.nextCursor;
  } while (cursor);
  const status = await fetch(`${server.url}/status`, { headers: who.headers });
  const timer = await server.app.jobs.currentTimer(who.tenant);
  return { at: Date.now(), jobs, timer: timer?.id, status: `${status.status} ${await status.text()}` };
}

/** What the 2xx answers of a batch allow to have changed. */
interface Effects {
  /** Ids named by 2xx answers (a create answers with its job). */
  reported: Set<string>;
  /** Ids canceled by a 2xx DELETE. */
  canceled: Set<string>;
  /** 2xx answers of POST /start-timer. */
  timersStarted: number;
}

function effectsOf(exchanges: { r: RenderedRequest; result: WireResult }[]): Effects {
  const effects: Effects = { reported: new Set(), canceled: new Set(), timersStarted: 0 };
  for (const { r, result } of exchanges) {
    for (const a of result.answers) {
      if (a.status < 200 || a.status >= 300 || !/json/.test(a.headers['content-type'] ?? '')) continue;
      let body: { id?: unknown; status?: unknown; message?: unknown; jobs?: unknown };
      try {
        body = JSON.parse(a.body.toString('utf8')) as typeof body;
      } catch {
        continue;
      }
      if (typeof body.id === 'string') {
        effects.reported.add(body.id);
        if (r.method === 'DELETE' && body.status === 'canceled') effects.canceled.add(body.id);
      }
      if (typeof body.message === 'string' && body.message.startsWith('Timer started')) effects.timersStarted++;
      // A batch create (POST /v1/batches) answers the jobs it made in `jobs`.
      if (Array.isArray(body.jobs)) for (const job of body.jobs as { id?: unknown }[]) if (typeof job?.id === 'string') effects.reported.add(job.id);
    }
  }
  return effects;
}

/** Deep equality that survives any nesting a server might let through (isDeepStrictEqual recurses in JS). */
function sameJson(a: unknown, b: unknown): boolean {
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

/** Differences between two snapshots that no 2xx answer of the batch explains. */
function unexplainedChanges(label: string, before: Snapshot, after: Snapshot, effects: Effects, mayCreate: boolean): string[] {
  const problems: string[] = [];
  for (const [id, was] of before.jobs) {
    const now = after.jobs.get(id);
    if (!now) {
      problems.push(`${label}: job ${id} disappeared`);
      continue;
    }
    for (const field of ['createdAt', 'dueAt', 'duration', 'callbackUrl', 'notifyEmail'] as const) {
      if (was[field] !== now[field]) problems.push(`${label}: job ${id} ${field} changed ${String(was[field])} → ${String(now[field])}`);
    }
    if (!sameJson(was.metadata, now.metadata)) problems.push(`${label}: job ${id} metadata changed (or nests too deep to compare)`);
    if (was.status !== now.status) {
      const settled = was.status === 'pending' && (now.status === 'completed' || now.status === 'error') && Date.parse(now.dueAt!) <= after.at;
      const canceled = was.status === 'pending' && now.status === 'canceled' && effects.canceled.has(id);
      if (!settled && !canceled) problems.push(`${label}: job ${id} went ${was.status} → ${now.status} with no 2xx request that could do it`);
    } else if (was.version !== now.version) {
      problems.push(`${label}: job ${id} version ${was.version} → ${now.version} with status unchanged (${now.status})`);
    }
  }
  const fresh = [...after.jobs.keys()].filter((id) => !before.jobs.has(id));
  const unreported = fresh.filter((id) => !effects.reported.has(id));
  const allowedUnreported = mayCreate ? effects.timersStarted : 0;
  if (!mayCreate && fresh.length > 0) problems.push(`${label}: ${fresh.length} jobs appeared for a key no request used: ${fresh.slice(0, 3).join(', ')}`);
  else if (unreported.length > allowedUnreported) {
    problems.push(`${label}: ${unreported.length} new jobs, but only ${allowedUnreported} came from 2xx timer starts and none was in a 2xx answer: ${unreported.slice(0, 3).join(', ')}`);
  }
  if (before.timer !== after.timer) {
    if (!mayCreate || effects.timersStarted === 0) problems.push(`${label}: the current timer changed (${before.timer} → ${after.timer}) with no 2xx POST /start-timer`);
    else if (after.timer === undefined || before.jobs.has(after.timer)) problems.push(`${label}: the current timer moved to an old job ${after.timer}`);
  } else if (before.status !== after.status && !(before.status.includes('pending') && /"(completed|error)"/.test(after.status))) {
    problems.push(`${label}: GET /status went from ${before.status} to ${after.status} with the same timer`);
  }
  return problems;
}

// ---------------------------------------------------------------- answers

const LEAKS: [string, RegExp][] = [
  ['a stack frame', /(?:\n|\\n)\s*at \S[^\n]*?:\d+:\d+/],
  ['an internal path', new RegExp([/\/work\//.source, /node_modules/.source, escapeRegExp(process.cwd()), escapeRegExp(tmpdir())].join('|'))],
  ['an internal error', /\b(?:TypeError|RangeError|ReferenceError|Maximum call stack|Cannot read propert\w+|SQLITE_[A-Z]+|FST_ERR_[A-Z_]+|ERR_[A-Z_]{4,})\b/],
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const SEED_PATH = /^(?:https?:\/\/[^/]*)?\/(?:start-timer|status)\/?(?:[?#].*)?$/;

function describeRequest(r: RenderedRequest): string {
  const s = r.source;
  const shown = (text: string) => JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…(${text.length} chars)` : text);
  return [
    `${r.wire} ${shown(r.method)} ${shown(r.target)} framing=${s.framing} mutation=${s.mutation}`,
    `  headers: ${shown(JSON.stringify(s.headers))}`,
    `  body: ${r.body === undefined ? '(none)' : shown(r.body.toString('latin1'))}`,
  ].join('\n');
}

function describeAnswer(a: WireAnswer): string {
  const body = a.body.toString('utf8');
  return `${a.status} ${a.headers['content-type'] ?? '(no content-type)'} ${JSON.stringify(body.length > 300 ? `${body.slice(0, 300)}…` : body)}`;
}

/** What is wrong with a 4xx body, if anything. */
function errorBodyProblem(r: RenderedRequest, a: WireAnswer): string | undefined {
  const type = a.headers['content-type'] ?? '';
  let body: unknown;
  try {
    body = JSON.parse(a.body.toString('utf8'));
  } catch {
    return `a ${a.status} whose body is not JSON`;
  }
  const fields = (body ?? {}) as Record<string, unknown>;
  if (/^application\/problem\+json/i.test(type)) {
    if (typeof fields.code !== 'string' || !/^JOBWAIT_ERR_[A-Z_]+$/.test(fields.code)) return 'a problem without a JOBWAIT_ERR_ code';
    if (typeof fields.detail !== 'string' || fields.detail.trim() === '') return 'a problem without a detail';
    if (fields.status !== a.status) return `a problem whose status ${String(fields.status)} is not the HTTP status ${a.status}`;
    if (typeof fields.title !== 'string' || typeof fields.type !== 'string') return 'a problem without title or type';
    return undefined;
  }
  if (/^application\/json/i.test(type) && SEED_PATH.test(r.target)) {
    if (typeof fields.error === 'string' && fields.error !== '' && Object.keys(fields).length === 1) return undefined;
    return 'a seed-route error that is not {"error": "<message>"}';
  }
  return `a ${a.status} answered as ${type || 'no content type'} rather than problem+json`;
}

/** Checks one exchange and counts it; returns what is wrong. */
function checkExchange(r: RenderedRequest, result: WireResult): string[] {
  const problems: string[] = [];
  totals.requests++;
  bump(totals.byWire, r.wire);
  const fail = (what: string, a?: WireAnswer) => problems.push(`${what}\n${describeRequest(r)}${a ? `\n  answer: ${describeAnswer(a)}` : ''}`);

  if (result.end !== 'answered') {
    if (result.end === 'silent' && r.mayGoUnanswered) bump(totals.byStatus, 'no answer: server awaits the declared body');
    // Node destroys the socket of a CONNECT it has no handler for: a client still writing a body sees a reset.
    else if ((result.end === 'closed' || (result.end === 'error' && /ECONNRESET|EPIPE/.test(result.error ?? ''))) && r.method === 'CONNECT') bump(totals.byStatus, 'no answer: Node drops CONNECT');
    else fail(`no answer (${result.end}${result.error ? `: ${result.error}` : ''})`);
  }
  const lacksHost = r.source.mutation === 'no-host';
  for (const a of result.answers) {
    if (a.status === -1) {
      // A HEAD whose body outruns its Content-Length leaves bytes the server reads as a second,
      // invalid request; its 400 follows a body-less HEAD answer and cannot be framed from the
      // HEAD's side of the exchange. Every other unframeable answer is a failure.
      if (!(r.method === 'HEAD' && r.source.framing === 'length-long' && result.answers.indexOf(a) > 0)) {
        fail(`an answer that is not HTTP (${a.headers['x-garbage'] ?? ''})`, a);
      }
      continue;
    }
    if (a.status < 200) continue;
    bump(totals.byStatus, String(a.status));
    if (a.headers['x-request-id'] === undefined) totals.belowRouting++;
    if (a.status === 503 && !DASHBOARD_BUILT && DASHBOARD_PATH.test(r.target) && /JOBWAIT_ERR_UNAVAILABLE/.test(a.body.toString('utf8'))) bump(totals.byStatus, '503 (dashboard not built)');
    else if (a.status >= 500) fail(`a ${a.status}`, a);
    const everything = `${Object.values(a.headers).join('\n')}\n${a.body.toString('utf8')}\n${a.body.toString('latin1')}`;
    for (const [what, pattern] of LEAKS) {
      const match = pattern.exec(everything);
      if (match && !r.echo().includes(match[0])) fail(`${what} in the answer: ${JSON.stringify(match[0])}`, a);
    }
    const type = a.headers['content-type'];
    if (type === undefined && a.body.length === 0 && a.status === 400 && lacksHost) {
      totals.nodeLevel++;
      continue;
    }
    // Only answers with a body need a type: 204, 304 and a bodiless redirect (/docs → /docs/) have none.
    if (type === undefined && a.status !== 204 && a.status !== 304 && !(a.status >= 300 && a.status < 400 && a.body.length === 0)) fail('an answer without a content type', a);
    if (a.status === 401 && !/^Bearer /.test(a.headers['www-authenticate'] ?? '')) fail('a 401 without WWW-Authenticate: Bearer', a);
    if (r.head || a.streamCut) continue;
    if (a.status >= 400) {
      const problem = errorBodyProblem(r, a);
      if (problem) fail(problem, a);
    } else if (/json/.test(type ?? '') && a.body.length > 0) {
      try {
        JSON.parse(a.body.toString('utf8'));
      } catch {
        fail('a 2xx JSON answer that does not parse', a);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------- runs

async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

async function createJob(server: TestServer, headers: Record<string, string>, body: object): Promise<string> {
  const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 201);
  return ((await res.json()) as JobView).id;
}

/** Jobs in every state, and a running seed timer, for the fuzzer to aim at. */
async function seedJobs(server: TestServer, headers: Record<string, string>): Promise<string[]> {
  const ids = [
    await createJob(server, headers, { duration: 86_400 }),
    await createJob(server, headers, { duration: 86_400, metadata: { keep: 'me' } }),
    await createJob(server, headers, { duration: 3600 }),
    await createJob(server, headers, { duration: 0.001 }),
    await createJob(server, headers, { duration: 0.001, outcome: 'error' }),
  ];
  const canceled = await createJob(server, headers, { duration: 86_400 });
  assert.equal((await fetch(`${server.url}/v1/jobs/${canceled}`, { method: 'DELETE', headers })).status, 200);
  const timer = await fetch(`${server.url}/start-timer`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"duration": 86400}' });
  assert.equal(timer.status, 200);
  return [...ids, canceled];
}

interface RunOptions {
  server: TestServer;
  ctx: FuzzContext;
  /** The tenant the fuzzer's valid requests act for. */
  actor: Watched;
  /** A tenant no fuzzed request may touch. */
  bystander?: Watched;
  knownIds: string[];
}

/**
 * Requests whose silence is the rule (a body shorter than its Content-Length, CONNECT) are given up
 * on after 400 ms. One whose generated headers merely declare a framing may still be a valid create
 * answered late on a busy machine: it gets the full wait, or its job would look unexplained.
 */
const shortWait = (r: RenderedRequest): boolean => r.mayGoUnanswered && (r.method === 'CONNECT' || r.source.framing === 'length-short');

async function fuzzRun(run: RunOptions, diagnostic: (message: string) => void): Promise<void> {
  const { server, ctx, actor, bystander } = run;
  const port = Number(new URL(server.url).port);
  const host = `127.0.0.1:${port}`;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const ids = [...run.knownIds];
  const pinned = ids.length;
  const sentBefore = totals.requests;
  const started = Date.now();
  const send = (r: RenderedRequest): Promise<WireResult> =>
    r.wire === 'http'
      ? sendHttp(agent, port, { method: r.method, path: r.target, headers: r.headers, body: r.body, chunked: r.chunked }, { head: r.head, timeoutMs: ANSWER_TIMEOUT_MS, streamMs: STREAM_MS })
      : sendRaw(port, r.bytes, { head: r.head, timeoutMs: shortWait(r) ? 400 : ANSWER_TIMEOUT_MS, streamMs: STREAM_MS, expectMore: r.pipelined });
  try {
    // fc.check, not fc.assert: a counterexample is a whole batch, too long to print; the problems name their requests.
    const details = await fc.check(
      fc.asyncProperty(fc.array(fuzzRequest(ctx), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const batchStart = Date.now();
        const before = await snapshot(server, actor);
        const bystanderBefore = bystander ? await snapshot(server, bystander) : undefined;
        const exchanges = await mapPool(batch, CONCURRENCY, async (request) => {
          const r = renderRequest(request, ids, host);
          const t0 = Date.now();
          const result = await send(r);
          noteSlow(Date.now() - t0, r, result);
          return { r, result };
        });
        const sentAt = Date.now();
        const after = await snapshot(server, actor);
        if (process.env.FUZZ_DEBUG) {
          const ends = exchanges.reduce<Record<string, number>>((m, e) => ((m[e.result.end] = (m[e.result.end] ?? 0) + 1), m), {});
          diagnostic(`batch of ${batch.length}: sent in ${sentAt - batchStart} ms, snapshot in ${Date.now() - sentAt} ms, ${JSON.stringify(ends)}`);
        }
        const problems = exchanges.flatMap(({ r, result }) => checkExchange(r, result));
        problems.push(...unexplainedChanges(actor.label, before, after, effectsOf(exchanges), true));
        if (bystander && bystanderBefore) problems.push(...unexplainedChanges(bystander.label, bystanderBefore, await snapshot(server, bystander), effectsOf([]), false));
        // Aim later batches at the newest jobs too.
        const newest = [...after.jobs.keys()].sort().reverse().slice(0, 30);
        ids.splice(pinned, ids.length - pinned, ...newest);
        if (problems.length > 0) throw new Error(`${problems.length} problem(s) in a batch of ${batch.length}:\n${problems.slice(0, 8).join('\n')}`);
      }),
      { numRuns: Math.ceil(REQUESTS_PER_RUN / BATCH), endOnFailure: true, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    if (details.failed) {
      const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      assert.fail(`fuzz run failed (reproduce with FUZZ_SEED=${details.seed}, after ${details.numRuns} batches)\n${error}`);
    }
  } finally {
    agent.destroy();
  }
  diagnostic(`${totals.requests - sentBefore} requests in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function report(diagnostic: (message: string) => void): void {
  const statuses = [...totals.byStatus].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}: ${n}`);
  diagnostic(`requests sent: ${totals.requests} (${[...totals.byWire].map(([w, n]) => `${w} ${n}`).join(', ')})`);
  diagnostic(`answers by status: ${statuses.join(', ')}`);
  for (const s of slowest) diagnostic(`slow: ${s.what}`);
  diagnostic(`bare 400 from Node for a missing Host: ${totals.nodeLevel}; refused before routing (no x-request-id; Node's parser or an undecodable URL): ${totals.belowRouting}`);
}

describe('fuzzing a running server with hostile requests (fast-check)', () => {
  describe('open (no API keys)', () => {
    let server: TestServer;
    let knownIds: string[];
    before(async () => {
      server = await startTestServer({ store: 'memory', rateLimit: 0, maxWaitSeconds: MAX_WAIT_SECONDS });
      knownIds = await seedJobs(server, {});
    });
    after(() => server.close());

    it('answers every request without a 5xx, with a clear error for every 4xx, and changes nothing it refused', async (t) => {
      await fuzzRun({ server, ctx: { apiKey: undefined, foreignIds: [] }, actor: { label: 'open tenant', tenant: 'public', headers: {} }, knownIds }, (m) => t.diagnostic(m));
    });
  });

  describe('with API keys', () => {
    const alice = generateApiKey();
    const bob = generateApiKey();
    let server: TestServer;
    let knownIds: string[];
    let bobIds: string[];
    before(async () => {
      server = await startTestServer({ store: 'sqlite', rateLimit: 0, maxWaitSeconds: MAX_WAIT_SECONDS, apiKeys: [alice.key, bob.key] });
      knownIds = await seedJobs(server, { authorization: `Bearer ${alice.key}` });
      bobIds = await seedJobs(server, { authorization: `Bearer ${bob.key}` });
    });
    after(() => server.close());

    it("answers bad or missing keys with 401, never touches another key's jobs, and holds every property of the open run", async (t) => {
      await fuzzRun(
        {
          server,
          ctx: { apiKey: alice.key, foreignIds: bobIds },
          actor: { label: 'alice', tenant: alice.id, headers: { authorization: `Bearer ${alice.key}` } },
          bystander: { label: 'bob (never used by the fuzzer)', tenant: bob.id, headers: { authorization: `Bearer ${bob.key}` } },
          knownIds,
        },
        (m) => t.diagnostic(m),
      );
    });
  });

  it('sent at least 10,000 requests across both runs', (t) => {
    report((m) => t.diagnostic(m));
    assert.ok(totals.requests >= 10_000, `only ${totals.requests} requests`);
    assert.ok((totals.byStatus.get('401') ?? 0) > 0, 'the keyed run fuzzed the 401 paths');
  });
});

describe('regressions the fuzzer found', () => {
  let server: TestServer;
  let port: number;
  before(async () => {
    server = await startTestServer({ store: 'memory', rateLimit: 0, maxWaitSeconds: MAX_WAIT_SECONDS });
    port = Number(new URL(server.url).port);
  });
  after(() => server.close());

  const raw = (text: string, options: Partial<Parameters<typeof sendRaw>[2]> = {}) =>
    sendRaw(port, Buffer.from(text, 'latin1'), { head: false, timeoutMs: 3000, streamMs: STREAM_MS, ...options });
  const jobCount = async (): Promise<number> => ((await (await fetch(`${server.url}/v1/jobs?limit=100`)).json()) as { jobs: unknown[] }).jobs.length;
  const createPending = async (): Promise<string> => createJob(server, {}, { duration: 3600 });
  const problemOf = (a: WireAnswer | undefined): Record<string, unknown> => {
    assert.ok(a, 'an answer');
    assert.match(a.headers['content-type'] ?? '', /^application\/problem\+json/);
    const body = JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;
    assert.equal(body.status, a.status);
    assert.match(String(body.code), /^JOBWAIT_ERR_/);
    assert.doesNotMatch(a.body.toString('utf8'), /FST_ERR|Client Error/);
    return body;
  };

  it('answers metadata nested 30,000 levels deep with a 400, not a 500 (JSON.stringify overflowed the stack), and creates nothing', async () => {
    const before = await jobCount();
    const res = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"duration":1,"metadata":{"deep":${'['.repeat(30_000)}${']'.repeat(30_000)}}}`,
    });
    const body = (await res.json()) as { code: string; detail: string };
    assert.equal(res.status, 400);
    assert.equal(body.code, 'JOBWAIT_ERR_VALIDATION');
    assert.match(body.detail, /nest/);
    assert.equal(await jobCount(), before);
  });

  it('answers a URL with bad percent-encoding with a problem, not Fastify\'s own JSON with an internal FST_ERR_BAD_URL code', async () => {
    const res = await fetch(`${server.url}/v1/jobs/%zz`);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const body = (await res.json()) as { code: string; detail: string };
    assert.equal(body.code, 'JOBWAIT_ERR_BAD_REQUEST');
    assert.match(body.detail, /percent-encoding/);
  });

  it('answers a job id longer than the router takes with a 414 problem', async () => {
    const res = await fetch(`${server.url}/v1/jobs/${'a'.repeat(300)}/events`);
    assert.equal(res.status, 414);
    assert.equal(((await res.json()) as { code: string }).code, 'JOBWAIT_ERR_BAD_REQUEST');
  });

  it("answers bytes Node's HTTP parser refuses with a problem (400, or 431 for an oversized head) and closes the connection", async () => {
    const bad = await raw('GET /v1/jobs HTTP/1.1\r\nHost: x\r\nX-Ctl: a\x7fb\r\n\r\n');
    assert.equal(bad.answers[0]?.status, 400);
    assert.match(String(problemOf(bad.answers[0]).detail), /not valid HTTP/);
    const huge = await raw(`GET /v1/jobs HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.equal(huge.answers[0]?.status, 431);
    problemOf(huge.answers[0]);
  });

  it('sends no body with the 400 for a broken HEAD request (the client would read it as the next answer)', async () => {
    const result = await raw('HEAD /v1/jobs HTTP/1.1\r\nHost: x\r\nX-Ctl: a\x7fb\r\n\r\n', { head: true, expectMore: true });
    assert.deepEqual(
      result.answers.map((a) => a.status),
      [400],
      'one answer, and no stray bytes read as a second one',
    );
  });

  it('answers an Expect it cannot meet with a 417 problem rather than an empty answer', async () => {
    const result = await raw('POST /v1/jobs HTTP/1.1\r\nHost: x\r\nExpect: the-impossible\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"duration": 1}');
    assert.equal(result.answers[0]?.status, 417);
    problemOf(result.answers[0]);
  });

  it('answers a pipelined DELETE before refusing the garbage behind it: the client saw a 400 for a job it had canceled', async () => {
    const id = await createPending();
    const result = await raw(`DELETE /v1/jobs/${id} HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01garbage\r\n\r\n`, { expectMore: true });
    assert.deepEqual(
      result.answers.map((a) => a.status),
      [200, 400],
    );
    assert.equal((JSON.parse(result.answers[0]!.body.toString('utf8')) as { status: string }).status, 'canceled');
  });

  it('answers a pipelined create with its 201 before the 400 for what follows, so a retry is never needed to learn the id', async () => {
    const before = await jobCount();
    const body = '{"duration": 3600}';
    const result = await raw(`POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}GARBAGE /\x00 HTTP/1.1\r\n\r\n`, { expectMore: true });
    assert.deepEqual(
      result.answers.map((a) => a.status),
      [201, 400],
    );
    assert.equal(await jobCount(), before + 1);
  });

  it('answers a chunked body that breaks half-way with a 400 at once and creates nothing', async () => {
    const before = await jobCount();
    const body = '{"duration":1}';
    for (const path of ['/v1/jobs', '/start-timer']) {
      const result = await raw(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\nzz\r\n0\r\n\r\n`);
      assert.equal(result.answers[0]?.status, 400, path);
      problemOf(result.answers[0]);
    }
    assert.equal(await jobCount(), before);
  });

  it('answers HEAD on an event stream with its headers at once instead of never (Node drops writes to a HEAD answer)', async () => {
    const id = await createPending();
    for (const path of ['/v1/events', `/v1/jobs/${id}/events`]) {
      const started = Date.now();
      const result = await raw(`HEAD ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, { head: true, timeoutMs: 2000 });
      assert.equal(result.end, 'answered', path);
      assert.equal(result.answers[0]?.status, 200, path);
      assert.match(result.answers[0]?.headers['content-type'] ?? '', /text\/event-stream/, path);
      assert.ok(Date.now() - started < 1000, `${path} answered at once`);
    }
  });

  it('names the forbidden key when a body has "__proto__", instead of calling valid JSON invalid', async () => {
    const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"duration":1,"__proto__":{"x":1}}' });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { detail: string }).detail, /__proto__/);
  });

  it('does not spend an Idempotency-Key on a rejected create', async () => {
    const key = `fuzz-${Date.now()}`;
    const headers = { 'content-type': 'application/json', 'idempotency-key': key };
    for (const body of ['{"duration": -1}', '{"duration": 1e9}', `{"duration":1,"metadata":{"d":${'['.repeat(40)}${']'.repeat(40)}}}`]) {
      const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers, body });
      assert.equal(res.status, 400, body.slice(0, 40));
    }
    const created = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers, body: '{"duration": 3600}' });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('idempotent-replayed'), null);
  });
});
