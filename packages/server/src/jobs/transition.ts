/**
 * The one state machine of a job, as pure functions of a record and a time. Every way a job
 * changes goes through here: a worker's report, a cancel, and the deadlines the server keeps
 * (a timer's due time — the simulator is just one more worker —, a heartbeat timeout, a job
 * timeout). Engines store what these return; they never decide a transition themselves.
 *
 * A job is either a timer (created with `duration`: the built-in simulator ends it at `dueAt`)
 * or a reported job (created without one: pending until its worker reports the end).
 */
import { jsonEqual } from './json-equal.js';

/** Stored state of a job. */
export type JobState = 'pending' | 'completed' | 'error' | 'canceled';

/** How a failed job failed, as the API shows it. */
export interface JobError {
  code: string;
  message: string;
}

/** The members of a job record that its transitions read and write (times in ms since the epoch). */
export interface JobLifecycle {
  state: JobState;
  /** 1 when created; +1 on each change a reader can see (a bare heartbeat is none). */
  version: number;
  createdAt: number;
  /** When a reader-visible change last happened. */
  updatedAt: number;
  /** Seconds a timer runs; absent on a reported job. */
  duration?: number | undefined;
  /** How a timer ends when not canceled (the simulator's draw); unused on a reported job. */
  outcome?: 'completed' | 'error' | undefined;
  /** A timer's due time; on a reported job, the end its worker estimated (absent when it gave none). */
  dueAt?: number | undefined;
  /** When the worker first reported (reported jobs only). */
  startedAt?: number | undefined;
  /** From when the heartbeat clock counts: the last report, or the server's return after an outage. */
  heartbeatAt?: number | undefined;
  /** The worker's own time of the last report applied (`at`, else its arrival): older reports are stale. */
  reportedAt?: number | undefined;
  /** The highest per-job sequence number applied (queue messages that carry one): it orders reports before `reportedAt` does. */
  reportSeq?: number | undefined;
  /**
   * Ids of the latest queue messages applied to the job (newest last, at most {@link RECEIPTS_KEPT}): a redelivered
   * message changes nothing twice. Kept in the record, so they are written in the same commit as what they did and
   * live exactly as long as the job.
   */
  receipts?: string[] | undefined;
  /** Fraction done as the worker reported it (0..1). */
  progress?: number | undefined;
  /** The worker's short note on what it is doing. */
  message?: string | undefined;
  /** What a completed job produced (any JSON value). */
  result?: unknown;
  /** Why the job failed. */
  error?: JobError | undefined;
  /** A started job with no report for this long fails as stalled. */
  heartbeatTimeoutMs?: number | undefined;
  /** A reported job still pending at this time fails as expired. */
  expiresAt?: number | undefined;
}

/** Error code of a running job whose worker stopped reporting within its heartbeat timeout. */
export const JOB_STALLED = 'JOBWAIT_ERR_JOB_STALLED';
/** Error code of a reported job still pending at its timeout. */
export const JOB_EXPIRED = 'JOBWAIT_ERR_JOB_EXPIRED';
/** The error a simulated job fails with (its bytes are 0.1.0's). */
export const SIMULATED_FAILURE: Readonly<JobError> = Object.freeze({ code: 'JOB_FAILED', message: 'the simulated job failed' });
/** The error of a `failed` report that named none. */
export const WORKER_FAILURE: Readonly<JobError> = Object.freeze({ code: 'JOB_FAILED', message: 'the worker reported a failure' });

/** Message ids a job remembers: older redeliveries are stale by their sequence number or time anyway. */
export const RECEIPTS_KEPT = 32;

/** What a worker reports. */
export type ReportEvent = 'started' | 'progress' | 'heartbeat' | 'completed' | 'failed';

/** A worker's report, already validated against the report schema. */
export interface Report {
  event: ReportEvent;
  /** 0..1 */
  progress?: number | undefined;
  message?: string | undefined;
  /** Seconds from `at` until the worker expects to finish. */
  etaSeconds?: number | undefined;
  /** Only with `completed`. */
  result?: unknown;
  /** Only with `failed`. */
  error?: JobError | undefined;
  /** When the worker observed what it reports (ms since the epoch); orders reports that arrive out of order. */
  at?: number | undefined;
  /** The publisher's per-job sequence number: when both this and the job's last one are known, it orders reports instead of `at`. */
  seq?: number | undefined;
  /** Id of the queue message this report came in (deduplication: see {@link JobLifecycle.receipts}). */
  messageId?: string | undefined;
}

/**
 * What a report did:
 * - `changed`: a new version to store and publish;
 * - `touched`: only the heartbeat clock moved (store it; wakes no one);
 * - `unchanged`: nothing to store — a final report repeated with the same content;
 * - `stale`: nothing to store — a progress or heartbeat older (by sequence number, else time) than the last applied;
 * - `duplicate`: nothing to store — the message was applied before (its id is among the job's receipts);
 * - `finished`: the job already ended otherwise (a different final report, or any report after the end): 409;
 * - `canceled`: the job was canceled, so the worker should stop: 409;
 * - `simulated`: a timer's end belongs to the simulator: 409.
 */
export type ReportOutcome<R extends JobLifecycle> =
  | { kind: 'changed' | 'touched' | 'unchanged' | 'stale' | 'duplicate'; job: R }
  | { kind: 'finished' | 'canceled' | 'simulated'; job: R };

/** What a cancel did: `canceled` (a new version) or `final` (the job had already ended; `job` as it ended). */
export type CancelOutcome<R extends JobLifecycle> = { kind: 'canceled'; job: R } | { kind: 'final'; job: R };

/** Why a pending job's deadline ends it. */
export type DeadlineReason = 'due' | 'stalled' | 'expired';

/** The next moment the server itself ends a pending job, and why. */
export interface Deadline {
  at: number;
  reason: DeadlineReason;
}

/** `Retry-After` bounds for a job whose end is unknown. */
export const UNKNOWN_END_RETRY = Object.freeze({
  /** Seconds of the first look. */
  baseSeconds: 0.5,
  /**
   * Share of the job's age added to the delay: a look spaced in proportion to how long the job has
   * run keeps the lateness a bounded fraction of the run time, whatever that turns out to be.
   */
  ageShare: 0.193,
  /** Longest delay, in seconds (a long-poll holds up to 60 s, so no poller should wait longer). */
  capSeconds: 60,
});

/** True for a job created without `duration`: its end comes from a worker's report. */
export function isReported(job: JobLifecycle): boolean {
  return job.duration === undefined;
}

/** True once the state will not change any more. */
export function isFinalState(state: JobState): boolean {
  return state !== 'pending';
}

/**
 * The next moment the server ends `job` by itself, while pending: a timer's due time; a started
 * job's last heartbeat plus its heartbeat timeout (stalled); a reported job's timeout (expired).
 * The earliest wins; on a tie, an expiry is named before a stall.
 */
export function deadlineOf(job: JobLifecycle): Deadline | undefined {
  if (job.state !== 'pending') return undefined;
  if (!isReported(job)) return job.dueAt === undefined ? undefined : { at: job.dueAt, reason: 'due' };
  let deadline: Deadline | undefined;
  if (job.expiresAt !== undefined) deadline = { at: job.expiresAt, reason: 'expired' };
  if (job.heartbeatTimeoutMs !== undefined && job.heartbeatAt !== undefined) {
    const stallAt = job.heartbeatAt + job.heartbeatTimeoutMs;
    if (deadline === undefined || stallAt < deadline.at) deadline = { at: stallAt, reason: 'stalled' };
  }
  return deadline;
}

/** The time of {@link deadlineOf}, or `undefined` when nothing but a worker ends the job. */
export function deadlineAt(job: JobLifecycle): number | undefined {
  return deadlineOf(job)?.at;
}

/** The earliest deadline among `jobs` (what a scheduler arms its timer for). */
export function nextDeadline(jobs: Iterable<JobLifecycle>): number | undefined {
  let next: number | undefined;
  for (const job of jobs) {
    const at = deadlineAt(job);
    if (at !== undefined && (next === undefined || at < next)) next = at;
  }
  return next;
}

/**
 * `job` settled at its deadline if that deadline is at or before `now`; `undefined` while it still
 * runs (or already ended). A timer ends as its outcome through the same step a worker's final
 * report takes; a silent worker's job fails as stalled, an unfinished one as expired.
 */
export function settleDue<R extends JobLifecycle>(job: R, now: number): R | undefined {
  const deadline = deadlineOf(job);
  if (deadline === undefined || deadline.at > now) return undefined;
  switch (deadline.reason) {
    case 'due':
      return job.outcome === 'error' ? fail(job, SIMULATED_FAILURE, deadline.at) : complete(job, undefined, deadline.at);
    case 'stalled':
      return fail(job, { code: JOB_STALLED, message: `no report from the worker for ${seconds(job.heartbeatTimeoutMs!)} s (heartbeat timeout)` }, deadline.at);
    case 'expired':
      return fail(job, { code: JOB_EXPIRED, message: `the job did not finish within its timeout of ${seconds(deadline.at - job.createdAt)} s` }, deadline.at);
  }
}

/** `job` as it stands at `now`: settled at its deadline if that has passed, even if no scheduler has stored it yet. */
export function effectiveJob<R extends JobLifecycle>(job: R, now: number): R {
  return settleDue(job, now) ?? job;
}

/**
 * Applies a worker's report received at `now`. Any report is a heartbeat. Final reports always
 * apply to a pending job; a progress or heartbeat older (by `at`) than the last one applied is
 * stale and changes nothing, so reports that arrive out of order never move a job backwards.
 */
export function applyReport<R extends JobLifecycle>(stored: R, report: Report, now: number): ReportOutcome<R> {
  const job = effectiveJob(stored, now);
  if (report.messageId !== undefined && job.receipts?.includes(report.messageId)) return { kind: 'duplicate', job };
  if (job.state === 'canceled') return { kind: 'canceled', job };
  if (!isReported(job)) return { kind: 'simulated', job };
  if (job.state !== 'pending') {
    return isSameFinal(job, report) ? { kind: 'unchanged', job } : { kind: 'finished', job };
  }
  // A worker's clock ahead of the server's must not pin the job's order in the future.
  const at = Math.min(report.at ?? now, now);
  const seq = report.seq === undefined ? job.reportSeq : Math.max(report.seq, job.reportSeq ?? report.seq);
  if (report.event === 'completed' || report.event === 'failed') {
    const next: R = withReceipt({ ...job, heartbeatAt: now, reportedAt: Math.max(at, job.reportedAt ?? at), startedAt: job.startedAt ?? at }, report.messageId);
    if (seq !== undefined) next.reportSeq = seq;
    if (report.message !== undefined) next.message = report.message;
    return { kind: 'changed', job: report.event === 'completed' ? complete(next, report.result, now) : fail(next, report.error ?? WORKER_FAILURE, now) };
  }
  if (isOlder(job, report, at)) return { kind: 'stale', job };
  const next: R = withReceipt({ ...job, heartbeatAt: now, reportedAt: Math.max(at, job.reportedAt ?? at) }, report.messageId);
  if (seq !== undefined) next.reportSeq = seq;
  let visible = false;
  if (job.startedAt === undefined) {
    next.startedAt = at;
    visible = true;
  }
  if (report.progress !== undefined && report.progress !== job.progress) {
    next.progress = report.progress;
    visible = true;
  }
  if (report.message !== undefined && report.message !== job.message) {
    next.message = report.message;
    visible = true;
  }
  if (report.etaSeconds !== undefined) {
    const dueAt = at + Math.round(report.etaSeconds * 1000);
    if (dueAt !== job.dueAt) {
      next.dueAt = dueAt;
      visible = true;
    }
  }
  if (!visible) return { kind: 'touched', job: next };
  next.version = job.version + 1;
  next.updatedAt = now;
  return { kind: 'changed', job: next };
}

/** Cancels `stored` at `now` if it is still pending then; a job that already ended (or just reached its deadline) is returned as it ended. */
export function cancel<R extends JobLifecycle>(stored: R, now: number): CancelOutcome<R> {
  const job = effectiveJob(stored, now);
  if (job.state !== 'pending') return { kind: 'final', job };
  return { kind: 'canceled', job: { ...job, state: 'canceled', version: job.version + 1, updatedAt: now } };
}

/**
 * `job` with its heartbeat clock restarted at `upSince`, when the server (every instance of it)
 * was down until then: no worker could report meanwhile, so each running job gets one whole
 * heartbeat interval after the return before it can stall. `undefined` when the rule does not
 * apply (not pending, no heartbeat timeout, not started, or reported since). Not a visible change.
 */
export function withRestartGrace<R extends JobLifecycle>(job: R, upSince: number): R | undefined {
  if (job.state !== 'pending' || job.heartbeatTimeoutMs === undefined || job.heartbeatAt === undefined) return undefined;
  if (job.heartbeatAt >= upSince) return undefined;
  return { ...job, heartbeatAt: upSince };
}

/**
 * Milliseconds until `job`'s known end, as of `now`: a timer's due time or its worker's estimate.
 * `undefined` when no end is known (no estimate, or an estimate already overdue): never 0 for
 * "unknown", which a client would read as "look again at once". 0 once the job ended, if it had one.
 */
export function etaMsOf(job: JobLifecycle, now: number): number | undefined {
  if (job.dueAt === undefined) return undefined;
  if (job.state !== 'pending') return 0;
  return job.dueAt > now ? job.dueAt - now : undefined;
}

/**
 * Whole seconds a poller of a pending `job` should wait before looking again (`Retry-After`):
 * until its known end; with none, 0.5 s plus 19.3% of its age, at most 60 s and no later than
 * its next deadline. `undefined` once the job ended.
 */
export function retryAfterSeconds(stored: JobLifecycle, now: number): number | undefined {
  const job = effectiveJob(stored, now);
  if (job.state !== 'pending') return undefined;
  const etaMs = etaMsOf(job, now);
  if (etaMs !== undefined) return Math.max(1, Math.ceil(etaMs / 1000));
  const ageSeconds = Math.max(0, now - job.createdAt) / 1000;
  let delay = Math.min(UNKNOWN_END_RETRY.capSeconds, UNKNOWN_END_RETRY.baseSeconds + UNKNOWN_END_RETRY.ageShare * ageSeconds);
  const deadline = deadlineAt(job);
  if (deadline !== undefined) delay = Math.min(delay, (deadline - now) / 1000);
  return Math.max(1, Math.ceil(delay));
}

/**
 * True when a progress or heartbeat `report` (observed at `at`) is older than the last one applied to
 * `job`: by sequence number when both have one (a publisher's clock may step back; its counter does
 * not), else by time. An equal sequence number is no newer report.
 */
function isOlder(job: JobLifecycle, report: Report, at: number): boolean {
  if (report.seq !== undefined && job.reportSeq !== undefined) return report.seq <= job.reportSeq;
  return job.reportedAt !== undefined && at < job.reportedAt;
}

/** `job` remembering message `id` among its newest {@link RECEIPTS_KEPT} receipts. */
function withReceipt<R extends JobLifecycle>(job: R, id: string | undefined): R {
  if (id === undefined) return job;
  const receipts = [...(job.receipts ?? []), id];
  if (receipts.length > RECEIPTS_KEPT) receipts.splice(0, receipts.length - RECEIPTS_KEPT);
  return { ...job, receipts };
}

/** True when `report` is the final report `job` already ended with, content included (a retry). */
function isSameFinal(job: JobLifecycle, report: Report): boolean {
  if (report.event === 'completed') return job.state === 'completed' && jsonEqual(job.result, report.result);
  if (report.event === 'failed') return job.state === 'error' && jsonEqual(job.error, report.error ?? WORKER_FAILURE);
  return false;
}

function complete<R extends JobLifecycle>(job: R, result: unknown, at: number): R {
  const next: R = { ...job, state: 'completed', version: job.version + 1, updatedAt: at };
  if (isReported(job)) next.progress = 1;
  if (result !== undefined) next.result = result;
  return next;
}

function fail<R extends JobLifecycle>(job: R, error: JobError, at: number): R {
  return { ...job, state: 'error', error: { code: error.code, message: error.message }, version: job.version + 1, updatedAt: at };
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}
