/**
 * A job as stored, and the view the API shows of it. The shown status follows
 * from the job's deadline (jobs/transition.ts): a pending record past it already
 * reads as settled, so a read is right even when the scheduler lags or restarts.
 */
import type { Static } from 'typebox';
import type { JobSchema, JobStatusSchema } from '../routes/schemas.js';
import { expectedEndOf, type AttachedHistory } from '../predict/expected-end.js';
import { SIMULATED_FAILURE, effectiveJob, etaMsOf, isReported, type JobLifecycle } from './transition.js';

/** Status as the API shows it. */
export type JobStatus = Static<typeof JobStatusSchema>;

/**
 * A job as the store keeps it: its lifecycle (see jobs/transition.ts, the one state machine)
 * plus who owns it and where it reports. A timer has `duration`, `outcome` and `dueAt`; a
 * reported job has none of the three until its worker estimates an end (`dueAt`).
 */
export interface JobRecord extends JobLifecycle {
  id: string;
  /** The API key id that owns the job (`public` when the server runs open). */
  tenant: string;
  /** Stored state; `pending` may already be past its deadline (see {@link jobView}). */
  state: JobStatus;
  metadata?: Record<string, unknown> | undefined;
  callbackUrl?: string | undefined;
  notifyEmail?: string | undefined;
  /** Short labels given at creation, to list, count and wait on jobs together (routes/schemas.ts `TagsSchema`). */
  tags?: readonly string[] | undefined;
  /** The batch (`POST /v1/batches`) that created the job. */
  batchId?: string | undefined;
  /** What kind of work the job is: its end is predicted from finished jobs of the kind (predict/). */
  kind?: string | undefined;
  /** How much work the job is: its kind is learnt and predicted per unit of it. */
  size?: number | undefined;
  /** Not stored: what the server knows of the job's kind, attached for a read by predict/predictor.ts. */
  history?: AttachedHistory | undefined;
  /** Extra webhook events asked for at creation (`job.progress`, `job.overdue`); final events always go out. */
  webhookEvents?: readonly ('job.progress' | 'job.overdue')[] | undefined;
  /** The store's revision of the record, for compare-and-set writes (not shown; a heartbeat moves it too). */
  rev?: number | undefined;
}

/** A job as the API shows it: the static type of its wire schema, so the two cannot drift apart. */
export type JobView = Static<typeof JobSchema>;

/** The effective state of `record` at `now`: status, version and change time as if it had been settled at its deadline. */
export function effectiveState(record: JobRecord, now: number): { status: JobStatus; version: number; updatedAt: number } {
  const job = effectiveJob(record, now);
  return { status: job.state, version: job.version, updatedAt: job.updatedAt };
}

/** ISO texts of records' times, by record: three `toISOString()` were a tenth of a read (bench/server). */
const isoTimes = new WeakMap<JobRecord, { createdAt: string; dueAt: string | undefined; updatedAt: string }>();

/** The ISO texts of `record`'s times. Records are snapshots no one changes, so one computation serves every read of it. */
function isoTimesOf(record: JobRecord): { createdAt: string; dueAt: string | undefined; updatedAt: string } {
  let times = isoTimes.get(record);
  if (!times) {
    times = {
      createdAt: new Date(record.createdAt).toISOString(),
      dueAt: record.dueAt === undefined ? undefined : new Date(record.dueAt).toISOString(),
      updatedAt: new Date(record.updatedAt).toISOString(),
    };
    isoTimes.set(record, times);
  }
  return times;
}

/** A timer's elapsed share at `at`, rounded to thousandths; a reported job's progress as its worker reported it. */
export function progressOf(record: JobRecord, at: number): number {
  if (isReported(record) || record.dueAt === undefined) return record.progress ?? 0;
  const span = Math.max(1, record.dueAt - record.createdAt);
  return Math.min(1, Math.max(0, Math.round(((at - record.createdAt) / span) * 1000) / 1000));
}

/** The API's view of `record` at `now`. Never shows the report token (it is not stored) nor the store's revision. */
export function jobView(record: JobRecord, now: number): JobView {
  const job = effectiveJob(record, now);
  const status = job.state;
  const times = isoTimesOf(record);
  const progressAt = status === 'pending' ? now : status === 'canceled' ? job.updatedAt : (record.dueAt ?? job.updatedAt);
  // Built in the wire order (id, status, progress, etaMs, createdAt, ...): hot reads cut the JSON around its moving numbers.
  const view = { id: record.id, status, progress: status === 'completed' ? 1 : progressOf(job, progressAt) } as JobView;
  const etaMs = etaMsOf(job, now);
  if (etaMs !== undefined) view.etaMs = etaMs;
  view.createdAt = times.createdAt;
  if (job.dueAt !== undefined) view.dueAt = job.dueAt === record.dueAt ? times.dueAt! : new Date(job.dueAt).toISOString();
  view.updatedAt =
    job.updatedAt === record.updatedAt ? times.updatedAt : job.updatedAt === record.dueAt ? times.dueAt! : new Date(job.updatedAt).toISOString();
  if (record.duration !== undefined) view.duration = record.duration;
  view.version = job.version;
  if (job.startedAt !== undefined) view.startedAt = new Date(job.startedAt).toISOString();
  if (job.message !== undefined) view.message = job.message;
  if (job.result !== undefined) view.result = job.result;
  if (job.error !== undefined) view.error = { code: job.error.code, message: job.error.message };
  // A simulated failure stored by 0.1.0 (before errors were stored) reads as it always did.
  else if (status === 'error') view.error = { ...SIMULATED_FAILURE };
  if (record.heartbeatTimeoutMs !== undefined) view.heartbeatTimeoutSeconds = record.heartbeatTimeoutMs / 1000;
  if (record.expiresAt !== undefined) view.timeoutSeconds = (record.expiresAt - record.createdAt) / 1000;
  if (record.metadata !== undefined) view.metadata = record.metadata;
  if (record.tags !== undefined) view.tags = [...record.tags];
  if (record.batchId !== undefined) view.batchId = record.batchId;
  if (record.kind !== undefined) view.kind = record.kind;
  if (record.size !== undefined) view.size = record.size;
  const expectedEnd = expectedEndOf(job, now, record.history);
  if (expectedEnd !== undefined) view.expectedEnd = expectedEnd;
  if (record.callbackUrl !== undefined) view.callbackUrl = record.callbackUrl;
  if (record.notifyEmail !== undefined) view.notifyEmail = record.notifyEmail;
  return view;
}

/** True once the job will not change any more. */
export function isFinal(status: JobStatus): boolean {
  return status !== 'pending';
}

/** Weak ETag of a job version: the body also carries time-varying `etaMs` and `progress`. */
export function jobEtag(id: string, version: number): string {
  return `W/"${id}.${version}"`;
}
