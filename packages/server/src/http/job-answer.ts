/**
 * How a job is answered over HTTP (reads, long-polls, creates, cancels, event
 * streams): its body serialized once per stored record, its headers as one
 * object, and the version an `If-None-Match` names.
 */
import { effectiveState, jobEtag, jobView, progressOf, type JobRecord } from '../jobs/job-record.js';
import { isReported, retryAfterSeconds } from '../jobs/transition.js';
import { predictedRetryAfterSeconds } from '../predict/expected-end.js';

/** `Vary` of every read: the answer depends on a long-poll preference and on the ETag the client holds. */
export const READ_VARY = 'Prefer, If-None-Match';

/** Content type of every JSON answer. */
export const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Headers of final records, by record: past due a record reads the same for ever, and every waiter
 * of a job is handed the same published record, so a wake-up builds them once per job.
 */
const finalHeaders = new WeakMap<JobRecord, Readonly<Record<string, string>>>();

/**
 * Headers of an answer that carries job `record` as it reads at `now`: JSON, ETag, no caching, and
 * `Retry-After` while pending. Shared between answers: read it, never change it.
 */
export function jobHeaders(record: JobRecord, now: number): Readonly<Record<string, string>> {
  const { status, version } = effectiveState(record, now);
  if (status !== 'pending') {
    let headers = finalHeaders.get(record);
    if (!headers) finalHeaders.set(record, (headers = { 'content-type': JSON_TYPE, etag: jobEtag(record.id, version), 'cache-control': 'no-store' }));
    return headers;
  }
  const headers: Record<string, string> = { 'content-type': JSON_TYPE, etag: jobEtag(record.id, version), 'cache-control': 'no-store' };
  // Until the known end; with none, a delay that grows with the job's age (jobs/transition.ts).
  const retryAfter = predictedRetryAfterSeconds(record, now, record.history) ?? retryAfterSeconds(record, now);
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  return headers;
}

/** Version named by an `If-None-Match` ETag of job `id`, if any. */
export function knownVersion(header: string | undefined, id: string): number | undefined {
  if (!header) return undefined;
  for (const tag of header.split(',')) {
    const match = /^\s*(?:W\/)?"([^"]+)\.(\d+)"\s*$/.exec(tag);
    if (match && match[1] === id) return Number(match[2]);
  }
  return undefined;
}

/**
 * A pending job's JSON around its two moving numbers (`progress`, `etaMs`), or a final job's
 * whole JSON, by record. Records are snapshots no one changes, so each is serialized once and
 * every read of it fills in two numbers.
 */
const bodies = new WeakMap<JobRecord, string | [head: string, tail: string]>();

/** Marks where the moving numbers go in a pending job's JSON. */
const PROGRESS_KEY = '"progress":';
const TAIL_KEY = ',"createdAt":';

/** `JSON.stringify(jobView(record, now))`, from a per-record template: each read fills in two numbers rather than serializing a view. */
export function jobBody(record: JobRecord, now: number): string {
  const cached = bodies.get(record);
  const pending = effectiveState(record, now).status === 'pending';
  // A reported job's progress is its worker's, not the clock's: only a timer's body has moving numbers.
  if (pending && isReported(record)) return JSON.stringify(jobView(record, now));
  if (!pending) {
    // Past due, a record reads the same for ever, settled or not.
    if (typeof cached === 'string') return cached;
    const body = JSON.stringify(jobView(record, now));
    bodies.set(record, body);
    return body;
  }
  let parts = cached;
  if (parts === undefined || typeof parts === 'string') {
    // The view's first members are id, status, progress, etaMs, then createdAt: cut around the two numbers.
    const whole = JSON.stringify(jobView(record, now));
    const progressAt = whole.indexOf(PROGRESS_KEY) + PROGRESS_KEY.length;
    parts = [whole.slice(0, progressAt), whole.slice(whole.indexOf(TAIL_KEY))];
    bodies.set(record, parts);
  }
  return `${parts[0]}${progressOf(record, now)},"etaMs":${Math.max(0, record.dueAt! - now)}${parts[1]}`;
}
