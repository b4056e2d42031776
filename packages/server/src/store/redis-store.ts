/**
 * The cluster store: jobs in Redis (ioredis), shared by any number of
 * instances. Every transition that must happen once (create with an
 * Idempotency-Key, settle at the due time, cancel) is one Lua script, so it is
 * atomic whichever instance runs it: two instances settling at the same
 * moment claim disjoint jobs, and each settle is published once.
 *
 * Keys, all under `prefix` (default `jobwait:`); `<t>` is the tenant, escaped
 * so that it never contains `:` or `|`:
 * - `job:<id>` — hash of one job; it carries its tenant and every read checks it
 *   (as SQLite's `WHERE id = ? AND tenant = ?`). Ids are ULIDs, unique across
 *   instances. Expires `retentionSeconds` after the job became final.
 * - `t:<t>:jobs` — sorted set, all scores 0, of the tenant's ids: ULIDs sort
 *   lexicographically in creation order, so ZREVRANGEBYLEX lists newest first
 *   and a cursor is just an id.
 * - `t:<t>:changes` — sorted set of the tenant's ids by the time of their
 *   latest (effective) change: `dueAt` while pending, the cancel time once
 *   canceled. Serves `changedSince` without a scan of the whole tenant.
 * - `t:<t>:idem:<key>` — hash {fingerprint, job} of an Idempotency-Key; lives
 *   as long as its job.
 * - `t:<t>:timer` — id of the tenant's seed-API current timer.
 * - `due` — sorted set of pending jobs by due time; member `<t>|<id>`.
 * - `expiring` — sorted set of final jobs by expiry time; member `<t>|<id>`;
 *   the periodic cleanup deletes them and takes them out of the tenant indexes
 *   (list and changedSince also drop dangling ids as they meet them).
 *
 * Scripts compute some key names from the prefix: this needs one Redis
 * primary (standalone or Sentinel), not Redis Cluster.
 */
import type { Redis, RedisOptions } from 'ioredis';
import type { JobRecord, JobStatus } from '../jobs/job-record.js';
import type { Outcome } from '../jobs/outcome.js';
import type { CancelResult, CreateResult, IdempotencyClaim, JobStore, ListQuery } from './job-store.js';
import { closeRedis, openRedis, type RedisLogger } from './redis-connection.js';

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * Redis to connect to (`redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS).
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string;
  /**
   * Prefix of every key (and of the change-feed channel), so tests and deployments sharing one Redis don't collide.
   * @default 'jobwait:'
   */
  prefix?: string;
  /**
   * How long a finished (completed, failed or canceled) job is kept, in seconds.
   * @default 604800 (7 days)
   */
  retentionSeconds?: number;
  /**
   * Interval of the cleanup of expired jobs' index entries, in milliseconds; 0 turns it off.
   * @default 60000
   */
  cleanupIntervalMs?: number;
  /** Extra ioredis options (tests, TLS settings). */
  redisOptions?: RedisOptions;
  /** Where connection trouble is reported. */
  log?: RedisLogger;
}

/** Defaults of {@link RedisStoreOptions}. */
export const REDIS_STORE_DEFAULTS = Object.freeze({
  url: 'redis://127.0.0.1:6379',
  prefix: 'jobwait:',
  retentionSeconds: 7 * 24 * 3600,
  cleanupIntervalMs: 60_000,
});

/** Ids scanned per list script call: bounds how long one call holds Redis when a filter matches few jobs. */
const LIST_SCAN_BUDGET = 1000;
/** Most candidates one `changedSince` considers (a resume after a long absence is bounded like SQLite's LIMIT). */
const CHANGED_SINCE_CAP = 10_000;
/** Expired jobs cleaned per cleanup script call. */
const CLEANUP_BATCH = 500;
/** `/readyz` must answer quickly even when Redis hangs. */
const PING_TIMEOUT_MS = 1000;

const CREATE_SCRIPT = `
-- KEYS: 1 job, 2 tenant index, 3 tenant changes, 4 due, 5 expiring, 6 idempotency key ('' for none)
-- ARGV: 1 id, 2 ref, 3 change score, 4 due score ('' unless pending), 5 expire-at ms ('' unless final),
--       6 fingerprint, 7 idempotency ttl ms, 8 job key prefix, 9.. field/value pairs
if KEYS[6] ~= '' then
  local prior = redis.call('HMGET', KEYS[6], 'fingerprint', 'job')
  if prior[1] then
    if prior[1] ~= ARGV[6] then return {'mismatch'} end
    local existing = redis.call('HGETALL', ARGV[8] .. prior[2])
    if #existing > 0 then return {'replayed', existing} end
  end
end
-- Checked before any write: a script that fails half-way is not rolled back.
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('ERR jobwait: job id already exists') end
if KEYS[6] ~= '' then
  redis.call('HSET', KEYS[6], 'fingerprint', ARGV[6], 'job', ARGV[1])
  redis.call('PEXPIRE', KEYS[6], ARGV[7])
end
redis.call('HSET', KEYS[1], unpack(ARGV, 9))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2]) end
if ARGV[5] ~= '' then
  redis.call('PEXPIREAT', KEYS[1], ARGV[5])
  redis.call('ZADD', KEYS[5], ARGV[5], ARGV[2])
end
return {'created'}
`;

const LIST_SCRIPT = `
-- KEYS: 1 tenant index
-- ARGV: 1 job key prefix, 2 start ('+' or '(<id>'), 3 limit, 4 status ('' for any), 5 now, 6 scan budget
local budget = tonumber(ARGV[6])
local ids = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[2], '-', 'LIMIT', 0, budget)
local limit = tonumber(ARGV[3])
local now = tonumber(ARGV[5])
local out = {}
local last = ''
for _, id in ipairs(ids) do
  last = id
  local key = ARGV[1] .. id
  local s = redis.call('HMGET', key, 'state', 'outcome', 'due_at')
  if not s[1] then
    redis.call('ZREM', KEYS[1], id)
  else
    local status = s[1]
    if status == 'pending' and now >= tonumber(s[3]) then status = s[2] end
    if ARGV[4] == '' or status == ARGV[4] then
      out[#out + 1] = redis.call('HGETALL', key)
      if #out >= limit then break end
    end
  end
end
local exhausted = 0
if #ids < budget then exhausted = 1 end
return {last, exhausted, out}
`;

const CHANGED_SINCE_SCRIPT = `
-- KEYS: 1 tenant changes; ARGV: 1 job key prefix, 2 since, 3 now, 4 cap
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], '+inf', 'LIMIT', 0, tonumber(ARGV[4]))
local since = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  local s = redis.call('HMGET', key, 'state', 'created_at', 'due_at', 'updated_at')
  if not s[1] then
    redis.call('ZREM', KEYS[1], id)
  else
    local updated = tonumber(s[4])
    if s[1] == 'pending' and now >= tonumber(s[3]) then updated = tonumber(s[3]) end
    if tonumber(s[2]) >= since or updated >= since then out[#out + 1] = redis.call('HGETALL', key) end
  end
end
return out
`;

const CANCEL_SCRIPT = `
-- KEYS: 1 job, 2 due, 3 expiring, 4 tenant changes, 5 unnotified
-- ARGV: 1 tenant, 2 now, 3 expire-at ms, 4 ref, 5 id
local s = redis.call('HMGET', KEYS[1], 'tenant', 'state', 'due_at')
if not s[1] or s[1] ~= ARGV[1] then return {'missing'} end
if s[2] == 'pending' and tonumber(s[3]) > tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'state', 'canceled', 'updated_at', ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'version', 1)
  redis.call('ZREM', KEYS[2], ARGV[4])
  redis.call('ZADD', KEYS[4], ARGV[2], ARGV[5])
  local job = redis.call('HGETALL', KEYS[1])
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
  redis.call('ZADD', KEYS[5], ARGV[2], ARGV[4])
  return {'canceled', job}
end
return {'final', redis.call('HGETALL', KEYS[1])}
`;

const SETTLE_SCRIPT = `
-- KEYS: 1 due, 2 expiring, 3 unnotified; ARGV: 1 now, 2 limit, 3 job key prefix, 4 retention ms
-- Claim and change in one script: an instance that runs it after another finds nothing left to settle.
-- Each settled job also goes into the unnotified set (scored by now) until its webhooks are enqueued:
-- if this reply is lost, the change is still made, and a later sweep does the rest.
local refs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, ref in ipairs(refs) do
  redis.call('ZREM', KEYS[1], ref)
  local sep = string.find(ref, '|', 1, true)
  local key = ARGV[3] .. string.sub(ref, sep + 1)
  local s = redis.call('HMGET', key, 'state', 'outcome', 'due_at')
  if s[1] == 'pending' then
    redis.call('HSET', key, 'state', s[2], 'updated_at', s[3])
    redis.call('HINCRBY', key, 'version', 1)
    out[#out + 1] = redis.call('HGETALL', key)
    local expireAt = string.format('%.0f', tonumber(s[3]) + tonumber(ARGV[4]))
    redis.call('PEXPIREAT', key, expireAt)
    redis.call('ZADD', KEYS[2], expireAt, ref)
    redis.call('ZADD', KEYS[3], ARGV[1], ref)
  end
end
return out
`;

const TIMER_SCRIPT = `
-- KEYS: 1 timer; ARGV: 1 job key prefix
local id = redis.call('GET', KEYS[1])
if not id then return {} end
return redis.call('HGETALL', ARGV[1] .. id)
`;

const CLEANUP_SCRIPT = `
-- KEYS: 1 expiring; ARGV: 1 now, 2 limit, 3 key prefix
local refs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, ref in ipairs(refs) do
  local sep = string.find(ref, '|', 1, true)
  local tenant = string.sub(ref, 1, sep - 1)
  local id = string.sub(ref, sep + 1)
  redis.call('DEL', ARGV[3] .. 'job:' .. id)
  redis.call('ZREM', ARGV[3] .. 't:' .. tenant .. ':jobs', id)
  redis.call('ZREM', ARGV[3] .. 't:' .. tenant .. ':changes', id)
  redis.call('ZREM', KEYS[1], ref)
  redis.call('ZREM', ARGV[3] .. 'unnotified', ref)
end
return #refs
`;

type Flat = string[];

/** The scripts, as ioredis defines them (EVALSHA, falling back to EVAL once per connection). */
interface ScriptCommands {
  jobwaitCreate(...args: (string | number)[]): Promise<[string, Flat?]>;
  jobwaitList(...args: (string | number)[]): Promise<[string, number, Flat[]]>;
  jobwaitChangedSince(...args: (string | number)[]): Promise<Flat[]>;
  jobwaitCancel(...args: (string | number)[]): Promise<[string, Flat?]>;
  jobwaitSettle(...args: (string | number)[]): Promise<Flat[]>;
  jobwaitTimer(...args: (string | number)[]): Promise<Flat>;
  jobwaitCleanup(...args: (string | number)[]): Promise<number>;
}

/** {@link JobStore} on Redis, shared by every instance of a cluster. */
export class RedisStore implements JobStore {
  /** The command connection (the Redis feed publishes on it too). */
  readonly redis: Redis;
  readonly prefix: string;
  readonly retentionSeconds: number;
  private readonly commands: Redis & ScriptCommands;
  private readonly cleanupTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: RedisStoreOptions = {}) {
    this.prefix = options.prefix ?? REDIS_STORE_DEFAULTS.prefix;
    this.retentionSeconds = options.retentionSeconds ?? REDIS_STORE_DEFAULTS.retentionSeconds;
    this.redis = openRedis(options.url ?? REDIS_STORE_DEFAULTS.url, 'store', options.redisOptions, options.log);
    this.redis.defineCommand('jobwaitCreate', { numberOfKeys: 6, lua: CREATE_SCRIPT });
    this.redis.defineCommand('jobwaitList', { numberOfKeys: 1, lua: LIST_SCRIPT });
    this.redis.defineCommand('jobwaitChangedSince', { numberOfKeys: 1, lua: CHANGED_SINCE_SCRIPT });
    this.redis.defineCommand('jobwaitCancel', { numberOfKeys: 5, lua: CANCEL_SCRIPT });
    this.redis.defineCommand('jobwaitSettle', { numberOfKeys: 3, lua: SETTLE_SCRIPT });
    this.redis.defineCommand('jobwaitTimer', { numberOfKeys: 1, lua: TIMER_SCRIPT });
    this.redis.defineCommand('jobwaitCleanup', { numberOfKeys: 1, lua: CLEANUP_SCRIPT });
    this.commands = this.redis as Redis & ScriptCommands;
    const interval = options.cleanupIntervalMs ?? REDIS_STORE_DEFAULTS.cleanupIntervalMs;
    if (interval > 0) {
      this.cleanupTimer = setInterval(() => {
        this.cleanupExpired(Date.now()).catch((error: unknown) => options.log?.warn({ err: error }, 'redis store: cleanup of expired jobs failed'));
      }, interval);
      this.cleanupTimer.unref();
    }
  }

  async create(job: JobRecord, idempotency?: IdempotencyClaim): Promise<CreateResult> {
    const tenant = tenantKey(job.tenant);
    const ref = `${tenant}|${job.id}`;
    const pending = job.state === 'pending';
    const expireAt = pending ? '' : String(job.updatedAt + this.retentionSeconds * 1000);
    // The key lives as long as its job: until it can have expired after its due time.
    const idemTtlMs = Math.max(1, job.dueAt - job.createdAt) + this.retentionSeconds * 1000;
    const [kind, flat] = await this.commands.jobwaitCreate(
      this.jobKey(job.id),
      this.tenantIndexKey(tenant),
      this.tenantChangesKey(tenant),
      this.dueKey,
      this.expiringKey,
      idempotency ? `${this.prefix}t:${tenant}:idem:${idempotency.key}` : '',
      job.id,
      ref,
      pending ? job.dueAt : job.updatedAt,
      pending ? job.dueAt : '',
      expireAt,
      idempotency?.fingerprint ?? '',
      Math.round(idemTtlMs),
      this.jobKey(''),
      ...toFields(job),
    );
    if (kind === 'mismatch') return { kind: 'mismatch' };
    if (kind === 'replayed') return { kind: 'replayed', job: fromFlat(flat!) };
    return { kind: 'created', job: { ...job } };
  }

  async get(tenant: string, id: string): Promise<JobRecord | undefined> {
    const hash = await this.redis.hgetall(this.jobKey(id));
    return hash.tenant === tenant ? fromHash(hash) : undefined;
  }

  /** A job whatever its tenant: only for the change feed's resync, which knows job ids, not tenants. */
  async getById(id: string): Promise<JobRecord | undefined> {
    const hash = await this.redis.hgetall(this.jobKey(id));
    return hash.id === undefined ? undefined : fromHash(hash);
  }

  async list(tenant: string, query: ListQuery, now: number): Promise<JobRecord[]> {
    const index = this.tenantIndexKey(tenantKey(tenant));
    const out: JobRecord[] = [];
    let start = query.before === undefined ? '+' : `(${query.before}`;
    while (out.length < query.limit) {
      const [last, exhausted, flats] = await this.commands.jobwaitList(index, this.jobKey(''), start, query.limit - out.length, query.status ?? '', now, LIST_SCAN_BUDGET);
      for (const flat of flats) out.push(fromFlat(flat));
      if (exhausted === 1 || last === '') break;
      start = `(${last}`;
    }
    return out;
  }

  async changedSince(tenant: string, since: number, now: number, limit: number): Promise<JobRecord[]> {
    const flats = await this.commands.jobwaitChangedSince(this.tenantChangesKey(tenantKey(tenant)), this.jobKey(''), since, now, CHANGED_SINCE_CAP);
    return flats
      .map(fromFlat)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
  }

  async cancel(tenant: string, id: string, now: number): Promise<CancelResult> {
    const key = tenantKey(tenant);
    const [kind, flat] = await this.commands.jobwaitCancel(
      this.jobKey(id),
      this.dueKey,
      this.expiringKey,
      this.tenantChangesKey(key),
      this.unnotifiedKey,
      tenant,
      now,
      now + this.retentionSeconds * 1000,
      `${key}|${id}`,
      id,
    );
    if (kind === 'canceled') return { kind: 'canceled', job: fromFlat(flat!) };
    if (kind === 'final') return { kind: 'final', job: fromFlat(flat!) };
    return { kind: 'missing' };
  }

  async settleDue(now: number, limit: number): Promise<JobRecord[]> {
    const flats = await this.commands.jobwaitSettle(this.dueKey, this.expiringKey, this.unnotifiedKey, now, limit, this.jobKey(''), this.retentionSeconds * 1000);
    return flats.map(fromFlat);
  }

  async unnotified(before: number, limit: number): Promise<JobRecord[]> {
    const refs = await this.redis.zrangebyscore(this.unnotifiedKey, '-inf', before, 'LIMIT', 0, limit);
    if (refs.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const ref of refs) pipeline.hgetall(this.jobKey(ref.slice(ref.indexOf('|') + 1)));
    const hashes = (await pipeline.exec()) ?? [];
    const jobs: JobRecord[] = [];
    const gone: string[] = [];
    hashes.forEach(([error, hash], i) => {
      if (error) throw error;
      if (hash && Object.keys(hash).length > 0) jobs.push(fromHash(hash as Record<string, string>));
      else gone.push(refs[i]!);
    });
    // Past retention already: nothing is left to notify about.
    if (gone.length > 0) await this.redis.zrem(this.unnotifiedKey, ...gone);
    return jobs;
  }

  async markNotified(jobs: readonly JobRecord[]): Promise<void> {
    if (jobs.length > 0) await this.redis.zrem(this.unnotifiedKey, ...jobs.map((job) => `${tenantKey(job.tenant)}|${job.id}`));
  }

  async nextDueAt(): Promise<number | undefined> {
    const [, score] = await this.redis.zrange(this.dueKey, 0, 0, 'WITHSCORES');
    return score === undefined ? undefined : Number(score);
  }

  async setCurrentTimer(tenant: string, id: string): Promise<void> {
    await this.redis.set(`${this.prefix}t:${tenantKey(tenant)}:timer`, id);
  }

  async getCurrentTimer(tenant: string): Promise<JobRecord | undefined> {
    const flat = await this.commands.jobwaitTimer(`${this.prefix}t:${tenantKey(tenant)}:timer`, this.jobKey(''));
    if (flat.length === 0) return undefined;
    const job = fromFlat(flat);
    return job.tenant === tenant ? job : undefined;
  }

  /**
   * Deletes finished jobs whose retention ended by `now` and takes them out of the tenant indexes.
   * Runs every `cleanupIntervalMs` on every instance; the script is idempotent. Returns how many went.
   */
  async cleanupExpired(now: number): Promise<number> {
    let total = 0;
    for (;;) {
      const removed = await this.commands.jobwaitCleanup(this.expiringKey, now, CLEANUP_BATCH, this.prefix);
      total += removed;
      if (removed < CLEANUP_BATCH || this.closed) return total;
    }
  }

  async ping(): Promise<void> {
    // ioredis queues commands while (re)connecting: readiness must not hang on that queue.
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`redis did not answer PING within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.cleanupTimer);
    await closeRedis(this.redis);
  }

  private jobKey(id: string): string {
    return `${this.prefix}job:${id}`;
  }

  private tenantIndexKey(tenant: string): string {
    return `${this.prefix}t:${tenant}:jobs`;
  }

  private tenantChangesKey(tenant: string): string {
    return `${this.prefix}t:${tenant}:changes`;
  }

  private get dueKey(): string {
    return `${this.prefix}due`;
  }

  private get expiringKey(): string {
    return `${this.prefix}expiring`;
  }

  /** Refs (`tenant|id`) of final jobs whose final-state work is not confirmed, scored by when they became final. */
  private get unnotifiedKey(): string {
    return `${this.prefix}unnotified`;
  }
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

function toFields(job: JobRecord): string[] {
  const fields = [
    'id', job.id,
    'tenant', job.tenant,
    'state', job.state,
    'outcome', job.outcome,
    'created_at', String(job.createdAt),
    'due_at', String(job.dueAt),
    'updated_at', String(job.updatedAt),
    'duration', String(job.duration),
    'version', String(job.version),
  ]; // prettier-ignore
  if (job.metadata !== undefined) fields.push('metadata', JSON.stringify(job.metadata));
  if (job.callbackUrl !== undefined) fields.push('callback_url', job.callbackUrl);
  if (job.notifyEmail !== undefined) fields.push('notify_email', job.notifyEmail);
  return fields;
}

function fromFlat(flat: Flat): JobRecord {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
  return fromHash(hash);
}

function fromHash(hash: Record<string, string>): JobRecord {
  const job: JobRecord = {
    id: hash.id!,
    tenant: hash.tenant!,
    state: hash.state as JobStatus,
    outcome: hash.outcome as Outcome,
    createdAt: Number(hash.created_at),
    dueAt: Number(hash.due_at),
    updatedAt: Number(hash.updated_at),
    duration: Number(hash.duration),
    version: Number(hash.version),
  };
  if (hash.metadata !== undefined) job.metadata = JSON.parse(hash.metadata) as Record<string, unknown>;
  if (hash.callback_url !== undefined) job.callbackUrl = hash.callback_url;
  if (hash.notify_email !== undefined) job.notifyEmail = hash.notify_email;
  return job;
}
