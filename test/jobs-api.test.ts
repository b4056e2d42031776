/**
 * The jobs API (`/v1/jobs`) on the real server, driven through
 * `JobwaitClient` (and raw fetch where headers or exact bodies matter).
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { HttpError, JobwaitClient, type Job, type JobStatus } from '@jobwait/client';
import type { FetchLike } from '@jobwait/client/internal';
import { buildServer, type ServerDeps, type ServerOptions } from '@jobwait/server';

const MAX_DURATION = 100;

interface Running {
  url: string;
  client: JobwaitClient;
  /** Every request the client sent, in order. */
  sent: { method: string; url: string }[];
}

/** A fresh in-memory server on a free port and a client of it, closed when the test ends. */
async function startServer(t: TestContext, options: ServerOptions = {}, deps: ServerDeps = {}): Promise<Running> {
  const app = await buildServer({ store: 'memory', logLevel: 'silent', maxDurationSeconds: MAX_DURATION, ...options }, deps);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  const sent: Running['sent'] = [];
  const countingFetch: FetchLike = (input, init) => {
    sent.push({ method: init.method ?? 'GET', url: input });
    return fetch(input, init);
  };
  return { url, client: new JobwaitClient({ baseUrl: url, fetch: countingFetch }), sent };
}

/** Every job of the server, page after page, newest first. */
async function allJobs(client: JobwaitClient, status?: JobStatus, limit = 100): Promise<Job[]> {
  const jobs: Job[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listJobs({ limit, cursor, status });
    jobs.push(...page.jobs);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return jobs;
}

/** Asserts `promise` rejects with an `HttpError` of `status` whose problem body has `code`. */
async function rejectsWithProblem(promise: Promise<unknown>, status: number, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof HttpError, `HttpError expected, got ${String(error)}`);
    assert.equal(error.status, status);
    assert.equal(error.serverCode, code);
    assert.equal(error.body?.code, code);
    assert.equal(error.body?.status, status);
    return true;
  });
}

/** Asserts a raw answer is an RFC 9457 problem with `status` and `code`. */
async function assertProblem(response: Response, status: number, code: string, what = ''): Promise<Record<string, unknown>> {
  const text = await response.text();
  assert.equal(response.status, status, `${what}: status (body ${text})`);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json\b/, `${what}: content-type`);
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.equal(body.code, code, `${what}: code`);
  assert.equal(body.status, status, `${what}: status member`);
  assert.equal(typeof body.title, 'string', `${what}: title`);
  assert.equal(typeof body.type, 'string', `${what}: type`);
  assert.ok(typeof body.detail === 'string' && body.detail.length > 0, `${what}: detail`);
  return body;
}

function postJob(url: string, body: BodyInit | undefined, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> {
  return fetch(`${url}/v1/jobs`, { method: 'POST', headers, ...(body === undefined ? {} : { body }) });
}

describe('creating a job', () => {
  test('answers 201 with Location, ETag, Retry-After and a pending job', async (t) => {
    const { url } = await startServer(t);
    const before = Date.now();
    const response = await postJob(url, '{"duration": 5}');
    assert.equal(response.status, 201);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json\b/);
    const job = (await response.json()) as Job;
    assert.match(job.id, /^job_[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.equal(response.headers.get('location'), `/v1/jobs/${job.id}`);
    const etag = response.headers.get('etag') ?? '';
    assert.ok(etag.includes(job.id), `ETag ${etag} names the job`);
    const retryAfter = Number(response.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 5, `Retry-After ${retryAfter} within the job's length`);
    assert.equal(job.status, 'pending');
    assert.equal(job.version, 1);
    assert.equal(job.duration, 5);
    assert.ok(job.progress >= 0 && job.progress < 0.5, `progress ${job.progress} near 0`);
    assert.ok(job.etaMs! > 4000 && job.etaMs! <= 5000, `etaMs ${job.etaMs} near 5000`);
    assert.equal(Date.parse(job.dueAt!) - Date.parse(job.createdAt), 5000);
    assert.ok(Date.parse(job.createdAt) >= before - 5 && Date.parse(job.createdAt) <= Date.now() + 5);
    assert.equal(job.error, undefined);

    const followed = await fetch(`${url}${response.headers.get('location')}`);
    assert.equal(followed.status, 200);
    assert.equal(((await followed.json()) as Job).id, job.id);
  });

  test('through createJob returns the job, and later reads show it advancing', async (t) => {
    const { client } = await startServer(t);
    const created = await client.createJob({ duration: 2, metadata: { video: 'intro.mp4' } });
    assert.equal(created.status, 'pending');
    assert.deepEqual(created.metadata, { video: 'intro.mp4' });
    await delay(300);
    const later = await client.getJob(created.id);
    assert.equal(later.id, created.id);
    assert.equal(later.status, 'pending');
    assert.ok(later.progress > created.progress, `progress grows: ${created.progress} -> ${later.progress}`);
    assert.ok(later.progress <= 1);
    assert.ok(later.etaMs! < created.etaMs!, `etaMs shrinks: ${created.etaMs} -> ${later.etaMs}`);
    assert.deepEqual(later.metadata, { video: 'intro.mp4' });
  });

  test('a finished job reads progress 1, etaMs 0, version 2 and no Retry-After', async (t) => {
    const { url, client } = await startServer(t);
    const job = await client.createJob({ duration: 0.2 });
    const done = await client.waitForJob(job.id, { timeoutMs: 5000 });
    assert.equal(done.status, 'completed');
    assert.equal(done.progress, 1);
    assert.equal(done.etaMs, 0);
    assert.equal(done.version, 2);
    assert.equal(done.error, undefined);
    const response = await fetch(`${url}/v1/jobs/${job.id}`);
    assert.equal(response.headers.get('retry-after'), null);
    assert.ok((response.headers.get('etag') ?? '').includes(`${job.id}.2`));
  });

  test('with outcome "error" ends with status error and an error object', async (t) => {
    const { client } = await startServer(t);
    const job = await client.createJob({ duration: 0.2, outcome: 'error' });
    assert.equal(job.status, 'pending');
    assert.equal(job.error, undefined, 'no error while pending');
    const done = await client.waitForJob(job.id, { timeoutMs: 5000 });
    assert.equal(done.status, 'error');
    assert.ok(done.error, 'an error object');
    assert.equal(typeof done.error.code, 'string');
    assert.ok(done.error.code.length > 0);
    assert.equal(typeof done.error.message, 'string');
    assert.ok(done.error.message.length > 0);
    assert.deepEqual((await client.getJob(job.id)).error, done.error);
  });
});

describe('bad inputs to POST /v1/jobs', () => {
  const json = { 'content-type': 'application/json' };
  const cases: { name: string; body: BodyInit | undefined; headers?: Record<string, string>; status: number; code: string }[] = [
    { name: 'a string duration', body: '{"duration": "10"}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'a boolean duration', body: '{"duration": true}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'a null duration', body: '{"duration": null}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    // Without duration a job is a reported one (test/reports.test.ts); with it, the simulator's options only.
    { name: 'an outcome without duration', body: '{"outcome":"error"}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'a heartbeat timeout on a timer', body: '{"duration":1,"heartbeatTimeoutSeconds":5}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'a zero duration', body: '{"duration": 0}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'a negative duration', body: '{"duration": -1}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'a duration above the maximum', body: `{"duration": ${MAX_DURATION + 1}}`, status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'a duration that parses to Infinity', body: '{"duration": 1e400}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'an extra property', body: '{"duration": 1, "priority": "high"}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'an unknown outcome', body: '{"duration": 1, "outcome": "maybe"}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'an ftp callbackUrl', body: '{"duration": 1, "callbackUrl": "ftp://example.com/hook"}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'a javascript: callbackUrl', body: '{"duration": 1, "callbackUrl": "javascript:alert(1)"}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'a relative callbackUrl', body: '{"duration": 1, "callbackUrl": "/hook"}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'metadata that is not an object', body: '{"duration": 1, "metadata": [1, 2]}', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'a top-level array', body: '[{"duration": 1}]', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'a top-level null', body: 'null', status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'malformed JSON', body: '{"duration": ', status: 400, code: 'JOBWAIT_ERR_MALFORMED_JSON' },
    { name: 'a NaN literal', body: '{"duration": NaN}', status: 400, code: 'JOBWAIT_ERR_MALFORMED_JSON' },
    { name: 'an empty JSON body', body: '', status: 400, code: 'JOBWAIT_ERR_MALFORMED_JSON' },
    { name: 'no body and no content type', body: undefined, headers: {}, status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
    { name: 'a JSON body sent as text/plain', body: '{"duration": 1}', headers: { 'content-type': 'text/plain' }, status: 415, code: 'JOBWAIT_ERR_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'a form body', body: 'duration=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'JOBWAIT_ERR_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'an XML content type', body: '<job duration="1"/>', headers: { 'content-type': 'application/xml' }, status: 415, code: 'JOBWAIT_ERR_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'a JSON body without a content type', body: new TextEncoder().encode('{"duration": 1}'), headers: {}, status: 415, code: 'JOBWAIT_ERR_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'an Idempotency-Key with a space', body: '{"duration": 1}', headers: { ...json, 'idempotency-key': 'a b' }, status: 400, code: 'JOBWAIT_ERR_VALIDATION' },
  ];

  test('each get a 4xx problem+json with a stable code, and create no job', async (t) => {
    const { url, client } = await startServer(t);
    await client.createJob({ duration: 60 });
    const before = (await allJobs(client)).map((j) => j.id);
    assert.equal(before.length, 1);
    for (const { name, body, headers, status, code } of cases) {
      await assertProblem(await postJob(url, body, headers ?? json), status, code, name);
    }
    assert.deepEqual(
      (await allJobs(client)).map((j) => j.id),
      before,
      'the job list is unchanged',
    );
  });

  test('a validation problem names the offending field', async (t) => {
    const { url } = await startServer(t);
    const body = await assertProblem(await postJob(url, '{"duration": "10"}'), 400, 'JOBWAIT_ERR_VALIDATION');
    assert.match(String(body.detail), /duration/);
  });

  test('through createJob reject with HttpError carrying the code, without retrying', async (t) => {
    const { client, sent } = await startServer(t);
    await rejectsWithProblem(client.createJob({ duration: '10' as unknown as number }), 400, 'JOBWAIT_ERR_VALIDATION');
    await rejectsWithProblem(client.createJob({ duration: MAX_DURATION + 1 }), 400, 'JOBWAIT_ERR_VALIDATION');
    await rejectsWithProblem(client.createJob({ duration: 1, callbackUrl: 'file:///etc/passwd' }), 400, 'JOBWAIT_ERR_VALIDATION');
    assert.equal(sent.length, 3, 'one request per call: a 400 is not retried');
    assert.equal((await allJobs(client)).length, 0);
  });
});

describe('reading a job that does not exist', () => {
  const ids = ['job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2', 'nope', 'job_123', `job_${'I'.repeat(26)}`, 'job_01jdq3m8z4x5y6v7w8t9s0r1q2', "job_'; DROP TABLE jobs;--"];
  for (const id of ids) {
    test(`answers 404 JOBWAIT_ERR_JOB_NOT_FOUND for ${JSON.stringify(id)}`, async (t) => {
      const { url, client } = await startServer(t);
      await client.createJob({ duration: 60 });
      await assertProblem(await fetch(`${url}/v1/jobs/${encodeURIComponent(id)}`), 404, 'JOBWAIT_ERR_JOB_NOT_FOUND', id);
      await rejectsWithProblem(client.getJob(id), 404, 'JOBWAIT_ERR_JOB_NOT_FOUND');
      await rejectsWithProblem(client.cancelJob(id), 404, 'JOBWAIT_ERR_JOB_NOT_FOUND');
      await rejectsWithProblem(client.waitForJob(id, { timeoutMs: 2000 }), 404, 'JOBWAIT_ERR_JOB_NOT_FOUND');
    });
  }
});

describe('listing jobs', () => {
  test('pages with a cursor cover every job exactly once, newest first', async (t) => {
    const { client } = await startServer(t);
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await client.createJob({ duration: 60, metadata: { i } })).id);
    const pages: Job[][] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listJobs({ limit: 3, cursor });
      pages.push(page.jobs);
      cursor = page.nextCursor;
      assert.ok(pages.length <= 10, 'pagination ends');
    } while (cursor !== undefined);
    assert.deepEqual(
      pages.map((p) => p.length),
      [3, 3, 1],
    );
    const listed = pages.flat().map((j) => j.id);
    assert.deepEqual(listed, [...created].reverse(), 'every job once, newest first');
    assert.deepEqual(
      pages.flat().map((j) => j.metadata?.i),
      [6, 5, 4, 3, 2, 1, 0],
    );
  });

  test('a page exactly as large as the rest has no nextCursor', async (t) => {
    const { client } = await startServer(t);
    for (let i = 0; i < 4; i++) await client.createJob({ duration: 60 });
    const first = await client.listJobs({ limit: 2 });
    assert.ok(first.nextCursor);
    const second = await client.listJobs({ limit: 2, cursor: first.nextCursor });
    assert.equal(second.jobs.length, 2);
    assert.equal(second.nextCursor, undefined);
  });

  test('filters by status, and a pending job past its due time counts as its outcome', async (t) => {
    // A clock the test moves: jobs fall due on it while the scheduler (real timers) has not settled them.
    let offsetMs = 0;
    const { client } = await startServer(t, {}, { now: () => Date.now() + offsetMs });
    const willComplete = await client.createJob({ duration: 30 });
    const willFail = await client.createJob({ duration: 30, outcome: 'error' });
    const toCancel = await client.createJob({ duration: 30 });
    await client.cancelJob(toCancel.id);
    const stillPending = await client.createJob({ duration: 90 });

    offsetMs = 60_000;
    const ids = async (status: JobStatus): Promise<string[]> => (await allJobs(client, status)).map((j) => j.id);
    assert.deepEqual(await ids('completed'), [willComplete.id]);
    assert.deepEqual(await ids('error'), [willFail.id]);
    assert.deepEqual(await ids('canceled'), [toCancel.id]);
    assert.deepEqual(await ids('pending'), [stillPending.id]);
    const read = await client.getJob(willComplete.id);
    assert.equal(read.status, 'completed');
    assert.equal(read.version, 2);
    assert.equal((await allJobs(client)).length, 4);
  });

  test('a status filter pages with a cursor too', async (t) => {
    const { client } = await startServer(t);
    const pending: string[] = [];
    for (let i = 0; i < 5; i++) {
      pending.push((await client.createJob({ duration: 60 })).id);
      await client.cancelJob((await client.createJob({ duration: 60 })).id);
    }
    assert.deepEqual(
      (await allJobs(client, 'pending', 2)).map((j) => j.id),
      [...pending].reverse(),
    );
    assert.equal((await allJobs(client, 'canceled', 2)).length, 5);
  });

  test('rejects a malformed cursor or an unknown status with a validation problem', async (t) => {
    const { url } = await startServer(t);
    await assertProblem(await fetch(`${url}/v1/jobs?cursor=abc`), 400, 'JOBWAIT_ERR_VALIDATION', 'cursor');
    await assertProblem(await fetch(`${url}/v1/jobs?status=done`), 400, 'JOBWAIT_ERR_VALIDATION', 'status');
    await assertProblem(await fetch(`${url}/v1/jobs?limit=0`), 400, 'JOBWAIT_ERR_VALIDATION', 'limit 0');
    await assertProblem(await fetch(`${url}/v1/jobs?limit=101`), 400, 'JOBWAIT_ERR_VALIDATION', 'limit 101');
  });
});

describe('idempotent create', () => {
  test('the same Idempotency-Key and body replay the first job, marked idempotent-replayed', async (t) => {
    const { url, client } = await startServer(t);
    const headers = { 'content-type': 'application/json', 'idempotency-key': 'order-42' };
    const first = await postJob(url, '{"duration": 30, "outcome": "completed"}', headers);
    assert.equal(first.status, 201);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const firstJob = (await first.json()) as Job;
    // Same members in another order: the same request.
    const second = await postJob(url, '{"outcome": "completed", "duration": 30}', headers);
    assert.equal(second.status, 201);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.headers.get('location'), `/v1/jobs/${firstJob.id}`);
    assert.equal(((await second.json()) as Job).id, firstJob.id);
    assert.equal((await allJobs(client)).length, 1, 'no twin');
  });

  test('createJob with the same idempotencyKey returns the same job', async (t) => {
    const { client } = await startServer(t);
    const a = await client.createJob({ duration: 30 }, { idempotencyKey: 'k-1' });
    const b = await client.createJob({ duration: 30 }, { idempotencyKey: 'k-1' });
    const c = await client.createJob({ duration: 30 });
    assert.equal(b.id, a.id);
    assert.notEqual(c.id, a.id, 'without a shared key, a new job');
    assert.equal((await allJobs(client)).length, 2);
  });

  test('the same Idempotency-Key with another body answers 422 JOBWAIT_ERR_IDEMPOTENCY_MISMATCH and creates nothing', async (t) => {
    const { url, client } = await startServer(t);
    const original = await client.createJob({ duration: 30 }, { idempotencyKey: 'k-2' });
    await rejectsWithProblem(client.createJob({ duration: 31 }, { idempotencyKey: 'k-2' }), 422, 'JOBWAIT_ERR_IDEMPOTENCY_MISMATCH');
    await assertProblem(
      await postJob(url, '{"duration": 30, "outcome": "error"}', { 'content-type': 'application/json', 'idempotency-key': 'k-2' }),
      422,
      'JOBWAIT_ERR_IDEMPOTENCY_MISMATCH',
    );
    assert.deepEqual(
      (await allJobs(client)).map((j) => j.id),
      [original.id],
    );
  });
});

describe('canceling a job', () => {
  test('a pending job becomes canceled, and waitForJob then resolves canceled', async (t) => {
    const { client } = await startServer(t);
    const job = await client.createJob({ duration: 30 });
    const canceled = await client.cancelJob(job.id);
    assert.equal(canceled.id, job.id);
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.version, 2);
    assert.equal(canceled.etaMs, 0);
    assert.equal((await client.getJob(job.id)).status, 'canceled');
    const waited = await client.waitForJob(job.id, { timeoutMs: 2000 });
    assert.equal(waited.status, 'canceled');
  });

  test('a wait already in progress resolves canceled when the job is canceled', async (t) => {
    const { client } = await startServer(t);
    const job = await client.createJob({ duration: 30 });
    const waiting = client.waitForJob(job.id, { timeoutMs: 10_000 });
    await delay(200);
    const canceledAt = Date.now();
    await client.cancelJob(job.id);
    const waited = await waiting;
    assert.equal(waited.status, 'canceled');
    assert.ok(Date.now() - canceledAt < 5000, 'the waiter learned of it without waiting out the job');
  });

  test('canceling again returns the canceled job unchanged', async (t) => {
    const { client } = await startServer(t);
    const job = await client.createJob({ duration: 30 });
    const first = await client.cancelJob(job.id);
    const again = await client.cancelJob(job.id);
    assert.equal(again.status, 'canceled');
    assert.equal(again.version, first.version);
    assert.equal(again.updatedAt, first.updatedAt);
  });

  test('a completed job answers 409 JOBWAIT_ERR_JOB_FINISHED and stays completed', async (t) => {
    const { url, client } = await startServer(t);
    const job = await client.createJob({ duration: 0.2 });
    assert.equal((await client.waitForJob(job.id, { timeoutMs: 5000 })).status, 'completed');
    await rejectsWithProblem(client.cancelJob(job.id), 409, 'JOBWAIT_ERR_JOB_FINISHED');
    const problem = await assertProblem(await fetch(`${url}/v1/jobs/${job.id}`, { method: 'DELETE' }), 409, 'JOBWAIT_ERR_JOB_FINISHED');
    assert.equal(problem.jobStatus, 'completed', 'the problem says how the job ended');
    const read = await client.getJob(job.id);
    assert.equal(read.status, 'completed');
    assert.equal(read.version, 2);
  });

  test('a failed job answers 409 JOBWAIT_ERR_JOB_FINISHED too', async (t) => {
    const { client } = await startServer(t);
    const job = await client.createJob({ duration: 0.2, outcome: 'error' });
    assert.equal((await client.waitForJob(job.id, { timeoutMs: 5000 })).status, 'error');
    await rejectsWithProblem(client.cancelJob(job.id), 409, 'JOBWAIT_ERR_JOB_FINISHED');
  });
});

describe('the error rate option', () => {
  /** Outcomes of `count` jobs without an explicit outcome on a fresh server with these options. */
  async function outcomes(t: TestContext, options: ServerOptions, count: number): Promise<string[]> {
    const { client } = await startServer(t, options);
    const jobs: Job[] = [];
    for (let i = 0; i < count; i++) jobs.push(await client.createJob({ duration: 0.1 }));
    const done = await Promise.all(jobs.map((job) => client.waitForJob(job.id, { timeoutMs: 5000 })));
    return done.map((job) => job.status);
  }

  test('with a seed, fails some jobs, and the same seed gives the same sequence of outcomes', async (t) => {
    const first = await outcomes(t, { errorRate: 0.5, seed: 42 }, 20);
    const second = await outcomes(t, { errorRate: 0.5, seed: 42 }, 20);
    assert.ok(first.includes('error'), `some jobs fail: ${first.join(',')}`);
    assert.ok(first.includes('completed'), `some jobs complete: ${first.join(',')}`);
    assert.ok(first.every((s) => s === 'error' || s === 'completed'));
    assert.deepEqual(second, first);
    const otherSeed = await outcomes(t, { errorRate: 0.5, seed: 7 }, 20);
    assert.notDeepEqual(otherSeed, first, 'another seed, another sequence');
  });

  test('an explicit outcome wins over the error rate', async (t) => {
    const { client } = await startServer(t, { errorRate: 1, seed: 1 });
    const forced = await client.createJob({ duration: 0.1, outcome: 'completed' });
    const drawn = await client.createJob({ duration: 0.1 });
    assert.equal((await client.waitForJob(forced.id, { timeoutMs: 5000 })).status, 'completed');
    assert.equal((await client.waitForJob(drawn.id, { timeoutMs: 5000 })).status, 'error');
  });
});
