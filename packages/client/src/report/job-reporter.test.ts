/**
 * The worker's reporter against a real local HTTP server that answers reports the way the
 * jobwait server does (200 with the job, 409 problem+json with the job when it was canceled).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { HttpError, InvalidOptionError, JobCanceledError, hasErrorCode } from '../errors/errors.js';
import { JobwaitClient } from '../jobs/jobwait-client.js';
import type { Job } from '../jobs/job.js';

interface SeenReport {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

const TOKEN = 'jwr_' + 'A'.repeat(43);
let server: Server;
let baseUrl: string;
let seen: SeenReport[];
/** Each test reports on its own job, so a late request of an earlier test is not counted. */
let jobId = 'job_0';
let jobCount = 0;
/** The job the fake server keeps, changed by the reports as the real one would. */
let job: Job & Record<string, unknown>;
/** What the next answers are, by default the job's progress. */
let answer: (report: SeenReport, res: ServerResponse) => void;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' });
  res.end(JSON.stringify(body));
}

/** Applies a report to {@link job} the way the server does (without its checks). */
function apply(report: SeenReport, res: ServerResponse): void {
  const body = report.body;
  if (body.event === 'completed') Object.assign(job, { status: 'completed', progress: 1, result: body.result, version: job.version + 1 });
  else if (body.event === 'failed') Object.assign(job, { status: 'error', error: body.error, version: job.version + 1 });
  else if (body.event !== 'heartbeat') {
    if (typeof body.progress === 'number') job.progress = body.progress;
    if (typeof body.message === 'string') job.message = body.message;
    job.version += 1;
  }
  json(res, 200, job);
}

function canceled(_report: SeenReport, res: ServerResponse): void {
  job.status = 'canceled';
  json(res, 409, { type: 'about:blank', title: 'Conflict', status: 409, detail: 'the job was canceled', code: 'JOBWAIT_ERR_JOB_CANCELED', job });
}

function events(): string[] {
  return seen.map((r) => String(r.body.event));
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await delay(5);
  assert.ok(condition(), what);
}

function client(): JobwaitClient {
  return new JobwaitClient({ baseUrl, apiKey: 'jw_abcdefghijkl_secretsecretsecretsecretsecretsecretsecre', retry: { baseDelayMs: 1, maxDelayMs: 5, limit: 2 } });
}

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const report: SeenReport = { path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> };
      if (report.path !== `/v1/jobs/${jobId}/reports`) return json(res, 404, { code: 'JOBWAIT_ERR_JOB_NOT_FOUND' });
      seen.push(report);
      answer(report, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen = [];
  answer = apply;
  jobId = `job_${++jobCount}`;
  job = { id: jobId, status: 'pending', progress: 0, createdAt: '2026-12-02T00:00:00.000Z', updatedAt: '2026-12-02T00:00:00.000Z', version: 1 } as unknown as Job & Record<string, unknown>;
});

describe('JobReporter', () => {
  it('reports with the job\'s token as its credential, never the API key', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 60_000 });
    const answered = await reporter.started({ message: 'fetching the video' });
    reporter.close();
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.path, `/v1/jobs/${jobId}/reports`);
    assert.equal(seen[0]!.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(seen[0]!.body.event, 'started');
    assert.equal(seen[0]!.body.message, 'fetching the video');
    assert.ok(!Number.isNaN(Date.parse(String(seen[0]!.body.at))), 'each report says when it was made');
    assert.equal(answered.version, 2);
    assert.equal(reporter.job?.version, 2);
  });

  it('merges a burst of progress calls into one report carrying the latest values', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 60_000 });
    const calls: Promise<void>[] = [];
    for (let i = 1; i <= 50; i++) calls.push(reporter.progress(i / 50, i === 10 ? { message: 'half way there' } : {}));
    await Promise.all(calls);
    reporter.close();
    assert.deepEqual(events(), ['progress']);
    assert.equal(seen[0]!.body.progress, 1);
    // A later call without a message does not erase an earlier one's.
    assert.equal(seen[0]!.body.message, 'half way there');
  });

  it('stamps merged progress when it is sent, so heartbeats sent while it waited never make it older than them', async () => {
    // Heartbeats far more often than progress may go: several go out between a progress call and its report.
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 5, progressIntervalMs: 100 });
    await reporter.started();
    for (let step = 1; step <= 3; step++) {
      await until(() => seen.length >= 3 * step, 'heartbeats went out');
      await reporter.progress(step / 10);
    }
    reporter.close();
    const progress = seen.filter((r) => r.body.event === 'progress');
    assert.deepEqual(progress.map((r) => r.body.progress), [0.1, 0.2, 0.3]);
    // The server applies a report only if it is no older than the last one applied (its `at`).
    const times = seen.map((r) => Date.parse(String(r.body.at)));
    times.forEach((at, i) => assert.ok(i === 0 || at >= times[i - 1]!, `report ${i} (${String(seen[i]!.body.event)}) is not older than the one before it`));
    assert.ok(events().indexOf('progress') > events().indexOf('heartbeat'), 'a heartbeat went out before the first progress');
  });

  it('sends progress that comes while a report is in flight after it, the latest winning', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 60_000, progressIntervalMs: 0 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    answer = (report, res) => void gate.then(() => apply(report, res));
    const first = reporter.progress(0.1);
    await until(() => seen.length === 1, 'the first report is in flight');
    const later = [reporter.progress(0.2), reporter.progress(0.3, { etaSeconds: 12 })];
    release();
    await Promise.all([first, ...later]);
    reporter.close();
    assert.deepEqual(seen.map((r) => r.body.progress), [0.1, 0.3]);
    assert.equal(seen[1]!.body.etaSeconds, 12);
  });

  it('heartbeats while the job runs, and stops at complete', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 10 });
    await reporter.started();
    await until(() => events().filter((e) => e === 'heartbeat').length >= 2, 'two heartbeats');
    const done = await reporter.complete({ url: 'https://cdn.example/v.mp4' });
    assert.equal(done.status, 'completed');
    const count = seen.length;
    await delay(80);
    assert.equal(seen.length, count, 'no report after the end');
    assert.deepEqual(seen.at(-1)!.body.result, { url: 'https://cdn.example/v.mp4' });
  });

  it('heartbeats at a third of the job\'s heartbeat timeout when that is under 10 s', async () => {
    answer = (report, res) => {
      job.heartbeatTimeoutSeconds = 0.03;
      apply(report, res);
    };
    const reporter = client().reporter(jobId, TOKEN);
    await reporter.started();
    await until(() => events().includes('heartbeat'), 'a heartbeat well before 10 s');
    reporter.close();
  });

  it('sends no heartbeat before the first report', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 5 });
    await delay(50);
    assert.equal(seen.length, 0);
    reporter.close();
  });

  it('stops when the job was canceled: JobCanceledError with the job, signal aborted, no more reports', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 10 });
    await reporter.started();
    answer = canceled;
    const error = await reporter.progress(0.5).then(
      () => assert.fail('progress should reject'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof JobCanceledError);
    assert.ok(hasErrorCode(error, 'JOBWAIT_ERR_JOB_CANCELED'));
    assert.equal(error.job?.status, 'canceled');
    assert.equal(reporter.signal.aborted, true);
    assert.equal(reporter.signal.reason, error);
    const count = seen.length;
    await assert.rejects(reporter.progress(0.6), JobCanceledError);
    await assert.rejects(reporter.heartbeat(), JobCanceledError);
    await delay(60);
    assert.equal(seen.length, count, 'no request after the stop, heartbeats included');
  });

  it('learns of a cancel from a heartbeat too, without an unhandled rejection', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 10 });
    await reporter.started();
    answer = canceled;
    await until(() => reporter.signal.aborted, 'the heartbeat learns of the cancel');
    assert.ok(reporter.signal.reason instanceof JobCanceledError);
  });

  it('keeps heartbeating after a failed heartbeat, keeping the failure in lastError', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 10 });
    await reporter.started();
    let failures = 0;
    answer = (report, res) => {
      if (failures++ < 3) json(res, 503, { code: 'JOBWAIT_ERR_UNAVAILABLE', detail: 'down' });
      else apply(report, res);
    };
    await until(() => failures > 4, 'heartbeats go on after failures');
    assert.ok(reporter.lastError instanceof HttpError);
    assert.equal(reporter.signal.aborted, false);
    reporter.close();
  });

  it('run(): started, the task with the stop signal, then completed with what it returned', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 60_000 });
    const done = await reporter.run(async (signal) => {
      assert.equal(signal.aborted, false);
      await reporter.progress(0.5, { message: 'translating' });
      return { url: 'https://cdn.example/out.mp4' };
    });
    assert.deepEqual(events(), ['started', 'progress', 'completed']);
    assert.equal(done.status, 'completed');
    assert.deepEqual(seen[2]!.body.result, { url: 'https://cdn.example/out.mp4' });
  });

  it('run(): a task that throws fails the job with its code and message, and rejects with it', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 60_000 });
    const boom = Object.assign(new Error('speech recognition timed out'), { code: 'ASR_TIMEOUT' });
    await assert.rejects(
      reporter.run(async () => {
        throw boom;
      }),
      (e) => e === boom,
    );
    assert.deepEqual(events(), ['started', 'failed']);
    assert.deepEqual(seen[1]!.body.error, { code: 'ASR_TIMEOUT', message: 'speech recognition timed out' });
  });

  it('run(): a cancel aborts the task, and run rejects with JobCanceledError without reporting a failure', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 10 });
    const running = reporter.run(
      (signal) =>
        new Promise((_resolve, reject) => {
          answer = canceled;
          signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
        }),
    );
    await assert.rejects(running, JobCanceledError);
    assert.ok(!events().includes('failed'));
  });

  it('a repeated completion with the same result is fine; a different end is a 409 that aborts the signal', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 60_000 });
    await reporter.complete(42);
    await reporter.complete(42);
    answer = (_report, res) => json(res, 409, { title: 'Conflict', status: 409, detail: 'already finished', code: 'JOBWAIT_ERR_JOB_FINISHED', job });
    const error = await reporter.fail('nope').then(
      () => assert.fail('should reject'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 409);
    assert.equal(error.serverCode, 'JOBWAIT_ERR_JOB_FINISHED');
    assert.equal(reporter.signal.aborted, true);
  });

  it('drops unsent progress at complete, resolving its callers', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 60_000, progressIntervalMs: 60_000 });
    await reporter.progress(0.1);
    const superseded = reporter.progress(0.2);
    await reporter.complete();
    await superseded;
    assert.deepEqual(events(), ['progress', 'completed']);
  });

  it('refuses bad input early', () => {
    const c = client();
    assert.throws(() => c.reporter(jobId, ''), InvalidOptionError);
    assert.throws(() => c.reporter('', TOKEN), InvalidOptionError);
    assert.throws(() => c.reporter(jobId, TOKEN, { heartbeatIntervalMs: 0 }), InvalidOptionError);
    const reporter = c.reporter(jobId, TOKEN);
    assert.throws(() => reporter.progress(1.5), InvalidOptionError);
    assert.throws(() => reporter.progress(Number.NaN), InvalidOptionError);
    assert.throws(() => reporter.progress(0.5, { etaSeconds: 0 }), /omit it when unknown/);
    assert.equal(seen.length, 0);
  });

  it('a reporter that ended refuses more progress', async () => {
    const reporter = client().reporter(jobId, TOKEN, { heartbeatIntervalMs: 60_000 });
    await reporter.complete();
    await assert.rejects(reporter.progress(0.5), InvalidOptionError);
  });
});
