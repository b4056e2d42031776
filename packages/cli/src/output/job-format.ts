/** Text forms of a job for people. */
import type { Job } from '@jobwait/client';
import { formatSeconds } from './progress-bar.js';
import { predictedRange } from '@jobwait/client/internal';

/** One line: id, status, progress or outcome, and the worker's message when it gave one. */
export function jobLine(job: Job): string {
  let detail = '';
  if (job.status === 'pending') detail = `${Math.round(job.progress * 100)}%  ${etaText(job)}`;
  else if (job.status === 'error' && job.error) detail = job.error.message;
  if (job.message) detail += `  ${job.message}`;
  return `${job.id}  ${job.status.padEnd(9)} ${detail}`.trimEnd();
}

/** `ETA 4.2s`; for a reported job with no estimate, what history predicts (`2–3 min left`), else `ETA unknown`. */
export function etaText(job: Pick<Job, 'etaMs' | 'expectedEnd'>): string {
  if (job.etaMs !== undefined) return `ETA ${formatSeconds(job.etaMs)}`;
  return predictedRange(job.expectedEnd) ?? 'ETA unknown';
}

/** A table of jobs, newest first. */
export function jobTable(jobs: Job[]): string {
  if (jobs.length === 0) return 'no jobs';
  const header = `${'ID'.padEnd(30)}  ${'STATUS'.padEnd(9)}  ${'PROGRESS'.padStart(8)}  ${'DURATION'.padStart(8)}  CREATED`;
  const rows = jobs.map(
    (job) =>
      `${job.id.padEnd(30)}  ${job.status.padEnd(9)}  ${`${Math.round(job.progress * 100)}%`.padStart(8)}  ${(job.duration === undefined ? 'reported' : `${job.duration}s`).padStart(8)}  ${job.createdAt}`,
  );
  return [header, ...rows].join('\n');
}
