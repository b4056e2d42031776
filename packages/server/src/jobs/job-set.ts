/**
 * A set of jobs waited on together: given ids (a watch), a tag or a batch. What belongs
 * to one, and the counts of one as the API shows them (`{total, pending, completed, error,
 * canceled}` and the share that has ended, after OpenAI's batch `request_counts`).
 */
import type { JobCounts, JobSelector } from '../store/job-store.js';
import { effectiveState, isFinal, type JobRecord, type JobStatus } from './job-record.js';

/** Most ids one request names (a batch create, a lookup, a watch). */
export const MAX_SET_IDS = 1000;

/** Most jobs of a tag or batch one count or wait considers (oldest first). */
export const MAX_GROUP_JOBS = 100_000;

/** Counts of a set, as the API shows them. */
export interface SetCounts extends JobCounts {
  total: number;
  /** Share of the set's jobs that have ended (0..1; 1 for an empty set). */
  progress: number;
}

/** Zero counts. */
export function emptyCounts(): SetCounts {
  return { total: 0, pending: 0, completed: 0, error: 0, canceled: 0, progress: 1 };
}

/** Adds one job of status `status` to `counts` (or takes one away with `by = -1`), keeping `total` and `progress`. */
export function countJob(counts: SetCounts, status: JobStatus, by: 1 | -1 = 1): void {
  counts[status] += by;
  counts.total += by;
  counts.progress = setProgress(counts.total, counts.pending);
}

/** Share of a set's `total` jobs that have ended, to three decimals (1 for an empty set). */
export function setProgress(total: number, pending: number): number {
  return total === 0 ? 1 : Math.round(((total - pending) / total) * 1000) / 1000;
}

/** The counts of `jobs` as they read at `now`. */
export function countSet(jobs: Iterable<JobRecord>, now: number): SetCounts {
  const counts = emptyCounts();
  for (const job of jobs) countJob(counts, effectiveState(job, now).status);
  return counts;
}

/** True when every counted job has ended. */
export function allEnded(counts: SetCounts): boolean {
  return counts.pending === 0;
}

/** True when `job` belongs to the tag or batch of `selector` (a watch of ids is decided by its id list). */
export function inGroup(selector: JobSelector, job: JobRecord): boolean {
  if ('tag' in selector) return job.tags?.includes(selector.tag) === true;
  if ('batch' in selector) return job.batchId === selector.batch;
  return false;
}

/** True once `job` will not change. */
export function hasEnded(job: JobRecord, now: number): boolean {
  return isFinal(effectiveState(job, now).status);
}
