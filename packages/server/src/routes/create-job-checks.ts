/**
 * The checks of a job's create body beyond its schema, shared by `POST /v1/jobs` (one job) and
 * `POST /v1/batches` (each job, named by its index).
 */
import type { CreateJobBody } from './schemas.js';

/** Largest `metadata`, serialized. */
const MAX_METADATA_BYTES = 16 * 1024;
/** Deepest `metadata` nesting: a body of 64 KiB can nest 30,000 levels, and JSON.stringify (size check, fingerprint, store) overflowed the stack on it: a 500. */
const MAX_METADATA_DEPTH = 32;

/** What the checks need to know of the server. */
export interface CreateJobLimits {
  maxDurationSeconds: number;
  /** Why a `callbackUrl` may not be called (scheme, loopback/private targets after DNS), or `undefined` when it may. */
  refuseCallbackUrl?: ((url: string) => Promise<string | undefined>) | undefined;
}

/** Why `body` cannot be created (a message for a 400), or `undefined` when it can. */
export async function createJobProblem(body: CreateJobBody, limits: CreateJobLimits): Promise<string | undefined> {
  if (body.duration !== undefined && body.duration > limits.maxDurationSeconds) return `duration must be at most ${limits.maxDurationSeconds} seconds`;
  if (body.duration === undefined && body.outcome !== undefined) return 'outcome is only for simulated jobs (with duration): a worker decides how a reported job ends';
  if (body.duration !== undefined) {
    for (const name of ['heartbeatTimeoutSeconds', 'timeoutSeconds', 'webhookEvents'] as const) {
      if (body[name] !== undefined) return `${name} is only for reported jobs (created without duration)`;
    }
  }
  if (body.metadata !== undefined && nestsDeeperThan(body.metadata, MAX_METADATA_DEPTH)) return `metadata must nest at most ${MAX_METADATA_DEPTH} levels deep`;
  if (body.metadata !== undefined && Buffer.byteLength(JSON.stringify(body.metadata)) > MAX_METADATA_BYTES) return `metadata must serialize to at most ${MAX_METADATA_BYTES} bytes`;
  if (body.callbackUrl !== undefined && limits.refuseCallbackUrl) {
    const reason = await limits.refuseCallbackUrl(body.callbackUrl);
    if (reason !== undefined) return `callbackUrl ${reason}`;
  }
  return undefined;
}

/** True when `value` has objects or arrays nested more than `limit` levels deep; iterative, so no depth overflows it. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}
