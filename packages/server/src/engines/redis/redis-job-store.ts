/**
 * The cluster job store: jobs in Redis, shared by any number of instances.
 * A create with an Idempotency-Key is one Lua script; every transition
 * (report, cancel, settle at a deadline) is decided by jobs/transition.ts
 * from the record read and written by one compare-and-set script
 * (lua/replace-job-5.lua), so it happens once whichever instances try it:
 * two instances settling at the same moment, one wins, the other finds the
 * job changed. Key names: engines/redis/redis-keys.ts.
 */
import type { Redis } from 'ioredis';
import { effectiveState, type JobRecord, type JobStatus } from '../../jobs/job-record.js';
import type { Outcome } from '../../jobs/outcome.js';
import type { PruneCounts } from '../../jobs/retention-sweeper.js';
import type {
  BatchCreateResult,
  BatchRecord,
  CancelResult,
  CreateResult,
  IdempotencyClaim,
  JobCounts,
  JobGroup,
  JobStore,
  ListQuery,
  ReplaceOptions,
  WatchRecord,
} from '../../store/job-store.js';
import { cancel as cancelJob, deadlineAt, settleDue as settleJob, withRestartGrace } from '../../jobs/transition.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisScripts } from './redis-scripts.js';


/** Ids read per round trip while counting a tag or batch. */
const GROUP_COUNT_PAGE = 1000;
/** Ids scanned per list script call: bounds how long one call holds Redis when a filter matches few jobs. */
const LIST_SCAN_BUDGET = 1000;
/** Most candidates one `changedSince` considers (a resume after a long absence is bounded like SQLite's LIMIT). */
const CHANGED_SINCE_CAP = 10_000;
/** Jobs stored before the status sets existed, added to them per count script call (a few ms of Redis time). */
const COUNT_BUILD_BATCH = 2000;
/** The status sets, in the order count-jobs takes and returns them. */
const COUNTED_STATUSES: readonly JobStatus[] = ['pending', 'completed', 'error', 'canceled'];
/** Tries of a cancel that keeps meeting a concurrent write (a heartbeat) before it gives up. */
const CANCEL_TRIES = 10;
/** How often each instance marks the server alive in Redis, ms. */
const ALIVE_EVERY_MS = 1000;
/**
 * A gap this long in the marks means the whole server (every instance, or Redis) was down: running
 * jobs then get the restart grace. Five marks missed: a busy instance or a small clock skew is no outage.
 */
const OUTAGE_GAP_MS = 5000;
/** Pending jobs read per step of a grace pass. */
const GRACE_BATCH = 500;
/** `/readyz` must answer quickly even when Redis hangs. */
const PING_TIMEOUT_MS = 1000;

type Flat = string[];

/** What {@link RedisJobStore} runs on. */
export interface RedisJobStoreOptions {
  redis: Redis;
  keys: RedisKeys;
  scripts: RedisScripts;
  /** How long a finished job is kept, in seconds. */
  retentionSeconds: number;
  /**
   * Jobs stored before the status sets existed that one count script call adds to them.
   * @default 2000
   */
  countBuildBatch?: number;
}

/** {@link JobStore} on Redis, shared by every instance of a cluster. */
export class RedisJobStore implements JobStore {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly scripts: RedisScripts;
  private readonly retentionMs: number;
  private readonly countBuildBatch: number;
  /** When the server came back after its last outage, as last read from Redis (0: never known). */
  private upSince = 0;
  private aliveTimer: NodeJS.Timeout | undefined;
  private marking: Promise<number> | undefined;

  constructor(options: RedisJobStoreOptions) {
    this.redis = options.redis;
    this.keys = options.keys;
    this.scripts = options.scripts;
    this.retentionMs = options.retentionSeconds * 1000;
    this.countBuildBatch = options.countBuildBatch ?? COUNT_BUILD_BATCH;
  }

  async create(job: JobRecord, idempotency?: IdempotencyClaim): Promise<CreateResult> {
    const k = this.keys;
    const pending = job.state === 'pending';
    const expireAt = pending ? '' : String(job.updatedAt + this.retentionMs);
    const deadline = deadlineAt(job);
    // The key lives as long as its job: until it can have expired after its deadline.
    const idemTtlMs = Math.max(1, (deadline ?? job.createdAt) - job.createdAt) + this.retentionMs;
    const [kind, flat] = await this.scripts.run<[string, Flat?]>(
      'create-job',
      [k.job(job.id), k.tenantJobs(job.tenant), k.tenantChanges(job.tenant), k.due, k.expiring, idempotency ? k.idempotency(job.tenant, idempotency.key) : '', k.tenantStatus(job.tenant, job.state)],
      [job.id, k.ref(job.tenant, job.id), changeScore(job), deadline ?? '', expireAt, idempotency?.fingerprint ?? '', Math.round(idemTtlMs), k.job(''), ...this.tagIndexes(job), ...toFields(job)],
    );
    if (kind === 'mismatch') return { kind: 'mismatch' };
    if (kind === 'replayed') return { kind: 'replayed', job: fromFlat(flat!) };
    return { kind: 'created', job: { ...job } };
  }

  /** `n` and the `n` tag index keys of `job`, as create-job and create-batch take them. */
  private tagIndexes(job: JobRecord): string[] {
    const tags = job.tags ?? [];
    return [String(tags.length), ...tags.map((tag) => this.keys.tag(job.tenant, tag))];
  }

  async createBatch(batch: BatchRecord, jobs: readonly JobRecord[], idempotency?: IdempotencyClaim): Promise<BatchCreateResult> {
    const k = this.keys;
    const tenant = batch.tenant;
    // The batch (and its key) lasts as long as its last job may: until its latest deadline, plus retention.
    const lastDeadline = Math.max(batch.createdAt, ...jobs.map((job) => deadlineAt(job) ?? job.createdAt));
    const ttlMs = lastDeadline - batch.createdAt + this.retentionMs;
    const fields = ['id', batch.id, 'created_at', String(batch.createdAt), 'total', String(batch.total)];
    if (batch.tags !== undefined) fields.push('tags', JSON.stringify(batch.tags));
    const args: (string | number)[] = [k.job(''), k.batch(tenant, ''), batch.id, idempotency ? k.batchIdempotency(tenant, idempotency.key) : '', idempotency?.fingerprint ?? '', Math.round(ttlMs), fields.length, ...fields];
    for (const job of jobs) {
      const jobFields = toFields(job);
      args.push(job.id, k.ref(tenant, job.id), changeScore(job), deadlineAt(job) ?? '', ...this.tagIndexes(job), jobFields.length, ...jobFields);
    }
    const [kind, firstId] = await this.scripts.run<[string, string?]>('create-batch', [k.tenantJobs(tenant), k.tenantChanges(tenant), k.due, k.tenantStatus(tenant, 'pending')], args);
    if (kind === 'mismatch') return { kind: 'mismatch' };
    if (kind === 'replayed') {
      const first = await this.getBatch(tenant, firstId!);
      if (!first) return { kind: 'mismatch' };
      return { kind: 'replayed', batch: first, jobs: await this.members(tenant, { batch: first.id }, first.total) };
    }
    return { kind: 'created', batch, jobs: jobs.map((job) => ({ ...job })) };
  }

  async getBatch(tenant: string, id: string): Promise<BatchRecord | undefined> {
    const hash = await this.redis.hgetall(this.keys.batch(tenant, id));
    if (hash.id === undefined) return undefined;
    const batch: BatchRecord = { id: hash.id, tenant, createdAt: Number(hash.created_at), total: Number(hash.total) };
    if (hash.tags !== undefined) batch.tags = JSON.parse(hash.tags) as string[];
    return batch;
  }

  async getMany(tenant: string, ids: readonly string[]): Promise<JobRecord[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.job(id));
    const out: JobRecord[] = [];
    for (const [error, hash] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      const fields = hash as Record<string, string>;
      if (fields.tenant === tenant) out.push(fromHash(fields));
    }
    return out;
  }

  async members(tenant: string, group: JobGroup, limit: number): Promise<JobRecord[]> {
    const index = 'tag' in group ? this.keys.tag(tenant, group.tag) : this.keys.batchJobs(tenant, group.batch);
    const ids = await this.redis.zrange(index, 0, limit - 1);
    const jobs = await this.getMany(tenant, ids);
    // Jobs past retention: their hashes expired, their ids leave the index now.
    if (jobs.length < ids.length) {
      const present = new Set(jobs.map((job) => job.id));
      const gone = ids.filter((id) => !present.has(id));
      await this.redis.zrem(index, ...gone);
    }
    return jobs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async saveWatch(watch: WatchRecord): Promise<void> {
    await this.redis.set(this.keys.watch(watch.tenant, watch.id), JSON.stringify({ selector: watch.selector, createdAt: watch.createdAt, expiresAt: watch.expiresAt }), 'PX', Math.max(1, watch.expiresAt - watch.createdAt));
  }

  async getWatch(tenant: string, id: string, now: number): Promise<WatchRecord | undefined> {
    const text = await this.redis.get(this.keys.watch(tenant, id));
    if (text === null) return undefined;
    const stored = JSON.parse(text) as Omit<WatchRecord, 'id' | 'tenant'>;
    return stored.expiresAt > now ? { id, tenant, ...stored } : undefined;
  }

  async get(tenant: string, id: string): Promise<JobRecord | undefined> {
    const hash = await this.redis.hgetall(this.keys.job(id));
    return hash.tenant === tenant ? fromHash(hash) : undefined;
  }

  /** A job whatever its tenant: only for the change feed's resync, which knows job ids, not tenants. */
  async getById(id: string): Promise<JobRecord | undefined> {
    const hash = await this.redis.hgetall(this.keys.job(id));
    return hash.id === undefined ? undefined : fromHash(hash);
  }

  async list(tenant: string, query: ListQuery, now: number): Promise<JobRecord[]> {
    // A tag or batch has an index of its own, which the same script pages through.
    const index =
      query.batch !== undefined ? this.keys.batchJobs(tenant, query.batch) : query.tag !== undefined ? this.keys.tag(tenant, query.tag) : this.keys.tenantJobs(tenant);
    const out: JobRecord[] = [];
    let start = query.before === undefined ? '+' : `(${query.before}`;
    while (out.length < query.limit) {
      const [last, exhausted, flats] = await this.scripts.run<[string, number, Flat[]]>('list-jobs', [index], [this.keys.job(''), start, query.limit - out.length, query.status ?? '', now, LIST_SCAN_BUDGET]);
      for (const flat of flats) {
        const job = fromFlat(flat);
        // Both filters at once: the batch's index, then the tag on each job.
        if (query.batch === undefined || query.tag === undefined || job.tags?.includes(query.tag)) out.push(job);
      }
      if (exhausted === 1 || last === '') break;
      start = `(${last}`;
    }
    return out;
  }

  /**
   * Sizes of the tenant's status sets, with overdue pending jobs moved to their outcome. The first
   * count of a tenant whose jobs were stored before the sets existed fills them first, a batch per
   * script call, so no call holds Redis for long. A job past its retention leaves the counts when
   * {@link cleanupExpired} removes it (within a minute), while reads stop showing it at once.
   */
  async countByStatus(tenant: string, now: number): Promise<JobCounts> {
    const k = this.keys;
    const keys = [...COUNTED_STATUSES.map((state) => k.tenantStatus(tenant, state)), k.tenantCounted(tenant), k.tenantJobs(tenant), k.due];
    for (;;) {
      const reply = await this.scripts.run<['building'] | [number, number, number, number]>('count-jobs', keys, [k.job(''), now, k.ref(tenant, ''), this.countBuildBatch]);
      if (reply[0] === 'building') continue;
      const [pending, completed, error, canceled] = reply as [number, number, number, number];
      return { pending, completed, error, canceled };
    }
  }

  async countGroup(tenant: string, group: JobGroup, now: number): Promise<JobCounts> {
    const index = 'tag' in group ? this.keys.tag(tenant, group.tag) : this.keys.batchJobs(tenant, group.batch);
    const counts: JobCounts = { pending: 0, completed: 0, error: 0, canceled: 0 };
    // A page of ids at a time: every member counts, and memory stays one page whatever the group's size.
    for (let start = 0; ; start += GROUP_COUNT_PAGE) {
      const ids = await this.redis.zrange(index, start, start + GROUP_COUNT_PAGE - 1);
      for (const job of await this.getMany(tenant, ids)) counts[effectiveState(job, now).status]++;
      if (ids.length < GROUP_COUNT_PAGE) return counts;
    }
  }

  async changedSince(tenant: string, since: number, now: number, limit: number): Promise<JobRecord[]> {
    const flats = await this.scripts.run<Flat[]>('changed-since', [this.keys.tenantChanges(tenant)], [this.keys.job(''), since, now, CHANGED_SINCE_CAP]);
    return flats
      .map(fromFlat)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
  }

  async cancel(tenant: string, id: string, now: number): Promise<CancelResult> {
    for (let attempt = 0; attempt < CANCEL_TRIES; attempt++) {
      const job = await this.get(tenant, id);
      if (!job) return { kind: 'missing' };
      const out = cancelJob(job, now);
      if (out.kind === 'final') return out;
      const written = await this.replace(job, out.job, { now, final: true });
      if (written) return { kind: 'canceled', job: written };
    }
    throw new Error(`jobwait: job ${id} kept changing during ${CANCEL_TRIES} cancel attempts`);
  }

  async replace(previous: JobRecord, next: JobRecord, options: ReplaceOptions): Promise<JobRecord | undefined> {
    const k = this.keys;
    const rev = previous.rev ?? 0;
    const written: JobRecord = { ...next, rev: rev + 1 };
    const done = await this.scripts.run<number>(
      'replace-job',
      [k.job(next.id), k.due, k.expiring, k.tenantChanges(next.tenant), k.unnotified, k.timer(next.tenant), k.tenantStatus(next.tenant, previous.state), k.tenantStatus(next.tenant, next.state)],
      [rev, k.ref(next.tenant, next.id), next.id, deadlineAt(next) ?? '', options.final ? '1' : '', options.now, next.updatedAt + this.retentionMs, changeScore(next), ...toFields(written)],
    );
    return done === 1 ? written : undefined;
  }

  /**
   * Marks the server alive, and keeps doing so every second until {@link stopAlive}. Several
   * instances share the store, so "the whole server was down" is read from those marks: when none
   * was made for {@link OUTAGE_GAP_MS} (every instance was down, or Redis was), the instance that
   * finds the gap gives every running job one heartbeat interval from `now` (see
   * `withRestartGrace`); a settle on any instance gives it too to a job it would stall. Returns how
   * many jobs this call graced.
   */
  async restartGrace(now: number): Promise<number> {
    if (!this.aliveTimer) {
      this.aliveTimer = setInterval(() => void this.markAlive(Date.now()).catch(() => {}), ALIVE_EVERY_MS);
      this.aliveTimer.unref();
    }
    return this.markAlive(now);
  }

  /** Stops marking the server alive (the engine closes). */
  stopAlive(): void {
    clearInterval(this.aliveTimer);
    this.aliveTimer = undefined;
  }

  /** One mark; after an outage, the grace pass (one at a time per instance). */
  private markAlive(now: number): Promise<number> {
    this.marking ??= (async () => {
      const [upSince, found] = await this.scripts.run<[string, number]>('server-alive', [this.keys.serverAlive, this.keys.upSince], [now, OUTAGE_GAP_MS]);
      this.upSince = Number(upSince);
      return found === 1 ? this.graceAll(this.upSince) : 0;
    })().finally(() => (this.marking = undefined));
    return this.marking;
  }

  /** Restarts the heartbeat clock of every running job last heard of before `upSince`; how many. */
  private async graceAll(upSince: number): Promise<number> {
    let graced = 0;
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.zscan(this.keys.due, cursor, 'COUNT', GRACE_BATCH);
      cursor = next;
      for (let i = 0; i < flat.length; i += 2) {
        const ref = flat[i]!;
        if (await this.graceOne(ref.slice(ref.indexOf('|') + 1), upSince)) graced++;
      }
    } while (cursor !== '0');
    return graced;
  }

  private async graceOne(id: string, upSince: number): Promise<boolean> {
    for (let attempt = 0; attempt < CANCEL_TRIES; attempt++) {
      const job = await this.getById(id);
      const next = job && withRestartGrace(job, upSince);
      if (!next) return false;
      // A report coming first already restarted the clock: the next read finds nothing to grace.
      if (await this.replace(job, next, { now: upSince, final: false })) return true;
    }
    return false;
  }

  async settleDue(now: number, limit: number): Promise<JobRecord[]> {
    const refs = await this.scripts.run<string[]>('claim-due', [this.keys.due], [now, limit]);
    if (refs.length === 0) return [];
    // No stall is declared before the server's up-since is read fresh: an outage another instance just found graces these too.
    try {
      // Only a store serving a server marks it alive (restartGrace started the marks); others just settle.
      if (this.aliveTimer) await this.markAlive(now);
    } catch (error) {
      // Back in the index, due now: the next settle (once Redis answers) claims them again.
      await this.redis.zadd(this.keys.due, ...refs.flatMap((ref) => [now, ref])).catch(() => {});
      throw error;
    }
    const pipeline = this.redis.pipeline();
    for (const ref of refs) pipeline.hgetall(this.keys.job(ref.slice(ref.indexOf('|') + 1)));
    const hashes = (await pipeline.exec()) ?? [];
    const settled: JobRecord[] = [];
    await Promise.all(
      hashes.map(async ([error, hash], i) => {
        if (error) throw error;
        let job = hash && Object.keys(hash).length > 0 ? fromHash(hash as Record<string, string>) : undefined;
        for (let attempt = 0; job && attempt < CANCEL_TRIES; attempt++) {
          // Another instance found an outage and may not have graced this job yet: grace it here.
          const graced = withRestartGrace(job, this.upSince);
          if (graced) {
            job = (await this.replace(job, graced, { now, final: false })) ?? (await this.getById(job.id));
            continue;
          }
          const next = settleJob(job, now);
          if (!next) break;
          // A worker's report (or another write) may come first: then read again and decide again.
          const written = await this.replace(job, next, { now, final: true });
          if (written) {
            settled.push(written);
            return;
          }
          job = await this.getById(job.id);
        }
        // Not due any more (a heartbeat moved its deadline): back in the index at its new deadline.
        const deadline = job && deadlineAt(job);
        if (deadline !== undefined) await this.redis.zadd(this.keys.due, deadline, refs[i]!);
      }),
    );
    return settled;
  }

  async unnotified(before: number, limit: number): Promise<JobRecord[]> {
    const refs = await this.redis.zrangebyscore(this.keys.unnotified, '-inf', before, 'LIMIT', 0, limit);
    if (refs.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const ref of refs) pipeline.hgetall(this.keys.job(ref.slice(ref.indexOf('|') + 1)));
    const hashes = (await pipeline.exec()) ?? [];
    const jobs: JobRecord[] = [];
    const gone: string[] = [];
    hashes.forEach(([error, hash], i) => {
      if (error) throw error;
      if (hash && Object.keys(hash).length > 0) jobs.push(fromHash(hash as Record<string, string>));
      else gone.push(refs[i]!);
    });
    // Past retention already: nothing is left to notify about.
    if (gone.length > 0) await this.redis.zrem(this.keys.unnotified, ...gone);
    return jobs;
  }

  async markNotified(jobs: readonly JobRecord[]): Promise<void> {
    if (jobs.length > 0) await this.redis.zrem(this.keys.unnotified, ...jobs.map((job) => this.keys.ref(job.tenant, job.id)));
  }

  async nextDueAt(): Promise<number | undefined> {
    const [, score] = await this.redis.zrange(this.keys.due, 0, 0, 'WITHSCORES');
    return score === undefined ? undefined : Number(score);
  }

  async setCurrentTimer(tenant: string, id: string): Promise<void> {
    await this.scripts.run('set-timer', [this.keys.timer(tenant), this.keys.expiring], [id, this.keys.job(''), this.retentionMs, this.keys.ref(tenant, '')]);
  }

  async getCurrentTimer(tenant: string): Promise<JobRecord | undefined> {
    const flat = await this.scripts.run<Flat>('current-timer', [this.keys.timer(tenant)], [this.keys.job('')]);
    if (flat.length === 0) return undefined;
    const job = fromFlat(flat);
    return job.tenant === tenant ? job : undefined;
  }

  /**
   * Deletes up to `limit` finished jobs whose retention ended by `now` (their hashes expire by
   * themselves at that time; this takes them out of the indexes, with their finished deliveries),
   * keeping each tenant's current timer. Idempotency-Keys expire by themselves at their job's due
   * time plus retention, and a key whose job is gone is free before that (lua/create-job-6.lua).
   * jobs/retention-sweeper.ts runs it on every instance; the script is idempotent.
   */
  async prune(now: number, limit: number): Promise<PruneCounts> {
    const [jobs, deliveries] = await this.scripts.run<[number, number]>('cleanup-expired', [this.keys.expiring, this.keys.unnotified], [now, limit, this.keys.prefix]);
    return { jobs, deliveries, idempotencyKeys: 0 };
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
}

/** Score of a job in its tenant's change index: the latest time it may show a change (its deadline, else its last change). */
function changeScore(job: JobRecord): number {
  return Math.max(job.updatedAt, deadlineAt(job) ?? 0);
}

/** The members of a reported job kept as one JSON field. */
const WORK_KEYS = ['startedAt', 'heartbeatAt', 'reportedAt', 'reportSeq', 'receipts', 'progress', 'message', 'result', 'error', 'heartbeatTimeoutMs', 'expiresAt', 'webhookEvents', 'kind', 'size'] as const;

function toFields(job: JobRecord): string[] {
  const fields = [
    'id', job.id,
    'tenant', job.tenant,
    'state', job.state,
    'created_at', String(job.createdAt),
    'updated_at', String(job.updatedAt),
    'version', String(job.version),
    'rev', String(job.rev ?? 0),
  ]; // prettier-ignore
  if (job.outcome !== undefined) fields.push('outcome', job.outcome);
  if (job.dueAt !== undefined) fields.push('due_at', String(job.dueAt));
  if (job.duration !== undefined) fields.push('duration', String(job.duration));
  const deadline = deadlineAt(job);
  if (deadline !== undefined) fields.push('deadline_at', String(deadline));
  const work: Record<string, unknown> = {};
  let any = false;
  for (const key of WORK_KEYS) {
    if (job[key] !== undefined) {
      work[key] = job[key];
      any = true;
    }
  }
  if (any) fields.push('work', JSON.stringify(work));
  if (job.metadata !== undefined) fields.push('metadata', JSON.stringify(job.metadata));
  if (job.callbackUrl !== undefined) fields.push('callback_url', job.callbackUrl);
  if (job.notifyEmail !== undefined) fields.push('notify_email', job.notifyEmail);
  if (job.tags !== undefined) fields.push('tags', JSON.stringify(job.tags));
  if (job.batchId !== undefined) fields.push('batch_id', job.batchId);
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
    createdAt: Number(hash.created_at),
    updatedAt: Number(hash.updated_at),
    version: Number(hash.version),
    rev: hash.rev === undefined ? 0 : Number(hash.rev),
  };
  if (hash.duration !== undefined && hash.duration !== '') {
    job.duration = Number(hash.duration);
    job.outcome = hash.outcome as Outcome;
  }
  if (hash.due_at !== undefined && hash.due_at !== '') job.dueAt = Number(hash.due_at);
  if (hash.work !== undefined) Object.assign(job, JSON.parse(hash.work) as Partial<JobRecord>);
  if (hash.metadata !== undefined) job.metadata = JSON.parse(hash.metadata) as Record<string, unknown>;
  if (hash.callback_url !== undefined) job.callbackUrl = hash.callback_url;
  if (hash.notify_email !== undefined) job.notifyEmail = hash.notify_email;
  if (hash.tags !== undefined) job.tags = JSON.parse(hash.tags) as string[];
  if (hash.batch_id !== undefined) job.batchId = hash.batch_id;
  return job;
}
