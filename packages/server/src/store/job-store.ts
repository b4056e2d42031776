/**
 * The storage interface: async from the first day, every record carries its
 * tenant, so the SQLite and Redis stores are interchangeable (engines/).
 */
import type { JobRecord, JobStatus } from '../jobs/job-record.js';

/** An `Idempotency-Key` claim made with a create. */
export interface IdempotencyClaim {
  key: string;
  /** Hash of the request body: same key + other body is refused. */
  fingerprint: string;
}

/** What a create did. */
export type CreateResult = { kind: 'created'; job: JobRecord } | { kind: 'replayed'; job: JobRecord } | { kind: 'mismatch' };

/** A group of jobs named by what they share: a tag or a batch (a watch of given ids is looked up by id). */
export type JobGroup = { tag: string } | { batch: string };

/** Which jobs a set names: given ids, or a group. */
export type JobSelector = { ids: readonly string[] } | JobGroup;

/** A batch as stored: the jobs are found by their `batchId`. */
export interface BatchRecord {
  id: string;
  tenant: string;
  createdAt: number;
  /** Jobs created with the batch. */
  total: number;
  /** Tags every job of the batch was given. */
  tags?: readonly string[] | undefined;
}

/** A watch: a set of jobs made with a POST, so the stream over it is a plain GET (EventSource). */
export interface WatchRecord {
  id: string;
  tenant: string;
  selector: JobSelector;
  createdAt: number;
  /** After this the watch is gone (its jobs are not). */
  expiresAt: number;
}

/** What a batch create did. */
export type BatchCreateResult = { kind: 'created' | 'replayed'; batch: BatchRecord; jobs: JobRecord[] } | { kind: 'mismatch' };

/** A page query of one tenant's jobs. */
export interface ListQuery {
  status?: JobStatus | undefined;
  /** Only jobs with this tag. */
  tag?: string | undefined;
  /** Only jobs of this batch. */
  batch?: string | undefined;
  /** Only jobs with an id below this one (ids sort by creation time). */
  before?: string | undefined;
  limit: number;
}

/** Jobs by status. */
export type JobCounts = Record<JobStatus, number>;

/** The outcome of a cancel. */
export type CancelResult = { kind: 'canceled'; job: JobRecord } | { kind: 'final'; job: JobRecord } | { kind: 'missing' };

/** How {@link JobStore.replace} writes. */
export interface ReplaceOptions {
  /** The store's time of the write. */
  now: number;
  /** The job becomes final with this write: it enters the final-state outbox (see {@link JobStore.unnotified}). */
  final: boolean;
}

/** A {@link JobStore.batch} whose commit failed: nothing `work` wrote was stored. */
export class BatchCommitError extends Error {
  readonly code = 'JOBWAIT_ERR_BATCH_COMMIT';
  constructor(cause: unknown) {
    super(`the batch's commit failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'BatchCommitError';
  }
}

/** Where jobs live. */
export interface JobStore {
  /** Inserts `job`; with `idempotency`, atomically replays or refuses a repeated key instead. */
  create(job: JobRecord, idempotency?: IdempotencyClaim): Promise<CreateResult>;
  /**
   * Inserts a batch and all of its jobs in one transaction (one script on Redis): all or none. With
   * `idempotency`, a repeated key replays the first batch (its jobs as they are now) or is refused.
   */
  createBatch(batch: BatchRecord, jobs: readonly JobRecord[], idempotency?: IdempotencyClaim): Promise<BatchCreateResult>;
  /** The tenant's batch with this id. */
  getBatch(tenant: string, id: string): Promise<BatchRecord | undefined>;
  /** The tenant's jobs among `ids` (another tenant's and unknown ids are simply absent), in no set order. */
  getMany(tenant: string, ids: readonly string[]): Promise<JobRecord[]>;
  /** The tenant's jobs of a tag or batch, oldest first, at most `limit`. */
  members(tenant: string, group: JobGroup, limit: number): Promise<JobRecord[]>;
  /** Keeps a watch until its `expiresAt`. */
  saveWatch(watch: WatchRecord): Promise<void>;
  /** The tenant's watch with this id, while it lasts. */
  getWatch(tenant: string, id: string, now: number): Promise<WatchRecord | undefined>;
  /** The tenant's job with this id. Records are snapshots: callers never change them (stores may share one between reads). */
  get(tenant: string, id: string): Promise<JobRecord | undefined>;
  /** The job with this id, whatever its tenant: for a worker's report, whose token names the job. */
  getById(id: string): Promise<JobRecord | undefined>;
  /** Newest first; `status` filters on the effective status at `now`. */
  list(tenant: string, query: ListQuery, now: number): Promise<JobRecord[]>;
  /**
   * The tenant's jobs by effective status at `now` (as reads show them: a pending job past its due
   * time counts as its outcome). Kept by the store as jobs change, so it costs the same at any volume.
   */
  countByStatus(tenant: string, now: number): Promise<JobCounts>;
  /** The tenant's jobs of a tag or batch by effective status at `now`, every one of them (no cap). */
  countGroup(tenant: string, group: JobGroup, now: number): Promise<JobCounts>;
  /** Jobs of `tenant` whose effective change time is at or after `since` (for stream resume), oldest first. */
  changedSince(tenant: string, since: number, now: number, limit: number): Promise<JobRecord[]>;
  /**
   * Writes `next` (a transition of `previous`, from jobs/transition.ts) if the stored record is still
   * `previous` — same revision; returns the written record, or `undefined` when another write came
   * first (the caller reads again and retries). Compare-and-set makes every transition happen once
   * in a cluster. Moves the job's deadline in the settle index.
   */
  replace(previous: JobRecord, next: JobRecord, options: ReplaceOptions): Promise<JobRecord | undefined>;
  /**
   * Called once at start, at `upSince`: when the whole server was down until then, restarts the
   * heartbeat clock of every running reported job (jobs/transition.ts `withRestartGrace`); returns
   * how many. SQLite (one process) does so at every start; Redis, shared by instances, only when no
   * instance was up (or Redis was down) for a while, and then watches for such outages while it runs.
   * Absent where the engine cannot tell an outage of the whole server (memory: nothing survives one).
   */
  restartGrace?(upSince: number): Promise<number>;
  /** Cancels a job that is still pending at `now`. */
  cancel(tenant: string, id: string, now: number): Promise<CancelResult>;
  /** Settles pending jobs whose deadline passed by `now` (jobs/transition.ts `settleDue`), each once, and returns them as settled. */
  settleDue(now: number, limit: number): Promise<JobRecord[]>;
  /**
   * Final jobs (settled or canceled) whose final-state work was not confirmed by
   * {@link markNotified}, made final by the store at or before `before` (the store's `now` of the
   * settle or cancel, not `updatedAt`), oldest first. A crash, or a
   * lost reply, between a change and its webhooks leaves a job here rather than forgetting it.
   */
  unnotified(before: number, limit: number): Promise<JobRecord[]>;
  /** Confirms that the final-state work (publish, webhooks, email) of these jobs is done. */
  markNotified(jobs: readonly JobRecord[]): Promise<void>;
  /** The earliest deadline of a pending job. */
  nextDueAt(): Promise<number | undefined>;
  /** Points the tenant's seed-API "current timer" at job `id`. */
  setCurrentTimer(tenant: string, id: string): Promise<void>;
  /** The tenant's current timer job, if one was started. */
  getCurrentTimer(tenant: string): Promise<JobRecord | undefined>;
  /**
   * What `get()` would answer, when this instance holds it in memory and knows it is the newest (no
   * I/O, no promise); undefined when only `get()` can tell. Optional: a store without a read cache
   * leaves it out. Lets the hot reads answer without a promise.
   */
  peek?(tenant: string, id: string): JobRecord | undefined;
  /** What `getCurrentTimer()` would answer, under the same terms as {@link peek}. */
  peekCurrentTimer?(tenant: string): JobRecord | undefined;
  /**
   * Runs `work` with the writes it makes committed together, once it is done (a group commit: one
   * commit for a batch of queue messages instead of one each). Whatever `work` wrote is committed
   * even if it throws. Absent where each write is its own atomic step anyway (Redis scripts).
   */
  batch?<T>(work: () => Promise<T>): Promise<T>;
  /** Answers when the store is usable (for `/readyz`). */
  ping(): Promise<void>;
}
