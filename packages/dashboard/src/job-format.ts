/**
 * Pure functions behind the job list: local progress between server events,
 * the status filter, and the words shown for a job.
 */
import type { Job, JobStatus } from '@jobwait/client';
import { predictedRange } from '@jobwait/client/internal';

/** Status filter of the list; `''` shows every job. */
export type StatusFilter = JobStatus | '';

/** Words shown in a job's badge. */
export const STATUS_LABELS: Readonly<Record<JobStatus, string>> = Object.freeze({
  pending: 'Pending',
  completed: 'Completed',
  error: 'Error',
  canceled: 'Canceled',
});

/**
 * Server clock minus this browser's clock, in milliseconds, as seen in a fresh snapshot of a
 * pending job (`etaMs` is counted from the moment the server sent it); undefined when the snapshot cannot tell.
 */
export function clockSkew(job: Job, receivedAt: number): number | undefined {
  if (job.dueAt === undefined || job.etaMs === undefined) return undefined;
  const dueAt = Date.parse(job.dueAt);
  if (job.status !== 'pending' || !Number.isFinite(dueAt) || !(job.etaMs > 0)) return undefined;
  return dueAt - job.etaMs - receivedAt;
}

/**
 * Fraction done at local time `now`: a pending timer moves on between events; a reported job
 * (no `duration`: its worker says how far it is) and a final job show the server's value.
 */
export function progressAt(job: Job, now: number, skewMs: number): number {
  if (job.status !== 'pending' || job.duration === undefined || job.dueAt === undefined) return clamp01(job.progress);
  const start = Date.parse(job.createdAt);
  const end = Date.parse(job.dueAt);
  if (!Number.isFinite(start) || !Number.isFinite(end)) return clamp01(job.progress);
  if (end <= start) return 1;
  return clamp01((now + skewMs - start) / (end - start));
}

/** Milliseconds left at local time `now`, 0 once due. */
export function remainingAt(job: Job, now: number, skewMs: number): number {
  if (job.dueAt === undefined) return 0;
  const end = Date.parse(job.dueAt);
  if (job.status !== 'pending' || !Number.isFinite(end)) return 0;
  return Math.max(0, end - (now + skewMs));
}

/** A length of time for people: `0.4 s`, `12 s`, `2 min 5 s`, `1 h 30 min`. */
export function formatDuration(ms: number): string {
  if (!(ms > 0)) return '0 s';
  if (ms < 10_000) return `${trimZero((ms / 1000).toFixed(1))} s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 60) return `${totalSeconds} s`;
  const totalMinutes = Math.floor(totalSeconds / 60);
  if (totalMinutes < 60) {
    const s = totalSeconds % 60;
    return s === 0 ? `${totalMinutes} min` : `${totalMinutes} min ${s} s`;
  }
  const hours = Math.floor(totalMinutes / 60);
  const m = totalMinutes % 60;
  return m === 0 ? `${hours} h` : `${hours} h ${m} min`;
}

/** The line under a job's progress bar. */
export function describeState(job: Job, remainingMs: number, formatTime: (iso: string) => string): string {
  switch (job.status) {
    case 'pending':
      if (job.duration === undefined) {
        // A reported job: what its worker last said, and its estimate when it gave one.
        if (job.startedAt === undefined) return `Waiting for a worker${predictedSuffix(job)}`;
        return `${job.message || 'Running'}${remainingMs > 0 ? ` · ${formatDuration(remainingMs)} left` : predictedSuffix(job)}`;
      }
      return remainingMs > 0 ? `${formatDuration(remainingMs)} left` : 'Finishing…';
    case 'completed':
      return `Completed at ${formatTime(job.updatedAt)}`;
    case 'error':
      // A worker's own code says what failed (TRANSCODE, JOBWAIT_ERR_JOB_STALLED); 0.1.0's simulated failure says it in words.
      return `Failed at ${formatTime(job.updatedAt)}${job.error?.message ? `: ${job.error.message}` : ''}${job.error?.code && job.error.code !== 'JOB_FAILED' ? ` (${job.error.code})` : ''}`;
    case 'canceled':
      return `Canceled at ${formatTime(job.updatedAt)}`;
    default:
      return '';
  }
}

/** What history predicts of a reported job with no estimate from its worker: ` · 2–3 min left`, ` · overdue`, or nothing. */
export function predictedSuffix(job: Pick<Job, 'expectedEnd'>): string {
  const range = predictedRange(job.expectedEnd);
  return range === undefined ? '' : ` · ${range}`;
}

/** Longest result text shown in a row (the whole result is in the API). */
const RESULT_TEXT_CHARS = 200;

/** How a row shows a completed job's result: a link for an http(s) URL, else its text. */
export type ResultDisplay = { href: string; text: string } | { text: string };

/**
 * A job's `result` for its row: a link when it is an http(s) URL (the string itself, or its `url`
 * member), else its text (a string as is, anything else as JSON), cut at 200 characters;
 * `undefined` without a result. Only http: and https: become links (never `javascript:`, `data:`…).
 * @example resultDisplay('https://cdn.example/a.mp4') // {href: 'https://cdn.example/a.mp4', text: 'https://cdn.example/a.mp4'}
 */
export function resultDisplay(result: unknown): ResultDisplay | undefined {
  if (result === undefined || result === null) return undefined;
  const candidate = typeof result === 'string' ? result : typeof result === 'object' && !Array.isArray(result) ? (result as { url?: unknown }).url : undefined;
  const href = typeof candidate === 'string' ? httpUrl(candidate) : undefined;
  if (href) return { href, text: cut(candidate as string) };
  return { text: cut(typeof result === 'string' ? result : JSON.stringify(result)) };
}

/** `text` as an absolute http(s) URL, normalized; `undefined` for anything else. */
function httpUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
}

function cut(text: string): string {
  return text.length > RESULT_TEXT_CHARS ? `${text.slice(0, RESULT_TEXT_CHARS)}…` : text;
}

/** True when `job` shows under `filter`. */
export function matchesFilter(job: Job, filter: StatusFilter): boolean {
  return filter === '' || job.status === filter;
}

/**
 * Seconds from the start form, or a message saying what is wrong. The upper bound is the
 * server's to check (it is configurable there), and its answer is shown as is.
 * @example parseDuration('2.5') // {seconds: 2.5}
 */
export function parseDuration(text: string): { seconds: number } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { error: 'Enter a duration in seconds.' };
  const seconds = Number(trimmed);
  if (!Number.isFinite(seconds) || seconds <= 0) return { error: 'The duration must be a number of seconds greater than 0.' };
  return { seconds };
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

function trimZero(text: string): string {
  return text.endsWith('.0') ? text.slice(0, -2) : text;
}

/** How long a job ran (or has run until its last change): a timer's duration, else from creation to its last update. */
export function ranMs(job: Pick<Job, 'duration' | 'createdAt' | 'updatedAt'>): number {
  if (job.duration !== undefined) return job.duration * 1000;
  return Math.max(0, Date.parse(job.updatedAt) - Date.parse(job.createdAt));
}
