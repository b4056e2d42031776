/**
 * How a job is read over HTTP, in one place for the two paths that answer
 * `GET /v1/jobs/{id}` (the Fastify route and `http/hot-reads.ts`): the
 * headers of the answer, in the order they are sent, and the version an
 * `If-None-Match` names.
 */
import { jobEtag, type JobView } from '../jobs/job-record.js';

/** `Vary` of every read: the answer depends on a long-poll preference and on the ETag the client holds. */
export const READ_VARY = 'Prefer, If-None-Match';

/** Headers of an answer that carries `view`: ETag, no caching, and `Retry-After` (whole seconds until due) while pending. */
export function jobHeaders(view: JobView): [name: string, value: string][] {
  const headers: [string, string][] = [
    ['etag', jobEtag(view.id, view.version)],
    ['cache-control', 'no-store'],
  ];
  if (view.status === 'pending') headers.push(['retry-after', String(Math.max(1, Math.ceil(view.etaMs / 1000)))]);
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
