/**
 * A group of jobs the dashboard can narrow to: the jobs of one batch or with
 * one tag. Pure functions: reading what the user typed, telling whether a snapshot belongs, and
 * the words shown for a group's counts.
 */
import type { Job } from '@jobwait/client';

/** The jobs of a batch (`bat_…`) or with a tag. */
export type JobScope = { kind: 'batch'; id: string } | { kind: 'tag'; tag: string };

/** A batch id as the server makes them: `bat_` and a ULID. */
const BATCH_ID = /^bat_[0-9A-HJKMNP-TV-Z]{26}$/i;
/** A tag as the server accepts it (packages/server/src/routes/schemas.ts tagSchema). */
const TAG = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/**
 * The scope typed in the group box: a batch id when it has a batch id's shape, a tag otherwise;
 * or a message saying what is wrong.
 * @example parseScope('bat_01jdq3m8z4aaaaaaaaaaaaaaaa') // {scope: {kind: 'batch', id: 'bat_01JDQ3M8Z4AAAAAAAAAAAAAAAA'}}
 */
export function parseScope(text: string): { scope: JobScope } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { error: 'Enter a tag or a batch id.' };
  if (BATCH_ID.test(trimmed)) return { scope: { kind: 'batch', id: `bat_${trimmed.slice(4).toUpperCase()}` } };
  if (TAG.test(trimmed)) return { scope: { kind: 'tag', tag: trimmed } };
  return { error: 'A tag is 1 to 64 of A-Z a-z 0-9 _ . : - (starting with a letter or digit); a batch id is bat_ and 26 letters and digits.' };
}

/** True when `job` belongs to `scope`; every job does without one. A job's tags and batch never change. */
export function matchesScope(job: Pick<Job, 'tags' | 'batchId'>, scope: JobScope | undefined): boolean {
  if (scope === undefined) return true;
  return scope.kind === 'batch' ? job.batchId === scope.id : job.tags?.includes(scope.tag) === true;
}

/** A key that tells scopes apart (`''` for all jobs). */
export function scopeKey(scope: JobScope | undefined): string {
  return scope === undefined ? '' : scope.kind === 'batch' ? `batch:${scope.id}` : `tag:${scope.tag}`;
}

/** The query parameter of `GET /v1/jobs` and `GET /v1/jobs/counts` that narrows to `scope`. */
export function scopeParams(scope: JobScope | undefined): Record<string, string> {
  if (scope === undefined) return {};
  return scope.kind === 'batch' ? { batch: scope.id } : { tag: scope.tag };
}

/** What the scope is called on the page: `Batch bat_…` or `Tag nightly`. */
export function describeScope(scope: JobScope): string {
  return scope.kind === 'batch' ? `Batch ${scope.id}` : `Tag ${scope.tag}`;
}

/**
 * A group's progress in words: how many of its jobs have ended.
 * @example describeDone({total: 5, pending: 2}) // '3 of 5 done'
 */
export function describeDone(counts: { total: number; pending: number }, format: (n: number) => string = String): string {
  return `${format(counts.total - counts.pending)} of ${format(counts.total)} done`;
}
