/**
 * Every Redis key and channel name jobwait uses, in one place. All sit under
 * the deployment's prefix (default `jobwait:`); `<t>` is a tenant escaped by
 * {@link tenantKey}, so it never holds `:` or `|`.
 *
 * Jobs (engines/redis/redis-job-store.ts):
 * - `job:<id>` — hash of one job; carries its tenant, which every read checks.
 *   Expires `retention` after the job became final, unless it is its tenant's current timer.
 * - `t:<t>:jobs` — sorted set (all scores 0) of the tenant's ids: ULIDs sort in
 *   creation order, so ZREVRANGEBYLEX lists newest first and a cursor is an id.
 * - `t:<t>:changes` — the tenant's ids by the time of their latest effective change.
 * - `t:<t>:status:<state>` — set of the tenant's ids by stored state (pending, completed, error,
 *   canceled), kept by the scripts that create, settle, cancel and clean up jobs; their sizes are the counts.
 * - `t:<t>:counted` — `done` once those sets hold every job of the tenant (jobs stored before the
 *   sets existed are added by lua/count-jobs-7.lua, a batch per call; the value is the last id added until then).
 * - `t:<t>:idem:<key>` — hash {fingerprint, job} of an Idempotency-Key; expires `retention` after its
 *   job's due time, and counts only while its job exists.
 * - `t:<t>:timer` — id of the tenant's seed-API current timer.
 * - `t:<t>:tag:<tag>` — sorted set (scores 0) of the ids of the tenant's jobs with that tag; ids
 *   of jobs past retention leave it when a read finds their hash gone.
 * - `t:<t>:batch:<id>` — hash of a batch {id, created_at, total, tags}; `t:<t>:batch:<id>:jobs` — its
 *   ids (sorted set, scores 0). Both expire `retention` after the latest deadline of its jobs.
 * - `t:<t>:bidem:<key>` — hash {fingerprint, batch} of a batch's Idempotency-Key, as long as the batch.
 * - `t:<t>:watch:<id>` — JSON of a watch's selector; expires with the watch.
 * - `due` — pending jobs by due time; member `<t>|<id>`.
 * - `expiring` — final jobs by expiry time; member `<t>|<id>`.
 * - `unnotified` — final jobs whose final-state work is not confirmed, by when they became final.
 * - `server-alive` — the last time (ms) an instance said the server was up (each does every second).
 * - `up-since` — when the server came back after its last outage (no instance up, or Redis down):
 *   running jobs whose last report is older get one heartbeat interval from then (restart grace).
 * Keys (engines/redis/redis-key-store.ts): `apikey:<id>` (hash), `apikeys` (all ids),
 * `apikeys:active` (ids not revoked), `access` (hash {mode, since, reason}: mode `keys` from the first
 * key made, `open` only after `jobwait keys open-access`; absent on older data, read as `keys` if `apikeys` exists).
 * Deliveries (engines/redis/redis-delivery-store.ts): `dlv:<id>` (hash), `deliveries:due`,
 * `dlvjob:<tenant>:<jobId>` (URI-encoded parts), `dlv-disabled`, `dlv-settings`, `dlv-claim:<token>`.
 * Duration models (engines/redis/redis-model-store.ts): `t:<t>:model:<kind>` (JSON of predict/duration-model.ts).
 * Rate limits: `ratelimit:<bucket>`. Change feed: the pub/sub channel `changes`.
 *
 * lua/cleanup-expired-2.lua builds `job:<id>`, `t:<t>:jobs`, `t:<t>:changes`, `t:<t>:status:<state>`, `t:<t>:timer`,
 * `dlvjob:…` and `dlv:<id>` from the prefix itself (lua/settle-due-3.lua `t:<t>:timer` and `t:<t>:status:<state>`), so scripts need one Redis primary (standalone or Sentinel), not Redis Cluster.
 */
import type { JobStatus } from '../../jobs/job-record.js';

/** The key names under one prefix. */
export interface RedisKeys {
  readonly prefix: string;
  job(id: string): string;
  tenantJobs(tenant: string): string;
  tenantChanges(tenant: string): string;
  /** The set of the tenant's ids whose stored state is `state`. */
  tenantStatus(tenant: string, state: JobStatus): string;
  tenantCounted(tenant: string): string;
  idempotency(tenant: string, key: string): string;
  timer(tenant: string): string;
  /** The tenant's ids with tag `tag`. */
  tag(tenant: string, tag: string): string;
  batch(tenant: string, id: string): string;
  batchJobs(tenant: string, id: string): string;
  batchIdempotency(tenant: string, key: string): string;
  watch(tenant: string, id: string): string;
  /** `<t>|<id>`: a job's member in the due, expiring and unnotified sets. */
  ref(tenant: string, id: string): string;
  readonly due: string;
  readonly expiring: string;
  readonly unnotified: string;
  readonly serverAlive: string;
  readonly upSince: string;
  apiKey(id: string): string;
  readonly apiKeys: string;
  readonly activeApiKeys: string;
  readonly access: string;
  delivery(id: string): string;
  readonly deliveriesDue: string;
  jobDeliveries(tenant: string, jobId: string): string;
  readonly disabledEndpoints: string;
  readonly notifySettings: string;
  claim(token: string): string;
  rateLimit(bucket: string): string;
  /** The tenant's duration model of one job kind (JSON). */
  model(tenant: string, kind: string): string;
  readonly changesChannel: string;
}

/** The key names under `prefix`. */
export function redisKeys(prefix: string): RedisKeys {
  return {
    prefix,
    job: (id) => `${prefix}job:${id}`,
    tenantJobs: (tenant) => `${prefix}t:${tenantKey(tenant)}:jobs`,
    tenantChanges: (tenant) => `${prefix}t:${tenantKey(tenant)}:changes`,
    tenantStatus: (tenant, state) => `${prefix}t:${tenantKey(tenant)}:status:${state}`,
    tenantCounted: (tenant) => `${prefix}t:${tenantKey(tenant)}:counted`,
    idempotency: (tenant, key) => `${prefix}t:${tenantKey(tenant)}:idem:${key}`,
    timer: (tenant) => `${prefix}t:${tenantKey(tenant)}:timer`,
    tag: (tenant, tag) => `${prefix}t:${tenantKey(tenant)}:tag:${tag}`,
    batch: (tenant, id) => `${prefix}t:${tenantKey(tenant)}:batch:${id}`,
    batchJobs: (tenant, id) => `${prefix}t:${tenantKey(tenant)}:batch:${id}:jobs`,
    batchIdempotency: (tenant, key) => `${prefix}t:${tenantKey(tenant)}:bidem:${key}`,
    watch: (tenant, id) => `${prefix}t:${tenantKey(tenant)}:watch:${id}`,
    ref: (tenant, id) => `${tenantKey(tenant)}|${id}`,
    due: `${prefix}due`,
    expiring: `${prefix}expiring`,
    unnotified: `${prefix}unnotified`,
    serverAlive: `${prefix}server-alive`,
    upSince: `${prefix}up-since`,
    apiKey: (id) => `${prefix}apikey:${id}`,
    apiKeys: `${prefix}apikeys`,
    activeApiKeys: `${prefix}apikeys:active`,
    access: `${prefix}access`,
    delivery: (id) => `${prefix}dlv:${id}`,
    deliveriesDue: `${prefix}deliveries:due`,
    jobDeliveries: (tenant, jobId) => `${prefix}dlvjob:${encodeURIComponent(tenant)}:${encodeURIComponent(jobId)}`,
    disabledEndpoints: `${prefix}dlv-disabled`,
    notifySettings: `${prefix}dlv-settings`,
    claim: (token) => `${prefix}dlv-claim:${token}`,
    rateLimit: (bucket) => `${prefix}ratelimit:${bucket}`,
    model: (tenant, kind) => `${prefix}t:${tenantKey(tenant)}:model:${kind}`,
    changesChannel: `${prefix}changes`,
  };
}

/** A tenant as a key segment: only `[A-Za-z0-9_.-]` stay, everything else is %-escaped, so `:` and `|` stay delimiters. */
export function tenantKey(tenant: string): string {
  let out = '';
  for (const byte of Buffer.from(tenant, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
