/**
 * A job as stored, and the view the API shows of it. The shown status follows
 * from `dueAt`: a pending record past its due time already reads as its
 * outcome, so a read is right even when the scheduler lags or restarts.
 */
import type { Static } from 'typebox';
import type { JobSchema, JobStatusSchema } from '../routes/schemas.js';
import type { Outcome } from './outcome.js';

/** Status as the API shows it. */
export type JobStatus = Static<typeof JobStatusSchema>;

/** A job as the store keeps it. */
export interface JobRecord {
  id: string;
  /** The API key id that owns the job (`public` when the server runs open). */
  tenant: string;
  /** Stored state; `pending` may already be past due (see {@link jobView}). */
  state: JobStatus;
  /** What the job ends as when it is not canceled. */
  outcome: Outcome;
  /** Milliseconds since the epoch. */
  createdAt: number;
  dueAt: number;
  updatedAt: number;
  /** Seconds. */
  duration: number;
  /** 1 when created; +1 on each change of state. */
  version: number;
  metadata?: Record<string, unknown> | undefined;
  callbackUrl?: string | undefined;
  notifyEmail?: string | undefined;
}

/** A job as the API shows it: the static type of its wire schema, so the two cannot drift apart. */
export type JobView = Static<typeof JobSchema>;

/** The effective state of `record` at `now`: status, version and change time as if it had been settled on time. */
export function effectiveState(record: JobRecord, now: number): { status: JobStatus; version: number; updatedAt: number } {
  if (record.state === 'pending' && now >= record.dueAt) {
    return { status: record.outcome, version: record.version + 1, updatedAt: record.dueAt };
  }
  return { status: record.state, version: record.version, updatedAt: record.updatedAt };
}

/** ISO texts of records' times, by record: three `toISOString()` were a tenth of a read (bench/server, issue 8). */
const isoTimes = new WeakMap<JobRecord, { createdAt: string; dueAt: string; updatedAt: string }>();

/** The ISO texts of `record`'s times. Records are snapshots no one changes, so one computation serves every read of it. */
function isoTimesOf(record: JobRecord): { createdAt: string; dueAt: string; updatedAt: string } {
  let times = isoTimes.get(record);
  if (!times) {
    times = { createdAt: new Date(record.createdAt).toISOString(), dueAt: new Date(record.dueAt).toISOString(), updatedAt: new Date(record.updatedAt).toISOString() };
    isoTimes.set(record, times);
  }
  return times;
}

/** The fraction of `record`'s time run at `at`, rounded to thousandths. */
export function progressOf(record: JobRecord, at: number): number {
  const span = Math.max(1, record.dueAt - record.createdAt);
  return Math.min(1, Math.max(0, Math.round(((at - record.createdAt) / span) * 1000) / 1000));
}

/** The API's view of `record` at `now`. */
export function jobView(record: JobRecord, now: number): JobView {
  const { status, version, updatedAt } = effectiveState(record, now);
  const times = isoTimesOf(record);
  const progressAt = status === 'pending' ? now : status === 'canceled' ? updatedAt : record.dueAt;
  const view: JobView = {
    id: record.id,
    status,
    progress: progressOf(record, progressAt),
    etaMs: status === 'pending' ? Math.max(0, record.dueAt - now) : 0,
    createdAt: times.createdAt,
    dueAt: times.dueAt,
    updatedAt: updatedAt === record.dueAt ? times.dueAt : updatedAt === record.updatedAt ? times.updatedAt : new Date(updatedAt).toISOString(),
    duration: record.duration,
    version,
  };
  if (status === 'error') view.error = { code: 'JOB_FAILED', message: 'the simulated job failed' };
  if (record.metadata !== undefined) view.metadata = record.metadata;
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
