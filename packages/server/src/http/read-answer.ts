/**
 * The answers of the two hot reads, `GET /v1/jobs/{id}` and the seed's
 * `GET /status`, as status, headers (in the order they are sent) and body.
 * Both ways a read is answered use them: the Fastify routes and the early
 * path ahead of Fastify's router (http/early-reads.ts), so the two send the
 * same bytes.
 */
import { effectiveState, jobEtag, type JobRecord } from '../jobs/job-record.js';
import { retryAfterSeconds } from '../jobs/transition.js';
import { JSON_TYPE, jobBody, jobHeaders, knownVersion, READ_VARY } from './job-answer.js';

/** An answer: status, header lines by lower-case name in the order they are sent, and the body (none for a 304). */
export interface ReadAnswer {
  status: 200 | 304;
  headers: Record<string, string>;
  body: string | undefined;
}

/** The three bodies of `GET /status`, serialized once. */
const STATUS_BODIES = { pending: '{"result":"pending"}', completed: '{"result":"completed"}', error: '{"result":"error"}' } as const;

/** The seed's `result` for a timer (a canceled one reads as `error`), and `Retry-After` (whole seconds until due) while pending. */
export function seedStatus(job: JobRecord, now: number): { result: 'pending' | 'completed' | 'error'; retryAfter?: string } {
  const { status } = effectiveState(job, now);
  if (status === 'pending') return { result: status, retryAfter: String(retryAfterSeconds(job, now) ?? 1) };
  return { result: status === 'canceled' ? 'error' : status };
}

/**
 * A read of `job` (with its kind's history attached, if it has a kind) at `now`: 304 when the
 * client's `If-None-Match` names its version, else the job with its ETag and `Retry-After`.
 */
export function answerJobRead(job: JobRecord, ifNoneMatch: string | undefined, now: number): ReadAnswer {
  const known = knownVersion(ifNoneMatch, job.id);
  if (known !== undefined && effectiveState(job, now).version === known) {
    return { status: 304, headers: { vary: READ_VARY, etag: jobEtag(job.id, known) }, body: undefined };
  }
  return { status: 200, headers: { vary: READ_VARY, ...jobHeaders(job, now) }, body: jobBody(job, now) };
}

/** The seed's `GET /status` of the current timer `job` at `now`. */
export function answerStatusRead(job: JobRecord, now: number): ReadAnswer {
  const { result, retryAfter } = seedStatus(job, now);
  return { status: 200, headers: retryAfter === undefined ? { 'content-type': JSON_TYPE } : { 'retry-after': retryAfter, 'content-type': JSON_TYPE }, body: STATUS_BODIES[result] };
}
