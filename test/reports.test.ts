/**
 * Reported jobs on the real server: created without `duration`, ended by a worker's reports with
 * the job's token; every bad report is a clear 4xx that changes nothing; silent workers stall;
 * the token shows nowhere but in the create's answer; 0.1.0's client and data file still work.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { HttpError, JobCanceledError, JobwaitClient, type Job } from '@jobwait/client';
import type { FetchLike } from '@jobwait/client/internal';
import { buildServer, type ServerDeps, type ServerOptions } from '@jobwait/server';

interface Running {
  url: string;
  client: JobwaitClient;
  close: () => Promise<void>;
}

async function startServer(t: TestContext | undefined, options: ServerOptions = {}, deps: ServerDeps = {}): Promise<Running> {
  const app = await buildServer({ store: 'memory', logLevel: 'silent', rateLimit: 0, ...options }, deps);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await app.close();
  };
  t?.after(close);
  return { url, client: new JobwaitClient({ baseUrl: url, retry: { limit: 2, baseDelayMs: 1, maxDelayMs: 5 } }), close };
}

/** One raw report. */
async function report(url: string, id: string, token: string | undefined, body: unknown, raw = false): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${url}/v1/jobs/${id}/reports`, { method: 'POST', headers, body: raw ? (body as string) : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function getJob(url: string, id: string): Promise<Job> {
  return (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as Job;
}

describe('reported jobs', () => {
  test('a create without duration answers 201 with a report token, no ETA, and Retry-After for an unknown end', async (t) => {
    const { url } = await startServer(t);
    const response = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ heartbeatTimeoutSeconds: 30 }) });
    assert.equal(response.status, 201);
    const job = (await response.json()) as Job & { reportToken?: string };
    assert.match(job.reportToken ?? '', /^jwr_[A-Za-z0-9_-]{43}$/);
    assert.equal(job.status, 'pending');
    assert.equal(job.progress, 0);
    for (const absent of ['etaMs', 'dueAt', 'duration', 'startedAt']) assert.ok(!(absent in job), `${absent} is absent`);
    assert.equal(job.heartbeatTimeoutSeconds, 30);
    assert.equal(job.timeoutSeconds, 86_400);
    assert.equal(response.headers.get('retry-after'), '1');
    const read = await fetch(`${url}/v1/jobs/${job.id}`);
    assert.equal(read.headers.get('retry-after'), '1');
    assert.ok(!('reportToken' in ((await read.json()) as object)), 'a read never shows the token');
  });

  test('a create replayed by its Idempotency-Key hands back the same, working token', async (t) => {
    const { url } = await startServer(t);
    const create = async (): Promise<Job & { reportToken: string }> =>
      (await (await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' }, body: '{}' })).json()) as Job & {
        reportToken: string;
      };
    const first = await create();
    const again = await create();
    assert.equal(again.id, first.id);
    assert.equal(again.reportToken, first.reportToken);
    assert.equal((await report(url, first.id, again.reportToken, { event: 'started' })).status, 200);
  });

  test('a timer has no report token, and a report on it is a 409', async (t) => {
    const { url, client } = await startServer(t);
    const timer = await client.createJob({ duration: 60 });
    assert.equal(timer.reportToken, undefined);
    const other = await client.createJob({});
    const out = await report(url, timer.id, other.reportToken, { event: 'completed' });
    assert.equal(out.status, 403, "another job's token is refused before anything else");
  });

  test('the worker loop: started, progress with a message, completed with a result; the waiter gets the result', async (t) => {
    const { client } = await startServer(t);
    const job = await client.createJob({ heartbeatTimeoutSeconds: 30 });
    const waiting = client.waitForJob(job.id, { timeoutMs: 30_000 });
    const updates: Job[] = [];
    const watching = client.waitForJob(job.id, { timeoutMs: 30_000, onUpdate: (j) => updates.push(j) });
    const reporter = client.reporter(job.id, job.reportToken!, { progressIntervalMs: 0 });
    const started = await reporter.started({ message: 'downloading' });
    assert.ok(started.startedAt);
    assert.equal(started.message, 'downloading');
    await reporter.progress(0.5, { message: 'translating', etaSeconds: 60 });
    const mid = await client.getJob(job.id);
    assert.equal(mid.progress, 0.5);
    assert.equal(mid.message, 'translating');
    assert.ok(mid.etaMs! > 0 && mid.etaMs! <= 60_000);
    const done = await reporter.complete({ url: 'https://cdn.example/video-fr.mp4' });
    assert.equal(done.status, 'completed');
    const final = await waiting;
    assert.equal(final.status, 'completed');
    assert.deepEqual(final.result, { url: 'https://cdn.example/video-fr.mp4' });
    assert.equal(final.progress, 1);
    await watching;
    assert.ok(updates.some((u) => u.message === 'translating'), 'onUpdate saw the progress');
  });

  test('a bare heartbeat is no new version; a repeated completion with the same result is a 200', async (t) => {
    const { url, client } = await startServer(t);
    const job = await client.createJob({});
    const token = job.reportToken!;
    const started = await report(url, job.id, token, { event: 'started' });
    assert.equal(started.status, 200);
    const beat = await report(url, job.id, token, { event: 'heartbeat' });
    assert.equal(beat.status, 200);
    assert.equal(beat.body.version, started.body.version);
    const done = await report(url, job.id, token, { event: 'completed', result: { a: 1, b: [1, 2] } });
    assert.equal(done.status, 200);
    const again = await report(url, job.id, token, { event: 'completed', result: { b: [1, 2], a: 1 } });
    assert.equal(again.status, 200);
    assert.equal(again.body.version, done.body.version);
  });

  test('every bad report gets a clear 4xx and changes nothing', async (t) => {
    const { url, client } = await startServer(t, { maxResultBytes: 1000 });
    const job = await client.createJob({});
    const other = await client.createJob({});
    const token = job.reportToken!;
    await report(url, job.id, token, { event: 'progress', progress: 0.2 });
    const before = await getJob(url, job.id);
    const cases: [what: string, token: string | undefined, body: unknown, status: number, code: string, raw?: boolean][] = [
      ['no token', undefined, { event: 'progress', progress: 0.9 }, 401, 'JOBWAIT_ERR_UNAUTHORIZED'],
      ["another job's token", other.reportToken, { event: 'progress', progress: 0.9 }, 403, 'JOBWAIT_ERR_REPORT_TOKEN'],
      ['a malformed token', 'jwr_nope', { event: 'progress', progress: 0.9 }, 403, 'JOBWAIT_ERR_REPORT_TOKEN'],
      ['an API-key-shaped bearer', `jw_abcdefghijkl_${'x'.repeat(43)}`, { event: 'progress', progress: 0.9 }, 403, 'JOBWAIT_ERR_REPORT_TOKEN'],
      ['malformed JSON', token, '{"event":', 400, 'JOBWAIT_ERR_MALFORMED_JSON', true],
      ['an unknown event', token, { event: 'done' }, 400, 'JOBWAIT_ERR_VALIDATION'],
      ['progress of the wrong type', token, { event: 'progress', progress: '0.9' }, 400, 'JOBWAIT_ERR_VALIDATION'],
      ['progress out of range', token, { event: 'progress', progress: 1.5 }, 400, 'JOBWAIT_ERR_VALIDATION'],
      ['an ETA of 0', token, { event: 'progress', etaSeconds: 0 }, 400, 'JOBWAIT_ERR_VALIDATION'],
      ['an unknown member', token, { event: 'progress', progress: 0.9, extra: 1 }, 400, 'JOBWAIT_ERR_VALIDATION'],
      ['a result with progress', token, { event: 'progress', result: 1 }, 400, 'JOBWAIT_ERR_VALIDATION'],
      ['a message too long', token, { event: 'progress', message: 'x'.repeat(1001) }, 400, 'JOBWAIT_ERR_VALIDATION'],
      ['a result over the limit', token, { event: 'completed', result: 'x'.repeat(1000) }, 413, 'JOBWAIT_ERR_RESULT_TOO_LARGE'],
      ['a body over the route limit', token, { event: 'completed', result: 'x'.repeat(40_000) }, 413, 'JOBWAIT_ERR_BODY_TOO_LARGE'],
    ];
    for (const [what, caseToken, body, status, code, raw] of cases) {
      const out = await report(url, job.id, caseToken, body, raw);
      assert.equal(out.status, status, what);
      assert.equal(out.body.code, code, what);
      assert.ok(!('job' in out.body) || out.status === 409, `${what}: no job in the problem`);
    }
    assert.deepEqual(await getJob(url, job.id), { ...before, ...(before.etaMs === undefined ? {} : { etaMs: (await getJob(url, job.id)).etaMs }) });
    // A wrong token on a job that does not exist is the same 403: nothing tells which jobs exist.
    const unknown = await report(url, 'job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2', token, { event: 'started' });
    assert.equal(unknown.status, 403);
  });

  test('after the end: a different final report is a 409 with the job; to a canceled job, 409 JOB_CANCELED with the job', async (t) => {
    const { url, client } = await startServer(t);
    const job = await client.createJob({});
    await report(url, job.id, job.reportToken, { event: 'completed', result: 1 });
    for (const body of [{ event: 'completed', result: 2 }, { event: 'failed' }, { event: 'progress', progress: 0.5 }]) {
      const out = await report(url, job.id, job.reportToken, body);
      assert.equal(out.status, 409);
      assert.equal(out.body.code, 'JOBWAIT_ERR_JOB_FINISHED');
      assert.equal((out.body.job as Job).status, 'completed');
      assert.equal((out.body.job as Job).result, 1);
    }
    const canceled = await client.createJob({});
    await client.cancelJob(canceled.id);
    const out = await report(url, canceled.id, canceled.reportToken, { event: 'progress', progress: 0.5 });
    assert.equal(out.status, 409);
    assert.equal(out.body.code, 'JOBWAIT_ERR_JOB_CANCELED');
    assert.equal((out.body.job as Job).status, 'canceled');
    await assert.rejects(client.reporter(canceled.id, canceled.reportToken!).heartbeat(), JobCanceledError);
  });

  test('a started job whose worker goes silent fails as JOBWAIT_ERR_JOB_STALLED, and its waiters wake', async (t) => {
    const { client } = await startServer(t);
    const job = await client.createJob({ heartbeatTimeoutSeconds: 0.3 });
    const worker = client.reporter(job.id, job.reportToken!);
    await worker.started();
    // The worker dies: its reporter sends no more heartbeats.
    worker.close();
    const stalled = await client.waitForJob(job.id, { timeoutMs: 20_000 });
    assert.equal(stalled.status, 'error');
    assert.equal(stalled.error?.code, 'JOBWAIT_ERR_JOB_STALLED');
  });

  test('a job no worker picks up fails as JOBWAIT_ERR_JOB_EXPIRED at its timeout', async (t) => {
    const { client } = await startServer(t);
    const job = await client.createJob({ timeoutSeconds: 0.3, heartbeatTimeoutSeconds: 60 });
    const expired = await client.waitForJob(job.id, { timeoutMs: 20_000, strategy: 'sse' });
    assert.equal(expired.error?.code, 'JOBWAIT_ERR_JOB_EXPIRED');
  });

  test('the token appears in no read, list, stream or log line', async (t) => {
    const lines: string[] = [];
    const { url, client } = await startServer(t, { logLevel: 'debug' }, { logStream: { write: (line: string) => lines.push(line) } });
    const job = await client.createJob({});
    const token = job.reportToken!;
    const events = await fetch(`${url}/v1/jobs/${job.id}/events`);
    const reader = events.body!.getReader();
    await report(url, job.id, token, { event: 'progress', progress: 0.5, message: 'half' });
    await report(url, job.id, token, { event: 'completed', result: 'done' });
    let streamed = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      streamed += new TextDecoder().decode(value);
    }
    const reads = [await (await fetch(`${url}/v1/jobs/${job.id}`)).text(), await (await fetch(`${url}/v1/jobs`)).text(), streamed];
    assert.ok(streamed.includes('"result":"done"'), 'the stream carried the end');
    for (const text of reads) assert.ok(!text.includes(token) && !text.includes('reportToken'), 'no token in reads, lists, streams');
    assert.ok(lines.length > 0);
    assert.ok(!lines.some((line) => line.includes(token)), 'no token in the logs');
  });

  test('0.1.0\'s client waits on a reported job without a busy loop, and gets its end', async (t) => {
    const { url, client } = await startServer(t);
    // The bundle has no types: a path in a variable keeps the compiler from looking for them.
    const fixture = './fixtures/release-0.1.0/client.mjs';
    const old = (await import(fixture)) as { JobwaitClient: new (o: { baseUrl: string; fetch?: FetchLike }) => { waitForJob: (id: string, o?: object) => Promise<Job> } };
    const job = await client.createJob({});
    let requests = 0;
    const counting: FetchLike = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const oldClient = new old.JobwaitClient({ baseUrl: url, fetch: counting });
    const polling = oldClient.waitForJob(job.id, { strategy: 'poll', timeoutMs: 30_000 });
    await delay(1500);
    // It sleeps as Retry-After says (at least a second): a busy loop would have sent hundreds.
    assert.ok(requests <= 4, `${requests} requests while pending`);
    await client.reporter(job.id, job.reportToken!).complete({ ok: true });
    const done = await polling;
    assert.equal(done.status, 'completed');
    assert.deepEqual((done as Job & { result?: unknown }).result, { ok: true });
  });
});

describe('reported jobs across a restart, and a 0.1.0 data file', () => {
  test('a restart keeps a reported job\'s state, and its worker can go on', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jobwait-reports-'));
    try {
      let server = await startServer(undefined, { store: 'sqlite', dataDir });
      const job = await server.client.createJob({ heartbeatTimeoutSeconds: 60 });
      await server.client.reporter(job.id, job.reportToken!, { progressIntervalMs: 0 }).progress(0.4, { message: 'step 2' });
      await server.close();
      server = await startServer(undefined, { store: 'sqlite', dataDir });
      const kept = await server.client.getJob(job.id);
      assert.equal(kept.status, 'pending');
      assert.equal(kept.progress, 0.4);
      assert.equal(kept.message, 'step 2');
      assert.ok(kept.startedAt);
      const done = await server.client.reporter(job.id, job.reportToken!).complete('ok');
      assert.equal(done.result, 'ok');
      await server.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('the restart rule on SQLite: after the server was down past a stall deadline, a running job gets one heartbeat interval from the return', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jobwait-grace-'));
    try {
      let server = await startServer(undefined, { store: 'sqlite', dataDir });
      // 6 s: the report after the return must come within one interval, on a busy machine too.
      const live = await server.client.createJob({ heartbeatTimeoutSeconds: 6 });
      const silent = await server.client.createJob({ heartbeatTimeoutSeconds: 6 });
      for (const job of [live, silent]) await server.client.reporter(job.id, job.reportToken!, { progressIntervalMs: 0 }).progress(0.3);
      await server.close();
      // Down past both jobs' stall deadlines.
      await delay(6500);
      server = await startServer(undefined, { store: 'sqlite', dataDir });
      try {
        const back = await report(server.url, live.id, live.reportToken, { event: 'progress', progress: 0.6 });
        assert.equal(back.status, 200, JSON.stringify(back.body));
        assert.equal(back.body.status, 'pending');
        const stalled = await server.client.waitForJob(silent.id, { timeoutMs: 30_000 });
        assert.equal(stalled.error?.code, 'JOBWAIT_ERR_JOB_STALLED');
        assert.ok(Date.parse(stalled.updatedAt) > Date.parse(String(back.body.updatedAt)), 'it stalled one interval after the return, not at its deadline while the server was down');
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a data file of release 0.1.0 opens in place with its jobs, and takes reported jobs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jobwait-0.1.0-'));
    try {
      copyFileSync(new URL('./fixtures/release-0.1.0/jobwait.db', import.meta.url), join(dataDir, 'jobwait.db'));
      const server = await startServer(undefined, { store: 'sqlite', dataDir });
      const page = await server.client.listJobs({ limit: 100 });
      assert.equal(page.jobs.length, 6);
      const statuses = page.jobs.map((j) => j.status).sort();
      assert.deepEqual(statuses, ['canceled', 'completed', 'completed', 'completed', 'completed', 'error']);
      const failed = page.jobs.find((j) => j.status === 'error')!;
      assert.deepEqual(failed.error, { code: 'JOB_FAILED', message: 'the simulated job failed' });
      for (const j of page.jobs) assert.equal(typeof j.duration, 'number', 'timers keep their duration');
      const status = (await (await fetch(`${server.url}/status`)).json()) as { result: string };
      assert.equal(status.result, 'completed');
      const job = await server.client.createJob({});
      assert.equal((await server.client.reporter(job.id, job.reportToken!).complete(1)).status, 'completed');
      await server.close();
      // Opened again: the migration ran once; nothing is copied twice.
      const again = await startServer(undefined, { store: 'sqlite', dataDir });
      assert.equal((await again.client.listJobs({ limit: 100 })).jobs.length, 7);
      await again.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** Keeps the import of HttpError meaningful for readers: client errors surface as typed errors. */
void HttpError;
