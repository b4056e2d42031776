/**
 * What the routes ask of jobs: create (idempotently), read, list, cancel, and
 * wait for a change. Routes validate; this trusts its input.
 */
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { BatchNotFoundError, IdempotencyMismatchError, JobFinishedError, JobNotFoundError, WatchNotFoundError } from '../errors/errors.js';
import type { ChangeFeed, ChangeListener, Unsubscribe } from '../feed/change-feed.js';
import type { BatchRecord, JobCounts, JobGroup, JobSelector, JobStore, WatchRecord } from '../store/job-store.js';
import { DueScheduler } from './due-scheduler.js';
import { FinalOutbox, type FinalOutboxOptions } from './final-outbox.js';
import { BATCH_ID_PATTERN, JobIdFactory, WATCH_ID_PATTERN, isJobId } from './job-id.js';
import { MAX_GROUP_JOBS } from './job-set.js';
import { effectiveState, isFinal, type JobRecord, type JobStatus } from './job-record.js';
import { OutcomePicker, type Outcome } from './outcome.js';
import { applyReport, deadlineAt, type Report } from './transition.js';

/** Tries of a report that keeps meeting a concurrent write (compare-and-set) before it gives up. */
const REPORT_TRIES = 10;

/** Input of a create, already validated. Without `duration`, a reported job: pending until its worker reports. */
export interface NewJob {
  duration?: number | undefined;
  outcome?: Outcome | undefined;
  /** Reported jobs: a started job silent this long fails as stalled (default: none). */
  heartbeatTimeoutSeconds?: number | undefined;
  /** Reported jobs: a job not finished this long after creation fails as expired (default: the server's job timeout). */
  timeoutSeconds?: number | undefined;
  /** Extra webhook events (`job.progress`, `job.overdue`). */
  webhookEvents?: ('job.progress' | 'job.overdue')[] | undefined;
  callbackUrl?: string | undefined;
  notifyEmail?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  /** Labels to list, count and wait on jobs together. */
  tags?: string[] | undefined;
  /** What kind of work it is: its end is predicted from finished jobs of the kind. */
  kind?: string | undefined;
  /** How much work it is: predictions scale with it. */
  size?: number | undefined;
}

/** Result of {@link JobService.create}. */
export interface Created {
  job: JobRecord;
  replayed: boolean;
}

/** Result of {@link JobService.createBatch}. */
export interface CreatedBatch {
  batch: BatchRecord;
  jobs: JobRecord[];
  replayed: boolean;
}

/** How long a watch lasts (its jobs are not affected). */
const WATCH_TTL_MS = 24 * 3600 * 1000;

/** What a worker's report did, for the route to answer (see jobs/transition.ts `ReportOutcome`). */
export type ReportResult = { kind: 'applied' | 'unchanged' | 'stale' | 'duplicate' | 'finished' | 'canceled' | 'simulated'; job: JobRecord } | { kind: 'missing' };

/** Prefix of the Idempotency-Key that binds a queue's `externalId` to its job: a space, which no HTTP key may hold, keeps the two apart. */
const EXTERNAL_ID_KEY = 'external-id ';
/** The fingerprint of every external-id claim: the first message to name an external id creates its job, later ones find it. */
const EXTERNAL_ID_FINGERPRINT = 'external-id';

/** How a wait for a change ended. */
export interface WaitResult {
  job: JobRecord;
  /** True when the job changed (or was already past `knownVersion`); false when the wait ran out. */
  changed: boolean;
}

/**
 * What ends a held wait early: an `AbortSignal`, or any lighter object with these members. The
 * routes pass one that costs a few bytes (`http/while-connected.ts`): an AbortController is an
 * EventTarget of ~1 KB per held request (heap snapshots, bench/server).
 */
export interface WaitSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * Called when a job reaches a final state (settled or canceled): once on the instance that made
 * the change; if it fails, the outbox's sweep calls it again later (it is the one place that retries).
 */
export type FinalHandler = (job: JobRecord) => Promise<void>;

/** Jobs, their life and their waiters. */
export class JobService {
  private readonly scheduler: DueScheduler;
  /** Makes sure every final job's work is done at least once (see jobs/final-outbox.ts). */
  readonly outbox: FinalOutbox;
  private readonly ids = new JobIdFactory();
  private readonly batchIds = new JobIdFactory('bat_');
  private readonly watchIds = new JobIdFactory('wch_');
  private readonly outcomes: OutcomePicker;
  /** Held waits, answered at once on close so a shutdown drops no request. */
  private readonly waits = new Set<() => void>();
  private readonly finalHandlers: FinalHandler[] = [];
  private readonly createdListeners: ((job: JobRecord) => void)[] = [];
  private readonly changedListeners: ((job: JobRecord) => void)[] = [];
  private readonly reportedEndListeners: ((job: JobRecord) => void)[] = [];
  /** A reported job's timeout when its create names none. */
  private readonly jobTimeoutMs: number;

  constructor(
    private readonly store: JobStore,
    private readonly feed: ChangeFeed,
    private readonly log: FastifyBaseLogger,
    options: { errorRate: number; seed?: number | undefined; outbox?: FinalOutboxOptions | undefined; jobTimeoutSeconds?: number | undefined },
    readonly now: () => number = Date.now,
  ) {
    this.outcomes = new OutcomePicker(options.errorRate, options.seed);
    this.jobTimeoutMs = (options.jobTimeoutSeconds ?? 86_400) * 1000;
    // A settled (or canceled) job's work — publish, final handlers — runs through the outbox.
    this.scheduler = new DueScheduler(store, (job) => void this.outbox.run(job), log, now);
    this.outbox = new FinalOutbox(store, (job) => this.finalWork(job), log, now, options.outbox);
  }

  /**
   * Runs `handler` for every job that becomes final through this instance. The store's atomic
   * settle and cancel make each transition happen on exactly one instance; if that instance dies
   * (or loses the store's reply) before its handlers succeed, a sweep of the outbox runs them later
   * on some instance. So a handler runs at least once per job, and must be idempotent (webhook and
   * email enqueues are: a delivery's id is its job's and event's).
   */
  onJobFinal(handler: FinalHandler): void {
    this.finalHandlers.push(handler);
  }

  /** Runs `listener` (synchronously; it must not throw) once for every job a worker's final report ended, on the instance that wrote the end. */
  onReportedEnd(listener: (job: JobRecord) => void): void {
    this.reportedEndListeners.push(listener);
  }

  /** Runs `listener` (synchronously; it must not throw) for every job created through this instance, not for idempotent replays. */
  onJobCreated(listener: (job: JobRecord) => void): void {
    this.createdListeners.push(listener);
  }

  /**
   * Runs `listener` (synchronously; it must not throw) for every new version short of the end that
   * a report stores through this instance (progress, message, start, estimate; not a bare heartbeat).
   */
  onJobChanged(listener: (job: JobRecord) => void): void {
    this.changedListeners.push(listener);
  }

  /**
   * A final job's work: publish it, then run the final handlers, each once. True when every handler
   * succeeded; a failing one is logged and left to the outbox's sweep, the one owner of retries.
   */
  private async finalWork(job: JobRecord): Promise<boolean> {
    await this.publish(job);
    let done = true;
    for (const handler of this.finalHandlers) {
      try {
        await handler(job);
      } catch (error) {
        this.log.error({ err: error, jobId: job.id }, 'final-state handler failed; a later sweep of the outbox tries again');
        done = false;
      }
    }
    return done;
  }

  private async publish(job: JobRecord): Promise<void> {
    try {
      await this.feed.publish({ tenant: job.tenant, job });
    } catch (error) {
      // Not fatal, and not a reason to skip the notifications: waiters still learn of the change
      // (a held request re-reads at its end, status follows dueAt, feeds resync on reconnect).
      this.log.error({ err: error, jobId: job.id }, 'publishing a change failed');
    }
  }

  /** Creates a job; with an Idempotency-Key, a repeat with the same body replays the first job. */
  async create(tenant: string, input: NewJob, idempotencyKey?: string): Promise<Created> {
    return this.createClaimed(tenant, input, idempotencyKey === undefined ? undefined : { key: idempotencyKey, fingerprint: fingerprint(input) });
  }

  /**
   * The tenant's job known to its publisher as `externalId` (unique per tenant), created as a
   * reported job from `input` by the first message that names it. One atomic claim in the store,
   * so two instances taking two messages of a new job at once make one job.
   */
  async createForExternalId(tenant: string, externalId: string, input: NewJob): Promise<Created> {
    return this.createClaimed(tenant, input, { key: EXTERNAL_ID_KEY + externalId, fingerprint: EXTERNAL_ID_FINGERPRINT });
  }

  private async createClaimed(tenant: string, input: NewJob, claim: { key: string; fingerprint: string } | undefined): Promise<Created> {
    const now = this.now();
    const job = this.newRecord(tenant, input, now);
    const result = await this.store.create(job, claim);
    if (result.kind === 'mismatch') throw new IdempotencyMismatchError();
    if (result.kind === 'replayed') return { job: result.job, replayed: true };
    await this.created(result.job);
    return { job: result.job, replayed: false };
  }

  /**
   * Creates up to a thousand jobs in one transaction, all or none, as one batch whose `tags` every
   * job also carries. With an Idempotency-Key, a repeat with the same body replays the first batch.
   */
  async createBatch(tenant: string, inputs: readonly NewJob[], options: { tags?: string[] | undefined }, idempotencyKey?: string): Promise<CreatedBatch> {
    const now = this.now();
    const batch: BatchRecord = { id: this.batchIds.next(now), tenant, createdAt: now, total: inputs.length };
    if (options.tags !== undefined && options.tags.length > 0) batch.tags = [...options.tags];
    const jobs = inputs.map((input) => {
      const tags = mergeTags(options.tags, input.tags);
      const job = this.newRecord(tenant, { ...input, tags }, now);
      job.batchId = batch.id;
      return job;
    });
    const claim = idempotencyKey === undefined ? undefined : { key: idempotencyKey, fingerprint: fingerprint({ jobs: inputs, tags: options.tags }) };
    const result = await this.store.createBatch(batch, jobs, claim);
    if (result.kind === 'mismatch') throw new IdempotencyMismatchError();
    if (result.kind === 'replayed') return { batch: result.batch, jobs: result.jobs, replayed: true };
    await Promise.all(result.jobs.map((job) => this.created(job)));
    return { batch: result.batch, jobs: result.jobs, replayed: false };
  }

  /** After a create: the scheduler learns its deadline, the listeners and the feed learn of the job. */
  private async created(job: JobRecord): Promise<void> {
    const deadline = deadlineAt(job);
    if (deadline !== undefined) this.scheduler.jobScheduled(deadline);
    for (const listener of this.createdListeners) listener(job);
    await this.feed.publish({ tenant: job.tenant, job });
  }

  /** A new pending record of `input` (validated by the route). */
  private newRecord(tenant: string, input: NewJob, now: number): JobRecord {
    const job: JobRecord = { id: this.ids.next(now), tenant, state: 'pending', createdAt: now, updatedAt: now, version: 1 };
    if (input.duration !== undefined) {
      job.outcome = this.outcomes.pick(input.outcome);
      job.dueAt = now + Math.round(input.duration * 1000);
      job.duration = input.duration;
    } else {
      if (input.heartbeatTimeoutSeconds !== undefined) job.heartbeatTimeoutMs = Math.round(input.heartbeatTimeoutSeconds * 1000);
      job.expiresAt = now + (input.timeoutSeconds === undefined ? this.jobTimeoutMs : Math.round(input.timeoutSeconds * 1000));
      if (input.webhookEvents !== undefined && input.webhookEvents.length > 0) job.webhookEvents = [...input.webhookEvents];
    }
    if (input.metadata !== undefined) job.metadata = input.metadata;
    if (input.callbackUrl !== undefined) job.callbackUrl = input.callbackUrl;
    if (input.notifyEmail !== undefined) job.notifyEmail = input.notifyEmail;
    if (input.tags !== undefined && input.tags.length > 0) job.tags = [...input.tags];
    if (input.kind !== undefined) job.kind = input.kind;
    if (input.size !== undefined) job.size = input.size;
    return job;
  }

  /** The tenant's batch, or `BatchNotFoundError`. */
  async getBatch(tenant: string, id: string): Promise<BatchRecord> {
    const batch = BATCH_ID_PATTERN.test(id) ? await this.store.getBatch(tenant, id) : undefined;
    if (!batch) throw new BatchNotFoundError(id);
    return batch;
  }

  /** The tenant's jobs among `ids`, in the order given; another tenant's, unknown and malformed ids are simply absent. */
  async getMany(tenant: string, ids: readonly string[]): Promise<JobRecord[]> {
    const found = await this.store.getMany(tenant, [...new Set(ids.filter(isJobId))]);
    const byId = new Map(found.map((job) => [job.id, job]));
    return [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
  }

  /** The tenant's jobs of a tag or batch, oldest first (at most {@link MAX_GROUP_JOBS}). */
  members(tenant: string, group: JobGroup): Promise<JobRecord[]> {
    return this.store.members(tenant, group, MAX_GROUP_JOBS);
  }

  /** The tenant's jobs a selector names, as they are now. */
  select(tenant: string, selector: JobSelector): Promise<JobRecord[]> {
    return 'ids' in selector ? this.getMany(tenant, selector.ids) : this.members(tenant, selector);
  }

  /** Makes a watch of `selector` (ids the tenant does not own stay in it, and never show: as everywhere, they are not there). */
  async createWatch(tenant: string, selector: JobSelector): Promise<WatchRecord> {
    const now = this.now();
    const watch: WatchRecord = { id: this.watchIds.next(now), tenant, selector, createdAt: now, expiresAt: now + WATCH_TTL_MS };
    await this.store.saveWatch(watch);
    return watch;
  }

  /** The tenant's watch, or `WatchNotFoundError`. */
  async getWatch(tenant: string, id: string): Promise<WatchRecord> {
    const watch = WATCH_ID_PATTERN.test(id) ? await this.store.getWatch(tenant, id, this.now()) : undefined;
    if (!watch) throw new WatchNotFoundError(id);
    return watch;
  }

  /** Creates a job for the seed's `POST /start` and makes it the tenant's current timer. */
  async startTimer(tenant: string, duration: number): Promise<JobRecord> {
    const { job } = await this.create(tenant, { duration });
    await this.store.setCurrentTimer(tenant, job.id);
    return job;
  }

  /** The tenant's current timer (the job of its last `POST /start`), if any. */
  currentTimer(tenant: string): Promise<JobRecord | undefined> {
    return this.store.getCurrentTimer(tenant);
  }

  /** {@link currentTimer} when the store holds the answer in memory (no promise); undefined when only `currentTimer()` can tell. */
  peekCurrentTimer(tenant: string): JobRecord | undefined {
    return this.store.peekCurrentTimer?.(tenant);
  }

  /** {@link get} when the store holds the job in memory (no promise); undefined when only `get()` can tell, a missing job included. */
  peek(tenant: string, id: string): JobRecord | undefined {
    return this.store.peek?.(tenant, id);
  }

  /** Follows one job's changes; subscribe before reading, so no change between the two is missed. */
  subscribeJob(id: string, listener: ChangeListener): Promise<Unsubscribe> {
    return this.feed.subscribeJob(id, listener);
  }

  /** Follows every change of the tenant's jobs. */
  subscribeTenant(tenant: string, listener: ChangeListener): Promise<Unsubscribe> {
    return this.feed.subscribeTenant(tenant, listener);
  }

  /** The tenant's jobs changed at or after `since` (an event stream's resume), oldest first, at most `limit`. */
  changesSince(tenant: string, since: number, limit: number): Promise<JobRecord[]> {
    return this.store.changedSince(tenant, since, this.now(), limit);
  }

  /** Change-feed subscriptions held right now (long-polls and streams; for tests and metrics). */
  subscriptions(): number {
    return this.feed.size();
  }

  /**
   * Applies a worker's report to job `id`: the one operation behind every reporter — an HTTP report
   * (any tenant's job: the caller checked the job's report token, which names the job) and a queue
   * message (ingest/: `tenant` given, as the message's source is bound to tenants). Read, decide
   * (jobs/transition.ts), compare-and-set; on a conflict with another write (a heartbeat, a settle or
   * the same message on another instance), again from the new state. A message's id is written with
   * the change it made, so a redelivery after the commit finds it and is a `duplicate`.
   */
  async report(id: string, report: Report, tenant?: string): Promise<ReportResult> {
    for (let attempt = 0; attempt < REPORT_TRIES; attempt++) {
      const stored = isJobId(id) ? await this.store.getById(id) : undefined;
      if (!stored || (tenant !== undefined && stored.tenant !== tenant)) return { kind: 'missing' };
      const now = this.now();
      const out = applyReport(stored, report, now);
      if (out.kind !== 'changed' && out.kind !== 'touched') return { kind: out.kind, job: out.job };
      const final = isFinal(out.job.state);
      const written = await this.store.replace(stored, out.job, { now, final });
      if (!written) continue;
      const deadline = deadlineAt(written);
      if (deadline !== undefined) this.scheduler.jobScheduled(deadline);
      if (final) {
        await this.outbox.run(written);
        for (const listener of this.reportedEndListeners) listener(written);
      }
      // A bare heartbeat is no new version: it wakes no one.
      else if (out.kind === 'changed') {
        await this.publish(written);
        for (const listener of this.changedListeners) listener(written);
      }
      // A heartbeat carrying a message id is applied too: its receipt was written.
      return { kind: out.kind === 'changed' || report.messageId !== undefined ? 'applied' : 'unchanged', job: written };
    }
    throw new Error(`jobwait: job ${id} kept changing during ${REPORT_TRIES} report attempts`);
  }

  /** Runs `work` (reports, creates) as one group commit where the store has one (see JobStore.batch). */
  batch<T>(work: () => Promise<T>): Promise<T> {
    return this.store.batch ? this.store.batch(work) : work();
  }

  /** The tenant's job, or `JobNotFoundError` (also for another tenant's job and for malformed ids). */
  async get(tenant: string, id: string): Promise<JobRecord> {
    const job = isJobId(id) ? await this.store.get(tenant, id) : undefined;
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  /** Newest first, with a cursor for the next page. */
  async list(
    tenant: string,
    query: { status?: JobStatus | undefined; cursor?: string | undefined; limit: number; tag?: string | undefined; batch?: string | undefined },
  ): Promise<{ jobs: JobRecord[]; nextCursor?: string }> {
    const jobs = await this.store.list(tenant, { status: query.status, before: query.cursor, limit: query.limit + 1, tag: query.tag, batch: query.batch }, this.now());
    if (jobs.length <= query.limit) return { jobs };
    jobs.length = query.limit;
    return { jobs, nextCursor: jobs[jobs.length - 1]!.id };
  }

  /** The tenant's jobs by status, as reads show them at `now`. */
  async countByStatus(tenant: string, now: number = this.now()): Promise<JobCounts> {
    return this.store.countByStatus(tenant, now);
  }

  /** The tenant's jobs of a tag or batch by effective status at `now`, every one of them. */
  countGroup(tenant: string, group: JobGroup, now: number = this.now()): Promise<JobCounts> {
    return this.store.countGroup(tenant, group, now);
  }

  /** Cancels a pending job; canceling a canceled job returns it as it is; a finished job is a conflict. */
  async cancel(tenant: string, id: string): Promise<JobRecord> {
    if (!isJobId(id)) throw new JobNotFoundError(id);
    const result = await this.store.cancel(tenant, id, this.now());
    if (result.kind === 'missing') throw new JobNotFoundError(id);
    if (result.kind === 'final') {
      const status = effectiveState(result.job, this.now()).status;
      if (status === 'canceled') return result.job;
      throw new JobFinishedError(id, status);
    }
    await this.outbox.run(result.job);
    return result.job;
  }

  /**
   * Holds until the job's effective version passes `knownVersion` (or, without one, until it
   * changes from now), or `timeoutMs` passes, or `signal` aborts. Subscribes before reading, so
   * a change between the two is never missed.
   */
  async waitForChange(
    tenant: string,
    id: string,
    timeoutMs: number,
    knownVersion: number | undefined,
    signal: WaitSignal,
    untilFinal = false,
  ): Promise<WaitResult> {
    // The newest version published since subscribing; `wake` is armed once the hold starts.
    let published: JobRecord | undefined;
    let wake: (() => void) | undefined;
    const unsubscribe = await this.feed.subscribeJob(id, (change) => {
      if (change.job.tenant !== tenant) return;
      if (!published || change.job.version >= published.version) published = change.job;
      wake?.();
    });
    try {
      const first = await this.get(tenant, id);
      const firstState = effectiveState(first, this.now());
      const baseline = knownVersion ?? firstState.version;
      if (isFinal(firstState.status) || (!untilFinal && firstState.version > baseline)) {
        return { job: first, changed: firstState.version > baseline || knownVersion === undefined };
      }
      // With untilFinal (`Prefer: until=final`), progress reports do not end the hold: only the end does.
      const newer = (): JobRecord | undefined => {
        if (!published) return undefined;
        const state = effectiveState(published, this.now());
        return state.version > baseline && (!untilFinal || isFinal(state.status)) ? published : undefined;
      };
      if (signal.aborted || newer()) return { job: newer() ?? first, changed: newer() !== undefined };
      // The scheduler publishes at the deadline; this also wakes if it lags (status follows the deadline).
      const deadline = deadlineAt(first);
      const holdMs = deadline === undefined ? timeoutMs : Math.min(timeoutMs, Math.max(0, deadline - this.now()) + 1000);
      // One promise, one timer and one abort listener per held wait, all released when it ends: with
      // 20,000 waiters the garbage of a Promise.race of three was a good part of the wake-up (bench/server).
      await new Promise<void>((resolve) => {
        const end = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', end);
          this.waits.delete(end);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(end, holdMs);
        signal.addEventListener('abort', end, { once: true });
        this.waits.add(end);
        // Only a newer version ends the hold: a re-delivery of what the waiter has (a feed resync) does not.
        wake = () => {
          if (newer()) end();
        };
      });
      // Every waiter of a job shares the published record: 20,000 waiters re-reading the store at
      // once made the last of them hundreds of ms late (bench/server).
      const changed = newer();
      if (changed) return { job: changed, changed: true };
      const job = await this.get(tenant, id);
      return { job, changed: effectiveState(job, this.now()).version > baseline };
    } finally {
      unsubscribe();
    }
  }

  /** A job due at `dueAt` exists that this instance did not create (another instance did): settle it then too. */
  expectDue(dueAt: number): void {
    this.scheduler.jobScheduled(dueAt);
  }

  /** Current number of held waits. */
  heldWaits(): number {
    return this.waits.size;
  }

  /**
   * Starts the scheduler (settles what fell due while stopped), then the outbox's sweeps (finishes
   * what a previous run left undone). First, when the engine finds the whole server was down (every
   * SQLite start; on Redis, no instance up for a while), running jobs get one heartbeat interval
   * from now before they can stall: no worker could report while the server was away.
   */
  async start(): Promise<void> {
    let graced = 0;
    try {
      graced = (await this.store.restartGrace?.(this.now())) ?? 0;
    } catch (error) {
      // A shared store down at start must not fail the start; it gives the grace once it answers (see the engine).
      this.log.warn({ err: error }, 'could not check for a restart grace at start (store unreachable)');
    }
    if (graced > 0) this.log.info({ jobs: graced }, 'running jobs get one heartbeat interval after the restart before they can stall');
    await this.scheduler.start();
    this.outbox.start();
  }

  /** Answers every held wait with the current state and stops the scheduler. */
  async close(): Promise<void> {
    for (const wake of [...this.waits]) wake();
    this.scheduler.stop();
    await this.outbox.stop();
    this.log.debug('job service closed');
  }
}

/** A batch's tags and a job's own, once each. */
function mergeTags(batchTags: readonly string[] | undefined, jobTags: readonly string[] | undefined): string[] | undefined {
  if (!batchTags?.length) return jobTags?.length ? [...jobTags] : undefined;
  return [...new Set([...batchTags, ...(jobTags ?? [])])];
}

/** Hash of a create body, canonical in key order, for Idempotency-Key comparisons. */
export function fingerprint(input: unknown): string {
  return createHash('sha256').update(canonicalJson(input)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
