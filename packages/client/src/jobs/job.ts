/**
 * The job resource as the jobs API returns it. The server's TypeBox `JobSchema` defines the wire
 * shape; these types are its zero-dependency copy, held equal to it field by field by
 * `test/job-wire-shape.types.ts` (compiled by `npm run typecheck` and `npm test`): change both together.
 */

/** Where a job is in its life. Only `pending` is not final. */
export type JobStatus = 'pending' | 'completed' | 'error' | 'canceled';

/** Final states. */
export type TerminalJobStatus = Exclude<JobStatus, 'pending'>;

/** A job as returned by `GET /v1/jobs/{id}`. */
export interface Job {
  id: string;
  status: JobStatus;
  /** Fraction done, 0..1: a timer's elapsed share, or what the worker reported. */
  progress: number;
  /**
   * Milliseconds until the known end (a timer's due time, or the worker's estimate), as of the
   * answer; absent while no end is known (never 0 for "unknown"); 0 once final.
   */
  etaMs?: number;
  /** ISO 8601 timestamps. */
  createdAt: string;
  /** A timer's due time, or the end the worker last estimated; absent when none is known. */
  dueAt?: string;
  updatedAt: string;
  /** Seconds a simulated job runs; absent on a reported job. */
  duration?: number;
  /** Increases with every change a reader can see; the ETag and SSE `id:` carry it. */
  version: number;
  /** Reported jobs: when the worker first reported. */
  startedAt?: string;
  /** Reported jobs: the worker's last note on what it is doing. */
  message?: string;
  /** Completed reported jobs: what the worker produced. */
  result?: unknown;
  /** Why the job failed (`JOBWAIT_ERR_JOB_STALLED`, `JOBWAIT_ERR_JOB_EXPIRED`, or the worker's own code). */
  error?: { code: string; message: string };
  /** Reported jobs: a started job silent this long fails as stalled. */
  heartbeatTimeoutSeconds?: number;
  /** Reported jobs: a job not finished this long after creation fails as expired. */
  timeoutSeconds?: number;
  metadata?: Record<string, unknown>;
  /** Labels given at creation (with its batch's), to list, count and wait on jobs together. */
  tags?: string[];
  /** The batch (`createJobs`) that created the job. */
  batchId?: string;
  /** What kind of work the job is: the server predicts its end from finished jobs of the kind. */
  kind?: string;
  /** How much work the job is: predictions scale with it. */
  size?: number;
  /** Pending jobs: when the job is expected to end, and on what basis. */
  expectedEnd?: ExpectedEnd;
  callbackUrl?: string;
  notifyEmail?: string;
}

/** Quantiles of a duration in milliseconds. */
export interface DurationQuantiles {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

/** A pending job's expected end (docs/predicted-waits.md). */
export interface ExpectedEnd {
  /** `timer`: exact (`etaMs`, `dueAt`); `worker`: the worker's own ETA; `history`: predicted from finished jobs of its kind. */
  basis: 'timer' | 'worker' | 'history';
  /** History: too few finished jobs of the kind; nothing is predicted. */
  cold?: boolean;
  /** History: finished jobs of the kind the prediction rests on. */
  samples?: number;
  /** History: milliseconds until the job has ended with probability 50%, given it still runs (never 0). */
  p50Ms?: number;
  /** History: the same at 90%. */
  p90Ms?: number;
  /** History: the same at 99%. */
  p99Ms?: number;
  /** History: quantiles of the whole length of jobs like it, from creation, scaled by its size. */
  length?: DurationQuantiles;
  /** History: the job's age at the answer. */
  ageMs?: number;
  /** History: the job runs past its p99 by the server's overdue factor. */
  overdue?: boolean;
}

/** Body of `POST /v1/jobs`: with `duration` a simulated timer; without it a job a worker reports on (see `JobwaitClient.reporter`). */
export interface CreateJobInput {
  /** Seconds the simulated job runs; leave it out for a job a worker reports on. */
  duration?: number;
  /** Simulated jobs: force the outcome; otherwise the server's error rate decides. */
  outcome?: 'completed' | 'error';
  /** Reported jobs: fail as `JOBWAIT_ERR_JOB_STALLED` when a started job has no report this long (default: never). */
  heartbeatTimeoutSeconds?: number;
  /** Reported jobs: fail as `JOBWAIT_ERR_JOB_EXPIRED` when still pending this long after creation (default: the server's). */
  timeoutSeconds?: number;
  /** Extra webhook events: `job.progress`, at most every 500 ms per job; `job.overdue`, once, when a job of a known kind runs past its predicted p99 by the server's overdue factor. */
  webhookEvents?: ('job.progress' | 'job.overdue')[];
  /** Webhook target for this job's final state. */
  callbackUrl?: string;
  /** Email address told of the final state. */
  notifyEmail?: string;
  /** Free-form JSON kept with the job. */
  metadata?: Record<string, unknown>;
  /** Up to 10 short labels (1-64 of `A-Z a-z 0-9 _ . : -`), to list, count and wait on jobs together. */
  tags?: string[];
  /** What kind of work it is (1-64 of A-Z a-z 0-9 _ . : -): the server learns how long the kind takes and predicts the end. */
  kind?: string;
  /** How much work it is (e.g. minutes of video): the kind is learnt and predicted per unit of it. */
  size?: number;
}

/** What `createJob` answers: the job, and for a reported job the token its worker reports with. */
export type CreatedJob = Job & {
  /** Reported jobs: the worker's capability for this one job; pass it to `client.reporter(job.id, job.reportToken)`. Shown only by the create. */
  reportToken?: string;
};

/** Jobs of a set by status (`pending` … `canceled`), with the share that has ended. */
export interface SetCounts {
  total: number;
  pending: number;
  completed: number;
  error: number;
  canceled: number;
  /** Share of the jobs that have ended, 0..1. */
  progress: number;
}

/** A batch (`POST /v1/batches`) with its counts. */
export interface Batch {
  id: string;
  createdAt: string;
  /** Jobs created with it. */
  total: number;
  tags?: string[];
  counts: SetCounts;
}

/** What `createJobs` answers: the batch and its jobs, in the order given. */
export interface CreatedBatch {
  batch: Batch;
  jobs: CreatedJob[];
}

/** One page of `GET /v1/jobs`. */
export interface JobPage {
  jobs: Job[];
  /** Pass to the next `listJobs` call; absent on the last page. */
  nextCursor?: string;
}

/** True once `job` will not change any more. */
export function isTerminal(job: Pick<Job, 'status'>): boolean {
  return job.status !== 'pending';
}

const STATUSES: ReadonlySet<string> = new Set(['pending', 'completed', 'error', 'canceled']);

/** Checks that a decoded body looks like a job, so a broken proxy answer is not taken for one. */
export function isJob(value: unknown): value is Job {
  if (typeof value !== 'object' || value === null) return false;
  const job = value as Record<string, unknown>;
  return typeof job.id === 'string' && typeof job.status === 'string' && STATUSES.has(job.status) && typeof job.version === 'number';
}
