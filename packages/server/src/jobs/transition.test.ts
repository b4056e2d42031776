/** The job state machine: every transition, every refusal, and the rules that hold across any sequence of them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  JOB_EXPIRED,
  JOB_STALLED,
  SIMULATED_FAILURE,
  WORKER_FAILURE,
  applyReport,
  cancel,
  deadlineAt,
  deadlineOf,
  effectiveJob,
  etaMsOf,
  isReported,
  nextDeadline,
  retryAfterSeconds,
  settleDue,
  withRestartGrace,
  type JobLifecycle,
  type Report,
  type ReportOutcome,
} from './transition.js';

const T0 = Date.UTC(2026, 11, 2, 1, 0, 0);

/** A reported job as created: pending, no worker yet, a 1-hour timeout, a 30 s heartbeat timeout. */
function reported(extra: Partial<JobLifecycle> = {}): JobLifecycle {
  return { state: 'pending', version: 1, createdAt: T0, updatedAt: T0, expiresAt: T0 + 3_600_000, heartbeatTimeoutMs: 30_000, ...extra };
}

/** A 10 s timer. */
function timer(outcome: 'completed' | 'error' = 'completed', extra: Partial<JobLifecycle> = {}): JobLifecycle {
  return { state: 'pending', version: 1, createdAt: T0, updatedAt: T0, duration: 10, outcome, dueAt: T0 + 10_000, ...extra };
}

/** Applies reports in turn, each at its own arrival time; returns the last job. */
function run(job: JobLifecycle, steps: [report: Report, now: number][]): JobLifecycle {
  for (const [report, now] of steps) job = applyReport(job, report, now).job;
  return job;
}

describe('applyReport: a pending reported job', () => {
  it('starts on its first report, as a new version', () => {
    const out = applyReport(reported(), { event: 'started' }, T0 + 1000);
    assert.equal(out.kind, 'changed');
    assert.equal(out.job.state, 'pending');
    assert.equal(out.job.startedAt, T0 + 1000);
    assert.equal(out.job.heartbeatAt, T0 + 1000);
    assert.equal(out.job.version, 2);
    assert.equal(out.job.updatedAt, T0 + 1000);
  });

  it('takes the start time from the worker when it gives one', () => {
    const out = applyReport(reported(), { event: 'started', at: T0 + 400 }, T0 + 1000);
    assert.equal(out.job.startedAt, T0 + 400);
    // The heartbeat clock is the server's: it counts from the arrival.
    assert.equal(out.job.heartbeatAt, T0 + 1000);
  });

  it('starts on a first progress or bare heartbeat too (any report means a worker has it)', () => {
    for (const event of ['progress', 'heartbeat'] as const) {
      const out = applyReport(reported(), { event }, T0 + 5);
      assert.equal(out.kind, 'changed', event);
      assert.equal(out.job.startedAt, T0 + 5, event);
    }
  });

  it('records progress and message as a new version', () => {
    const started = run(reported(), [[{ event: 'started' }, T0 + 1]]);
    const out = applyReport(started, { event: 'progress', progress: 0.4, message: 'transcribing' }, T0 + 2);
    assert.equal(out.kind, 'changed');
    assert.equal(out.job.progress, 0.4);
    assert.equal(out.job.message, 'transcribing');
    assert.equal(out.job.version, started.version + 1);
  });

  it('keeps the previous message when a report carries none', () => {
    const job = run(reported(), [
      [{ event: 'progress', progress: 0.1, message: 'step 1' }, T0 + 1],
      [{ event: 'progress', progress: 0.2 }, T0 + 2],
    ]);
    assert.equal(job.message, 'step 1');
    assert.equal(job.progress, 0.2);
  });

  it('lets a worker set an empty message', () => {
    const job = run(reported(), [
      [{ event: 'progress', message: 'step 1' }, T0 + 1],
      [{ event: 'progress', message: '' }, T0 + 2],
    ]);
    assert.equal(job.message, '');
  });

  it('takes a bare heartbeat of a started job as a touch: clock moves, no new version', () => {
    const started = run(reported(), [[{ event: 'started' }, T0 + 1]]);
    const out = applyReport(started, { event: 'heartbeat' }, T0 + 20_000);
    assert.equal(out.kind, 'touched');
    assert.equal(out.job.version, started.version);
    assert.equal(out.job.updatedAt, started.updatedAt);
    assert.equal(out.job.heartbeatAt, T0 + 20_000);
  });

  it('takes a report that repeats what the job shows as a touch', () => {
    const job = run(reported(), [[{ event: 'progress', progress: 0.5, message: 'm' }, T0 + 1]]);
    const out = applyReport(job, { event: 'progress', progress: 0.5, message: 'm' }, T0 + 2);
    assert.equal(out.kind, 'touched');
    assert.equal(out.job.version, job.version);
  });

  it('takes a heartbeat that carries progress as a progress report', () => {
    const started = run(reported(), [[{ event: 'started' }, T0 + 1]]);
    const out = applyReport(started, { event: 'heartbeat', progress: 0.3 }, T0 + 2);
    assert.equal(out.kind, 'changed');
    assert.equal(out.job.progress, 0.3);
  });

  it('turns etaSeconds into an estimated end counted from the observation', () => {
    const out = applyReport(reported(), { event: 'progress', etaSeconds: 90, at: T0 + 500 }, T0 + 1000);
    assert.equal(out.job.dueAt, T0 + 500 + 90_000);
    assert.equal(etaMsOf(out.job, T0 + 1000), 89_500);
  });

  it('keeps the last estimate when a later report gives none', () => {
    const job = run(reported(), [
      [{ event: 'progress', etaSeconds: 60 }, T0 + 1000],
      [{ event: 'progress', progress: 0.5 }, T0 + 2000],
    ]);
    assert.equal(job.dueAt, T0 + 61_000);
  });

  it('drops a progress older than the last one applied (stale at), changing nothing', () => {
    const job = run(reported(), [[{ event: 'progress', progress: 0.6, at: T0 + 2000 }, T0 + 2100]]);
    const out = applyReport(job, { event: 'progress', progress: 0.3, at: T0 + 1000 }, T0 + 2200);
    assert.equal(out.kind, 'stale');
    assert.equal(out.job, job);
  });

  it('applies a report whose at equals the last one (same instant is not older)', () => {
    const job = run(reported(), [[{ event: 'progress', progress: 0.6, at: T0 + 2000 }, T0 + 2100]]);
    assert.equal(applyReport(job, { event: 'progress', progress: 0.7, at: T0 + 2000 }, T0 + 2200).kind, 'changed');
  });

  it('lets progress go down when the worker says so in order (a new phase)', () => {
    const job = run(reported(), [
      [{ event: 'progress', progress: 0.9 }, T0 + 1],
      [{ event: 'progress', progress: 0.1, message: 'second pass' }, T0 + 2],
    ]);
    assert.equal(job.progress, 0.1);
  });

  it('clamps a worker clock ahead of the server to the arrival time', () => {
    const out = applyReport(reported(), { event: 'started', at: T0 + 60_000 }, T0 + 1000);
    assert.equal(out.job.startedAt, T0 + 1000);
    assert.equal(out.job.reportedAt, T0 + 1000);
    // So a correct report right after is not taken for stale.
    assert.equal(applyReport(out.job, { event: 'progress', progress: 0.2 }, T0 + 1001).kind, 'changed');
  });

  it('completes with a result, progress 1, as a new version', () => {
    const started = run(reported(), [[{ event: 'progress', progress: 0.5 }, T0 + 1]]);
    const out = applyReport(started, { event: 'completed', result: { url: 'https://cdn.example/v.mp4' } }, T0 + 5000);
    assert.equal(out.kind, 'changed');
    assert.equal(out.job.state, 'completed');
    assert.deepEqual(out.job.result, { url: 'https://cdn.example/v.mp4' });
    assert.equal(out.job.progress, 1);
    assert.equal(out.job.version, started.version + 1);
    assert.equal(out.job.updatedAt, T0 + 5000);
  });

  it('completes a job no worker started, and marks it started then', () => {
    const out = applyReport(reported(), { event: 'completed', result: 42 }, T0 + 7);
    assert.equal(out.job.state, 'completed');
    assert.equal(out.job.startedAt, T0 + 7);
    assert.equal(out.job.result, 42);
  });

  it('completes without a result', () => {
    const out = applyReport(reported(), { event: 'completed' }, T0 + 7);
    assert.equal(out.job.state, 'completed');
    assert.equal('result' in out.job, false);
  });

  it('keeps a falsy result (0, false, null, "") as the result', () => {
    for (const result of [0, false, null, '']) {
      assert.equal(applyReport(reported(), { event: 'completed', result }, T0 + 1).job.result, result);
    }
  });

  it('fails with the worker\'s error', () => {
    const out = applyReport(reported(), { event: 'failed', error: { code: 'ASR_TIMEOUT', message: 'speech recognition timed out' } }, T0 + 9);
    assert.equal(out.kind, 'changed');
    assert.equal(out.job.state, 'error');
    assert.deepEqual(out.job.error, { code: 'ASR_TIMEOUT', message: 'speech recognition timed out' });
  });

  it('fails with a generic error when the worker named none', () => {
    assert.deepEqual(applyReport(reported(), { event: 'failed' }, T0 + 9).job.error, WORKER_FAILURE);
  });

  it('applies a final report even when it is older than the last progress (an end is never stale)', () => {
    const job = run(reported(), [[{ event: 'progress', progress: 0.9, at: T0 + 5000 }, T0 + 5000]]);
    const out = applyReport(job, { event: 'completed', result: 'ok', at: T0 + 4000 }, T0 + 6000);
    assert.equal(out.job.state, 'completed');
    assert.equal(out.job.reportedAt, T0 + 5000);
  });

  it('takes a final report\'s message', () => {
    assert.equal(applyReport(reported(), { event: 'completed', message: 'done in 3 parts' }, T0 + 1).job.message, 'done in 3 parts');
  });

  it('does not change the record it was given', () => {
    const job = reported();
    const copy = structuredClone(job);
    applyReport(job, { event: 'completed', result: { a: 1 } }, T0 + 1);
    applyReport(job, { event: 'progress', progress: 0.5 }, T0 + 1);
    assert.deepEqual(job, copy);
  });
});

describe('applyReport: a job that ended', () => {
  const completed = applyReport(reported(), { event: 'completed', result: { url: 'u', n: [1, 2] } }, T0 + 10).job;
  const failed = applyReport(reported(), { event: 'failed', error: { code: 'E', message: 'm' } }, T0 + 10).job;

  it('answers the same completion repeated as unchanged (a retry is safe)', () => {
    const out = applyReport(completed, { event: 'completed', result: { n: [1, 2], url: 'u' } }, T0 + 20);
    assert.equal(out.kind, 'unchanged');
    assert.equal(out.job, completed);
  });

  it('answers a completion with another result as finished', () => {
    assert.equal(applyReport(completed, { event: 'completed', result: { url: 'other' } }, T0 + 20).kind, 'finished');
    assert.equal(applyReport(completed, { event: 'completed' }, T0 + 20).kind, 'finished');
  });

  it('answers a failure after a completion as finished, and the reverse', () => {
    assert.equal(applyReport(completed, { event: 'failed' }, T0 + 20).kind, 'finished');
    assert.equal(applyReport(failed, { event: 'completed' }, T0 + 20).kind, 'finished');
  });

  it('answers the same failure repeated as unchanged, another failure as finished', () => {
    assert.equal(applyReport(failed, { event: 'failed', error: { message: 'm', code: 'E' } }, T0 + 20).kind, 'unchanged');
    assert.equal(applyReport(failed, { event: 'failed', error: { code: 'E', message: 'other' } }, T0 + 20).kind, 'finished');
  });

  it('takes a failure without an error, repeated, as the same failure', () => {
    const job = applyReport(reported(), { event: 'failed' }, T0 + 1).job;
    assert.equal(applyReport(job, { event: 'failed' }, T0 + 2).kind, 'unchanged');
  });

  it('answers progress and heartbeats after the end as finished', () => {
    for (const event of ['started', 'progress', 'heartbeat'] as const) {
      assert.equal(applyReport(completed, { event }, T0 + 20).kind, 'finished', event);
    }
  });

  it('answers any report to a canceled job as canceled, with the job', () => {
    const canceled = cancel(reported(), T0 + 5);
    assert.equal(canceled.kind, 'canceled');
    for (const event of ['started', 'progress', 'heartbeat', 'completed', 'failed'] as const) {
      const out: ReportOutcome<JobLifecycle> = applyReport(canceled.job, { event }, T0 + 20);
      assert.equal(out.kind, 'canceled', event);
      assert.equal(out.job.state, 'canceled');
    }
  });

  it('answers a report after the heartbeat deadline as finished with the stalled job, even before a scheduler stored it', () => {
    const started = run(reported(), [[{ event: 'started' }, T0 + 1000]]);
    const out = applyReport(started, { event: 'completed', result: 1 }, T0 + 1000 + 30_000);
    assert.equal(out.kind, 'finished');
    assert.equal(out.job.state, 'error');
    assert.equal(out.job.error?.code, JOB_STALLED);
  });

  it('answers a report to a timer as simulated: the simulator owns its end', () => {
    for (const event of ['started', 'progress', 'completed'] as const) {
      assert.equal(applyReport(timer(), { event }, T0 + 1).kind, 'simulated', event);
    }
  });
});

describe('deadlines', () => {
  it('a timer ends at its due time', () => {
    assert.deepEqual(deadlineOf(timer()), { at: T0 + 10_000, reason: 'due' });
  });

  it('a reported job nobody started ends at its timeout: the heartbeat clock has not started', () => {
    assert.deepEqual(deadlineOf(reported()), { at: T0 + 3_600_000, reason: 'expired' });
  });

  it('a started job stalls one heartbeat timeout after its last report', () => {
    const job = run(reported(), [
      [{ event: 'started' }, T0 + 1000],
      [{ event: 'heartbeat' }, T0 + 21_000],
    ]);
    assert.deepEqual(deadlineOf(job), { at: T0 + 51_000, reason: 'stalled' });
  });

  it('a job near its timeout expires before it could stall', () => {
    const job = run(reported({ expiresAt: T0 + 40_000 }), [[{ event: 'started' }, T0 + 30_000]]);
    assert.deepEqual(deadlineOf(job), { at: T0 + 40_000, reason: 'expired' });
  });

  it('names an expiry on a tie with a stall', () => {
    const job = run(reported({ expiresAt: T0 + 40_000 }), [[{ event: 'started' }, T0 + 10_000]]);
    assert.deepEqual(deadlineOf(job), { at: T0 + 40_000, reason: 'expired' });
  });

  it('a job without heartbeat timeout and timeout has no deadline', () => {
    const job = run(reported({ expiresAt: undefined, heartbeatTimeoutMs: undefined }), [[{ event: 'started' }, T0 + 1]]);
    assert.equal(deadlineAt(job), undefined);
    assert.equal(settleDue(job, T0 + 1e12), undefined);
  });

  it('a job that ended has none', () => {
    assert.equal(deadlineAt(applyReport(reported(), { event: 'completed' }, T0 + 1).job), undefined);
    assert.equal(deadlineAt(cancel(timer(), T0 + 1).job), undefined);
  });

  it('a worker\'s estimate is no deadline', () => {
    const job = run(reported({ expiresAt: undefined, heartbeatTimeoutMs: undefined }), [[{ event: 'progress', etaSeconds: 1 }, T0 + 1]]);
    assert.equal(deadlineAt(job), undefined);
  });

  it('nextDeadline is the earliest of a set, ignoring jobs without one', () => {
    assert.equal(nextDeadline([reported(), timer(), applyReport(reported(), { event: 'completed' }, T0).job]), T0 + 10_000);
    assert.equal(nextDeadline([]), undefined);
  });
});

describe('settleDue and effectiveJob', () => {
  it('settles a timer at its due time as its outcome, through the same step as a worker', () => {
    assert.equal(settleDue(timer(), T0 + 9_999), undefined);
    const done = settleDue(timer(), T0 + 10_000)!;
    assert.equal(done.state, 'completed');
    assert.equal(done.version, 2);
    assert.equal(done.updatedAt, T0 + 10_000);
    assert.equal(done.error, undefined);
    // A timer's progress follows its clock, so none is stored.
    assert.equal(done.progress, undefined);
  });

  it('settles a failing timer with the simulated error', () => {
    const failed = settleDue(timer('error'), T0 + 60_000)!;
    assert.equal(failed.state, 'error');
    assert.deepEqual(failed.error, SIMULATED_FAILURE);
    // The change time is the deadline, not the moment a late scheduler got to it.
    assert.equal(failed.updatedAt, T0 + 10_000);
  });

  it('settles a silent started job as stalled at its heartbeat deadline', () => {
    const started = run(reported(), [[{ event: 'progress', progress: 0.3, message: 'encoding' }, T0 + 1000]]);
    const stalled = settleDue(started, T0 + 100_000)!;
    assert.equal(stalled.state, 'error');
    assert.equal(stalled.error?.code, JOB_STALLED);
    assert.match(stalled.error!.message, /30 s/);
    assert.equal(stalled.updatedAt, T0 + 31_000);
    assert.equal(stalled.version, started.version + 1);
    // What the worker said last stays readable.
    assert.equal(stalled.progress, 0.3);
    assert.equal(stalled.message, 'encoding');
  });

  it('settles a job nobody picked up as expired at its timeout', () => {
    const expired = settleDue(reported(), T0 + 3_600_000)!;
    assert.equal(expired.error?.code, JOB_EXPIRED);
    assert.match(expired.error!.message, /3600 s/);
    assert.equal(expired.updatedAt, T0 + 3_600_000);
  });

  it('settles nothing twice: a settled job has no deadline left', () => {
    const once = settleDue(timer(), T0 + 20_000)!;
    assert.equal(settleDue(once, T0 + 30_000), undefined);
  });

  it('effectiveJob reads a past-deadline job as settled, and a running one as it is', () => {
    const job = timer();
    assert.equal(effectiveJob(job, T0 + 1), job);
    assert.equal(effectiveJob(job, T0 + 10_000).state, 'completed');
  });
});

describe('cancel', () => {
  it('cancels a pending job as a new version', () => {
    const out = cancel(run(reported(), [[{ event: 'started' }, T0 + 1]]), T0 + 5);
    assert.equal(out.kind, 'canceled');
    assert.equal(out.job.state, 'canceled');
    assert.equal(out.job.version, 3);
    assert.equal(out.job.updatedAt, T0 + 5);
  });

  it('cancels a timer before its due time', () => {
    assert.equal(cancel(timer(), T0 + 9_999).kind, 'canceled');
  });

  it('finds a timer at its due time already ended', () => {
    const out = cancel(timer(), T0 + 10_000);
    assert.equal(out.kind, 'final');
    assert.equal(out.job.state, 'completed');
  });

  it('finds a completed, failed or canceled job final, unchanged', () => {
    const completed = applyReport(reported(), { event: 'completed' }, T0 + 1).job;
    assert.deepEqual(cancel(completed, T0 + 2), { kind: 'final', job: completed });
    const canceled = cancel(reported(), T0 + 1).job;
    assert.deepEqual(cancel(canceled, T0 + 2), { kind: 'final', job: canceled });
  });
});

describe('withRestartGrace', () => {
  const started = run(reported(), [[{ event: 'started' }, T0 + 1000]]);

  it('restarts the heartbeat clock of a running job at the server\'s return, invisibly', () => {
    const graced = withRestartGrace(started, T0 + 500_000)!;
    assert.equal(graced.heartbeatAt, T0 + 500_000);
    assert.equal(graced.version, started.version);
    assert.equal(graced.updatedAt, started.updatedAt);
    assert.equal(deadlineAt(graced), T0 + 530_000);
    assert.equal(settleDue(graced, T0 + 529_999), undefined);
  });

  it('does not delay an expiry: a timeout is absolute', () => {
    const graced = withRestartGrace(run(reported({ expiresAt: T0 + 100_000 }), [[{ event: 'started' }, T0 + 1000]]), T0 + 500_000)!;
    assert.equal(settleDue(graced, T0 + 500_000)?.error?.code, JOB_EXPIRED);
  });

  it('leaves alone what it does not apply to', () => {
    assert.equal(withRestartGrace(reported(), T0 + 500_000), undefined, 'not started');
    assert.equal(withRestartGrace(timer(), T0 + 500_000), undefined, 'a timer');
    assert.equal(withRestartGrace(run(reported({ heartbeatTimeoutMs: undefined }), [[{ event: 'started' }, T0]]), T0 + 500_000), undefined, 'no heartbeat timeout');
    assert.equal(withRestartGrace(started, T0 + 1000), undefined, 'reported since');
    assert.equal(withRestartGrace(applyReport(started, { event: 'completed' }, T0 + 2000).job, T0 + 500_000), undefined, 'ended');
  });
});

describe('etaMsOf and retryAfterSeconds', () => {
  it('a timer\'s ETA is its time left, 0 once ended', () => {
    assert.equal(etaMsOf(timer(), T0 + 4000), 6000);
    assert.equal(etaMsOf(settleDue(timer(), T0 + 10_000)!, T0 + 10_000), 0);
  });

  it('a reported job without an estimate has no ETA: absent, never 0', () => {
    assert.equal(etaMsOf(reported(), T0 + 1), undefined);
    assert.equal(etaMsOf(applyReport(reported(), { event: 'completed' }, T0 + 1).job, T0 + 2), undefined);
  });

  it('an overdue estimate is no ETA either', () => {
    const job = run(reported(), [[{ event: 'progress', etaSeconds: 5 }, T0]]);
    assert.equal(etaMsOf(job, T0 + 4000), 1000);
    assert.equal(etaMsOf(job, T0 + 5000), undefined);
    assert.equal(etaMsOf(job, T0 + 9000), undefined);
  });

  it('Retry-After follows a known end in whole seconds, at least 1', () => {
    assert.equal(retryAfterSeconds(timer(), T0 + 4000), 6);
    assert.equal(retryAfterSeconds(timer(), T0 + 9_999), 1);
  });

  it('Retry-After for an unknown end grows with the job\'s age: 0.5 s + 19.3%, rounded up', () => {
    const job = reported({ heartbeatTimeoutMs: undefined, expiresAt: undefined });
    assert.equal(retryAfterSeconds(job, T0), 1);
    assert.equal(retryAfterSeconds(job, T0 + 10_000), 3); // 0.5 + 1.93
    assert.equal(retryAfterSeconds(job, T0 + 100_000), 20); // 0.5 + 19.3
  });

  it('Retry-After for an unknown end is capped at 60 s', () => {
    assert.equal(retryAfterSeconds(reported({ heartbeatTimeoutMs: undefined, expiresAt: undefined }), T0 + 86_400_000), 60);
  });

  it('Retry-After looks no later than the next deadline', () => {
    const job = run(reported({ expiresAt: undefined }), [[{ event: 'started' }, T0 + 990_000]]);
    // Age 1000 s would say 60 s, but the job stalls 30 s after its report.
    assert.equal(retryAfterSeconds(job, T0 + 1_000_000), 20);
  });

  it('no Retry-After once the job ended (or reached its deadline)', () => {
    assert.equal(retryAfterSeconds(timer(), T0 + 10_000), undefined);
    assert.equal(retryAfterSeconds(cancel(reported(), T0).job, T0), undefined);
  });

  it('isReported tells a timer from a reported job', () => {
    assert.equal(isReported(timer()), false);
    assert.equal(isReported(reported()), true);
  });
});

describe('properties over any sequence of reports, cancels and clock ticks', () => {
  const reportArb: fc.Arbitrary<Report> = fc.record(
    {
      event: fc.constantFrom('started', 'progress', 'heartbeat', 'completed', 'failed'),
      progress: fc.double({ min: 0, max: 1, noNaN: true }),
      message: fc.string({ maxLength: 8 }),
      etaSeconds: fc.integer({ min: 0, max: 600 }),
      result: fc.jsonValue({ maxDepth: 2 }),
      error: fc.record({ code: fc.constantFrom('A', 'B'), message: fc.constantFrom('x', 'y') }),
      at: fc.integer({ min: -60_000, max: 60_000 }),
    },
    { requiredKeys: ['event'] },
  );
  const stepArb = fc.oneof(
    { weight: 8, arbitrary: fc.record({ type: fc.constant('report' as const), report: reportArb, dt: fc.integer({ min: 0, max: 40_000 }) }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('cancel' as const), dt: fc.integer({ min: 0, max: 40_000 }) }) },
    { weight: 2, arbitrary: fc.record({ type: fc.constant('settle' as const), dt: fc.integer({ min: 0, max: 40_000 }) }) },
  );
  const startArb = fc.oneof(
    fc.record({ hb: fc.option(fc.integer({ min: 1000, max: 60_000 }), { nil: undefined }), timeout: fc.option(fc.integer({ min: 1000, max: 600_000 }), { nil: undefined }) }).map(({ hb, timeout }) =>
      reported({ heartbeatTimeoutMs: hb, expiresAt: timeout === undefined ? undefined : T0 + timeout }),
    ),
    fc.constantFrom('completed' as const, 'error' as const).map((o) => timer(o)),
  );

  type Step = { type: 'report'; report: Report; dt: number } | { type: 'cancel' | 'settle'; dt: number };

  /** Runs the steps, checking the invariants after each one. */
  function check(start: JobLifecycle, steps: Step[]): void {
    let job = start;
    let now = T0;
    for (const step of steps) {
      now += step.dt;
      const before = job;
      const beforeEffective = effectiveJob(before, now);
      let kind: string;
      if (step.type === 'report') {
        const report = { ...step.report, ...(step.report.at !== undefined ? { at: now + step.report.at } : {}) };
        const out = applyReport(before, report, now);
        kind = out.kind;
        if (out.kind === 'changed' || out.kind === 'touched') job = out.job;
        // A refused or idempotent report answers with the job as it stands, and stores nothing.
        else assert.deepEqual(out.job, beforeEffective);
      } else if (step.type === 'cancel') {
        const out = cancel(before, now);
        kind = out.kind;
        if (out.kind === 'canceled') job = out.job;
        else assert.deepEqual(out.job, beforeEffective);
      } else {
        kind = 'settle';
        job = settleDue(before, now) ?? before;
      }
      // Versions never go back, and only a visible change moves them, by exactly one.
      if (kind === 'touched') assert.equal(job.version, before.version);
      assert.ok(job.version === before.version || job.version === beforeEffective.version + 1 || job.version === beforeEffective.version, `version ${before.version} -> ${job.version}`);
      assert.ok(job.version >= before.version);
      // A final state is for ever, with the same content.
      if (beforeEffective.state !== 'pending') assert.deepEqual(effectiveJob(job, now), beforeEffective);
      // Progress stays in range, a started job stays started.
      if (job.progress !== undefined) assert.ok(job.progress >= 0 && job.progress <= 1);
      if (before.startedAt !== undefined) assert.equal(job.startedAt, before.startedAt);
      // Nothing pending is left past its deadline by a settle; effectiveJob agrees with settleDue.
      const effective = effectiveJob(job, now);
      if (effective.state === 'pending') assert.ok((deadlineAt(effective) ?? Infinity) > now);
      // An unknown end is never an ETA of 0 while pending.
      if (effective.state === 'pending') assert.notEqual(etaMsOf(effective, now), 0);
      // A failed job always says why; only a completed job has a result.
      if (effective.state === 'error') assert.ok(effective.error && typeof effective.error.code === 'string');
      if (effective.state !== 'completed') assert.equal(effective.result, undefined);
      // The updated time never goes back.
      assert.ok(job.updatedAt >= before.updatedAt);
    }
  }

  it('keep versions, final states and ranges consistent', () => {
    fc.assert(fc.property(startArb, fc.array(stepArb, { maxLength: 25 }), (start, steps) => check(start, steps as Step[])), { numRuns: 500 });
  });

  it('a final report repeated any number of times is one change', () => {
    fc.assert(
      fc.property(reportArb, fc.integer({ min: 1, max: 5 }), (report, repeats) => {
        const final: Report = { ...report, event: report.event === 'failed' ? 'failed' : 'completed', at: undefined };
        let job = reported({ heartbeatTimeoutMs: undefined, expiresAt: undefined });
        const first = applyReport(job, final, T0 + 1);
        assert.equal(first.kind, 'changed');
        job = first.job;
        for (let i = 0; i < repeats; i++) {
          const again = applyReport(job, structuredClone(final), T0 + 2 + i);
          assert.equal(again.kind, 'unchanged');
          assert.equal(again.job, job);
        }
      }),
    );
  });

  it('reports delivered in any order leave the progress of the latest observation', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 10 }).chain((ats) => fc.tuple(fc.constant(ats), fc.shuffledSubarray(ats, { minLength: ats.length }))),
        ([ats, shuffled]) => {
        let job = reported({ heartbeatTimeoutMs: undefined, expiresAt: undefined });
        for (const at of shuffled) job = applyReport(job, { event: 'progress', progress: at / 10_000, at: T0 + at }, T0 + 20_000).job;
        assert.equal(job.progress, Math.max(...ats) / 10_000);
        },
      ),
    );
  });

  it('a deadline settles exactly once, however often a scheduler looks', () => {
    fc.assert(
      fc.property(startArb, fc.array(fc.integer({ min: 0, max: 700_000 }), { maxLength: 10 }), (start, looks) => {
        let job = start;
        let settled = 0;
        for (const at of [...looks].sort((a, b) => a - b)) {
          const next = settleDue(job, T0 + at);
          if (next) {
            settled++;
            job = next;
          }
        }
        assert.ok(settled <= 1);
        if (settled === 1) assert.equal(job.version, start.version + 1);
      }),
    );
  });
});
