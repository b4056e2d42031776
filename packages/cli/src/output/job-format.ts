/** Text forms of a job for people. */
import type { Job } from '@jobwait/client';
import { formatSeconds } from './progress-bar.js';

/** One line: id, status, progress or outcome. */
export function jobLine(job: Job): string {
  const detail = job.status === 'pending' ? `${Math.round(job.progress * 100)}%  ETA ${formatSeconds(job.etaMs)}` : job.status === 'error' && job.error ? job.error.message : '';
  return `${job.id}  ${job.status.padEnd(9)} ${detail}`.trimEnd();
}

/** A table of jobs, newest first. */
export function jobTable(jobs: Job[]): string {
  if (jobs.length === 0) return 'no jobs';
  const header = `${'ID'.padEnd(30)}  ${'STATUS'.padEnd(9)}  ${'PROGRESS'.padStart(8)}  ${'DURATION'.padStart(8)}  CREATED`;
  const rows = jobs.map(
    (job) =>
      `${job.id.padEnd(30)}  ${job.status.padEnd(9)}  ${`${Math.round(job.progress * 100)}%`.padStart(8)}  ${`${job.duration}s`.padStart(8)}  ${job.createdAt}`,
  );
  return [header, ...rows].join('\n');
}
