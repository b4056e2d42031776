/**
 * Jobs in SQLite, on the engine's connection (engines/sqlite/sqlite-engine.ts). Every
 * statement is prepared once; creates with an Idempotency-Key run in one
 * transaction, so a repeated key can never make a twin. Creates without one
 * are group-committed: those arriving in the same turn of the event loop share
 * one transaction, and each answers once its row is committed.
 */
import type Database from 'better-sqlite3';
import type { JobRecord, JobStatus } from '../../jobs/job-record.js';
import type { Outcome } from '../../jobs/outcome.js';
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
import { BatchCommitError } from '../../store/job-store.js';
import { cancel as cancelJob, deadlineAt, settleDue as settleJob, withRestartGrace, type JobLifecycle } from '../../jobs/transition.js';
import { RecordCache } from './record-cache.js';

interface Row {
  id: string;
  tenant: string;
  state: JobStatus;
  outcome: Outcome | null;
  created_at: number;
  due_at: number | null;
  updated_at: number;
  duration: number | null;
  version: number;
  metadata: string | null;
  callback_url: string | null;
  notify_email: string | null;
  /** When the server ends the pending job by itself (jobs/transition.ts `deadlineAt`): the settle index. */
  deadline_at: number | null;
  /** A reported job's worker-facing members ({@link Work}) as JSON; NULL on a timer. */
  work: string | null;
  rev: number;
  /** JSON array of the job's tags (also one row each in `job_tags`, the index by tag). */
  tags: string | null;
  batch_id: string | null;
}

/** The members of a reported job kept in the `work` column: read and written whole, never filtered on. */
type Work = Pick<
  JobRecord,
  'startedAt' | 'heartbeatAt' | 'reportedAt' | 'reportSeq' | 'receipts' | 'progress' | 'message' | 'result' | 'error' | 'heartbeatTimeoutMs' | 'expiresAt' | 'webhookEvents' | 'kind' | 'size'
>;
const WORK_KEYS = ['startedAt', 'heartbeatAt', 'reportedAt', 'reportSeq', 'receipts', 'progress', 'message', 'result', 'error', 'heartbeatTimeoutMs', 'expiresAt', 'webhookEvents', 'kind', 'size'] as const;

/** A job row as an array, in {@link COLUMNS} order: raw rows skip building an object with named keys per read. */
type RawRow = [
  string,
  string,
  JobStatus,
  Outcome | null,
  number,
  number | null,
  number,
  number | null,
  number,
  string | null,
  string | null,
  string | null,
  string | null,
  number,
  string | null,
  string | null,
];

/** The columns of {@link RawRow}, for the hot reads. */
const COLUMNS = 'id, tenant, state, outcome, created_at, due_at, updated_at, duration, version, metadata, callback_url, notify_email, work, rev, tags, batch_id';

/** Version of the schema below, in `PRAGMA user_version`: 0 is release 0.1.0's file (timers only). */
const SCHEMA_VERSION = 2;

/** A create waiting for the next group commit. */
interface PendingCreate {
  row: Row;
  resolve: (result: CreateResult) => void;
  reject: (error: unknown) => void;
}

/** The jobs table of schema 1 (`%s`: its name while a 0.1.0 file is copied into it). */
function jobsTable(name: string): string {
  return `CREATE TABLE ${name} (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  state TEXT NOT NULL,
  outcome TEXT,
  created_at INTEGER NOT NULL,
  due_at INTEGER,
  updated_at INTEGER NOT NULL,
  duration REAL,
  version INTEGER NOT NULL,
  metadata TEXT,
  callback_url TEXT,
  notify_email TEXT,
  unnotified_since INTEGER,
  deadline_at INTEGER,
  work TEXT,
  rev INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID`;
}

const INDEXES = `
CREATE INDEX IF NOT EXISTS jobs_pending_deadline ON jobs (deadline_at) WHERE state = 'pending' AND deadline_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_tenant_id ON jobs (tenant, id);
CREATE INDEX IF NOT EXISTS jobs_unnotified ON jobs (unnotified_since) WHERE unnotified_since IS NOT NULL;
`;

const OTHER_TABLES = `
CREATE TABLE IF NOT EXISTS idempotency_keys (
  tenant TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  job_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency_keys (created_at);
CREATE TABLE IF NOT EXISTS current_timers (
  tenant TEXT PRIMARY KEY,
  job_id TEXT NOT NULL
) WITHOUT ROWID;
`;

/**
 * Jobs by tenant and stored state, kept by triggers in the same transaction as every change of a
 * row (insert, change of state, delete), so reading them costs the same at any volume. Made by
 * {@link migrate}, which fills it from the rows already there.
 */
const COUNTS_SCHEMA = `
CREATE TABLE job_counts (
  tenant TEXT NOT NULL,
  state TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (tenant, state)
) WITHOUT ROWID;
CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs BEGIN
  INSERT INTO job_counts (tenant, state, n) VALUES (NEW.tenant, NEW.state, 1)
    ON CONFLICT (tenant, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER job_counts_update AFTER UPDATE OF tenant, state ON jobs
  WHEN OLD.state IS NOT NEW.state OR OLD.tenant IS NOT NEW.tenant BEGIN
  UPDATE job_counts SET n = n - 1 WHERE tenant = OLD.tenant AND state = OLD.state;
  INSERT INTO job_counts (tenant, state, n) VALUES (NEW.tenant, NEW.state, 1)
    ON CONFLICT (tenant, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER job_counts_delete AFTER DELETE ON jobs BEGIN
  UPDATE job_counts SET n = n - 1 WHERE tenant = OLD.tenant AND state = OLD.state;
END;
INSERT INTO job_counts (tenant, state, n) SELECT tenant, state, COUNT(*) FROM jobs GROUP BY tenant, state;
`;

/**
 * Schema 2: tags and batches. A job's tags are a JSON column and one row each in
 * `job_tags` (kept by triggers, so retention's deletes take them too); a batch is a row of its
 * own and its jobs carry its id; a watch is a set of ids kept until it expires.
 */
const GROUPS_SCHEMA = `
ALTER TABLE jobs ADD COLUMN tags TEXT;
ALTER TABLE jobs ADD COLUMN batch_id TEXT;
CREATE INDEX jobs_tenant_batch ON jobs (tenant, batch_id, id) WHERE batch_id IS NOT NULL;
CREATE TABLE job_tags (
  tenant TEXT NOT NULL,
  tag TEXT NOT NULL,
  job_id TEXT NOT NULL,
  PRIMARY KEY (tenant, tag, job_id)
) WITHOUT ROWID;
CREATE TRIGGER job_tags_insert AFTER INSERT ON jobs WHEN NEW.tags IS NOT NULL BEGIN
  INSERT OR IGNORE INTO job_tags (tenant, tag, job_id) SELECT NEW.tenant, value, NEW.id FROM json_each(NEW.tags);
END;
CREATE TRIGGER job_tags_delete AFTER DELETE ON jobs WHEN OLD.tags IS NOT NULL BEGIN
  DELETE FROM job_tags WHERE tenant = OLD.tenant AND job_id = OLD.id AND tag IN (SELECT value FROM json_each(OLD.tags));
END;
CREATE TABLE batches (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  total INTEGER NOT NULL,
  tags TEXT
) WITHOUT ROWID;
CREATE TABLE watches (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  selector TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX watches_expiry ON watches (expires_at);
`;

/** An Idempotency-Key of a batch, kept apart from the same key of a single create. */
const BATCH_KEY_PREFIX = 'batch:';

/**
 * Effective-status filters, the SQL form of jobs/transition.ts `effectiveJob`: a pending row past
 * its deadline already counts as settled — a timer as its outcome, a reported job as failed.
 */
const STATUS_FILTER: Record<JobStatus, string> = {
  pending: `state = 'pending' AND (deadline_at IS NULL OR deadline_at > @now)`,
  completed: `(state = 'completed' OR (state = 'pending' AND deadline_at <= @now AND duration IS NOT NULL AND outcome = 'completed'))`,
  error: `(state = 'error' OR (state = 'pending' AND deadline_at <= @now AND (duration IS NULL OR outcome = 'error')))`,
  canceled: `state = 'canceled'`,
};

/** {@link JobStore} on the SQLite engine's connection. */
export class SqliteJobStore implements JobStore {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    migrate(this.db);
    this.stmt = {
      insert: db.prepare(`INSERT INTO jobs (id, tenant, state, outcome, created_at, due_at, updated_at, duration, version, metadata, callback_url, notify_email, deadline_at, work, rev, tags, batch_id)
        VALUES (@id, @tenant, @state, @outcome, @created_at, @due_at, @updated_at, @duration, @version, @metadata, @callback_url, @notify_email, @deadline_at, @work, @rev, @tags, @batch_id)`),
      insertBatch: db.prepare<[string, string, number, number, string | null]>('INSERT INTO batches (id, tenant, created_at, total, tags) VALUES (?, ?, ?, ?, ?)'),
      getBatch: db.prepare<[string, string], { id: string; tenant: string; created_at: number; total: number; tags: string | null }>('SELECT * FROM batches WHERE id = ? AND tenant = ?'),
      getMany: db.prepare<[string, string], RawRow>(`SELECT ${COLUMNS} FROM jobs WHERE tenant = ? AND id IN (SELECT value FROM json_each(?))`).raw(true),
      byTag: db
        .prepare<[string, string, number], RawRow>(
          `SELECT ${COLUMNS.replace(/(\w+)/g, 'jobs.$1')} FROM job_tags JOIN jobs ON jobs.id = job_tags.job_id WHERE job_tags.tenant = ? AND job_tags.tag = ? ORDER BY job_tags.job_id LIMIT ?`,
        )
        .raw(true),
      byBatch: db.prepare<[string, string, number], RawRow>(`SELECT ${COLUMNS} FROM jobs WHERE tenant = ? AND batch_id = ? ORDER BY id LIMIT ?`).raw(true),
      saveWatch: db.prepare<[string, string, string, number, number]>('INSERT INTO watches (id, tenant, selector, created_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
      dropWatches: db.prepare<[number]>('DELETE FROM watches WHERE expires_at <= ?'),
      getWatch: db.prepare<[string, string, number], { id: string; tenant: string; selector: string; created_at: number; expires_at: number }>(
        'SELECT * FROM watches WHERE id = ? AND tenant = ? AND expires_at > ?',
      ),
      // Compare-and-set on the revision: a record read before another write changed it is not written.
      replace: db.prepare<Row & { expected: number; unnotified: number | null }, { rev: number }>(`UPDATE jobs SET state = @state, due_at = @due_at, updated_at = @updated_at,
        version = @version, deadline_at = @deadline_at, work = @work, rev = @rev, unnotified_since = COALESCE(@unnotified, unnotified_since)
        WHERE id = @id AND rev = @expected RETURNING rev`),
      pendingReported: db.prepare<[], RawRow>(`SELECT ${COLUMNS} FROM jobs WHERE state = 'pending' AND duration IS NULL AND deadline_at IS NOT NULL`).raw(true),
      // Raw rows on the read paths every poll takes: ~2 µs of ~6 µs per read (bench/server).
      get: db.prepare<[string, string], RawRow>(`SELECT ${COLUMNS} FROM jobs WHERE id = ? AND tenant = ?`).raw(true),
      getById: db.prepare<[string], RawRow>(`SELECT ${COLUMNS} FROM jobs WHERE id = ?`).raw(true),
      idemGet: db.prepare<[string, string], { fingerprint: string; job_id: string }>('SELECT fingerprint, job_id FROM idempotency_keys WHERE tenant = ? AND key = ?'),
      // A key whose job is gone (past retention) is taken over by the new job.
      idemInsert: db.prepare(`INSERT INTO idempotency_keys (tenant, key, fingerprint, job_id, created_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (tenant, key) DO UPDATE SET fingerprint = excluded.fingerprint, job_id = excluded.job_id, created_at = excluded.created_at`),
      dueRows: db.prepare<[number, number], RawRow>(`SELECT ${COLUMNS} FROM jobs WHERE state = 'pending' AND deadline_at <= ? ORDER BY deadline_at LIMIT ?`).raw(true),
      unnotified: db
        .prepare<[number, number], RawRow>(`SELECT ${COLUMNS} FROM jobs WHERE unnotified_since IS NOT NULL AND unnotified_since <= ? ORDER BY unnotified_since LIMIT ?`)
        .raw(true),
      markNotified: db.prepare<[string]>('UPDATE jobs SET unnotified_since = NULL WHERE id = ?'),
      nextDue: db.prepare<[], { due: number | null }>(`SELECT MIN(deadline_at) AS due FROM jobs WHERE state = 'pending'`),
      setTimer: db.prepare('INSERT INTO current_timers (tenant, job_id) VALUES (?, ?) ON CONFLICT (tenant) DO UPDATE SET job_id = excluded.job_id'),
      getTimer: db
        .prepare<[string], RawRow>(`SELECT ${COLUMNS.replace(/(\w+)/g, 'jobs.$1')} FROM current_timers JOIN jobs ON jobs.id = current_timers.job_id WHERE current_timers.tenant = ?`)
        .raw(true),
      changedSince: db.prepare<{ tenant: string; since: number; now: number; limit: number }, Row>(`SELECT * FROM jobs WHERE tenant = @tenant AND (
          updated_at >= @since
          OR (state = 'pending' AND deadline_at >= @since AND deadline_at <= @now)
          OR created_at >= @since)
        ORDER BY id LIMIT @limit`),
      counts: db.prepare<[string], { state: JobStatus; n: number }>('SELECT state, n FROM job_counts WHERE tenant = ?'),
      // Pending rows past their deadline, which reads already show as settled (a timer as its
      // outcome, a reported job as an error). Few (the scheduler settles them within moments), and
      // found through the partial index on deadline_at.
      overdue: db.prepare<[number, string], { outcome: Outcome; n: number }>(
        `SELECT CASE WHEN duration IS NULL THEN 'error' ELSE outcome END AS outcome, COUNT(*) AS n FROM jobs
          WHERE state = 'pending' AND deadline_at <= ? AND tenant = ? GROUP BY 1`,
      ),
      ...groupCountStatements(db),
      ping: db.prepare('SELECT 1'),
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
    };
    this.cache = new RecordCache(() => this.stmt.dataVersion.get()!);
    this.createTx = db.transaction((row: Row, claim: IdempotencyClaim | undefined): CreateResult => {
      if (claim) {
        const prior = this.stmt.idemGet.get(row.tenant, claim.key);
        // A key lives as long as its job (every engine): once retention deleted the job, the key is free.
        const job = prior && this.stmt.getById.get(prior.job_id);
        if (job) return prior.fingerprint === claim.fingerprint ? { kind: 'replayed', job: fromRaw(job) } : { kind: 'mismatch' };
        this.stmt.idemInsert.run(row.tenant, claim.key, claim.fingerprint, row.id, row.created_at);
      }
      this.stmt.insert.run(row);
      return { kind: 'created', job: fromRow(row) };
    });
    // Settling goes through the one state machine (jobs/transition.ts), in one transaction.
    this.settleTx = db.transaction((now: number, limit: number): JobRecord[] => {
      const settled: JobRecord[] = [];
      for (const raw of this.stmt.dueRows.all(now, limit)) {
        const job = fromRaw(raw);
        const next = settleJob(job, now);
        // unnotified_since: when the job became final, until its webhooks/email are confirmed (see JobStore.unnotified).
        const written = this.write(job, next ?? job, next ? now : null);
        if (next && written) settled.push(written);
      }
      return settled;
    });
    this.cancelTx = db.transaction((tenant: string, id: string, now: number): CancelResult => {
      const raw = this.stmt.get.get(id, tenant);
      if (!raw) return { kind: 'missing' };
      const out = cancelJob(fromRaw(raw), now);
      if (out.kind === 'final') return out;
      const written = this.write(fromRaw(raw), out.job, now);
      return written ? { kind: 'canceled', job: written } : { kind: 'final', job: fromRaw(this.stmt.get.get(id, tenant)!) };
    });
    this.graceTx = db.transaction((upSince: number): JobRecord[] => {
      const graced: JobRecord[] = [];
      for (const raw of this.stmt.pendingReported.all()) {
        const job = fromRaw(raw);
        const next = withRestartGrace(job, upSince);
        const written = next && this.write(job, next, null);
        if (written) graced.push(written);
      }
      return graced;
    });
    this.createBatchTx = db.transaction((batch: BatchRecord, rows: Row[], claim: IdempotencyClaim | undefined): BatchCreateResult => {
      if (claim) {
        const prior = this.stmt.idemGet.get(batch.tenant, BATCH_KEY_PREFIX + claim.key);
        const first = prior && this.stmt.getBatch.get(prior.job_id, batch.tenant);
        if (first) {
          if (prior.fingerprint !== claim.fingerprint) return { kind: 'mismatch' };
          return { kind: 'replayed', batch: batchFromRow(first), jobs: this.stmt.byBatch.all(batch.tenant, first.id, first.total).map(fromRaw) };
        }
        this.stmt.idemInsert.run(batch.tenant, BATCH_KEY_PREFIX + claim.key, claim.fingerprint, batch.id, batch.createdAt);
      }
      this.stmt.insertBatch.run(batch.id, batch.tenant, batch.createdAt, batch.total, batch.tags === undefined ? null : JSON.stringify(batch.tags));
      for (const row of rows) this.stmt.insert.run(row);
      return { kind: 'created', batch, jobs: rows.map(fromRow) };
    });
    this.markNotifiedTx = db.transaction((ids: string[]): void => {
      for (const id of ids) this.stmt.markNotified.run(id);
    });
    this.insertBatch = db.transaction((rows: Row[]): void => {
      for (const row of rows) this.stmt.insert.run(row);
    });
    this.listStatements = new Map();
  }

  private readonly createTx: (row: Row, claim: IdempotencyClaim | undefined) => CreateResult;
  private readonly createBatchTx: (batch: BatchRecord, rows: Row[], claim: IdempotencyClaim | undefined) => BatchCreateResult;
  private readonly settleTx: (now: number, limit: number) => JobRecord[];
  private readonly cancelTx: (tenant: string, id: string, now: number) => CancelResult;
  private readonly graceTx: (upSince: number) => JobRecord[];
  private readonly insertBatch: (rows: Row[]) => void;
  private readonly markNotifiedTx: (ids: string[]) => void;
  private pendingCreates: PendingCreate[] = [];
  private readonly listStatements: Map<string, Database.Statement<Record<string, unknown>, Row>>;
  private readonly cache: RecordCache;

  /** `record`, kept in the read cache as its job's newest state. */
  private cached(record: JobRecord): JobRecord {
    this.cache.set(record);
    return record;
  }

  async create(job: JobRecord, idempotency?: IdempotencyClaim): Promise<CreateResult> {
    if (idempotency) {
      const result = this.createTx(toRow(job), idempotency);
      if (result.kind !== 'mismatch') this.cache.set(result.job);
      return result;
    }
    // Group commit: one commit per job (a WAL write and a lock round each) capped creates near
    // 5,000/s; batched, the same durability costs a fraction (bench/server).
    return new Promise((resolve, reject) => {
      if (this.pendingCreates.push({ row: toRow(job), resolve, reject }) === 1) setImmediate(() => this.commitCreates());
    });
  }

  /** Commits every waiting create in one transaction, then answers each. */
  private commitCreates(): void {
    const batch = this.pendingCreates;
    if (batch.length === 0) return;
    this.pendingCreates = [];
    try {
      this.insertBatch(batch.map((pending) => pending.row));
    } catch {
      // One bad row must not fail the others: commit them one by one, and fail only those that fail.
      for (const { row, resolve, reject } of batch) {
        try {
          this.stmt.insert.run(row);
          resolve({ kind: 'created', job: this.cached(fromRow(row)) });
        } catch (error) {
          reject(error);
        }
      }
      return;
    }
    for (const { row, resolve } of batch) resolve({ kind: 'created', job: this.cached(fromRow(row)) });
  }

  async createBatch(batch: BatchRecord, jobs: readonly JobRecord[], idempotency?: IdempotencyClaim): Promise<BatchCreateResult> {
    // Creates waiting for their group commit go first: a batch's transaction must not wait behind them.
    this.commitCreates();
    const result = this.createBatchTx(batch, jobs.map(toRow), idempotency);
    if (result.kind !== 'mismatch') for (const job of result.jobs) this.cache.set(job);
    return result;
  }

  async getBatch(tenant: string, id: string): Promise<BatchRecord | undefined> {
    const row = this.stmt.getBatch.get(id, tenant);
    return row && batchFromRow(row);
  }

  async getMany(tenant: string, ids: readonly string[]): Promise<JobRecord[]> {
    if (ids.length === 0) return [];
    return this.stmt.getMany.all(tenant, JSON.stringify(ids)).map(fromRaw);
  }

  async members(tenant: string, group: JobGroup, limit: number): Promise<JobRecord[]> {
    const rows = 'tag' in group ? this.stmt.byTag.all(tenant, group.tag, limit) : this.stmt.byBatch.all(tenant, group.batch, limit);
    return rows.map(fromRaw);
  }

  async saveWatch(watch: WatchRecord): Promise<void> {
    // Expired watches go as new ones come: no sweeper of their own.
    this.stmt.dropWatches.run(watch.createdAt);
    this.stmt.saveWatch.run(watch.id, watch.tenant, JSON.stringify(watch.selector), watch.createdAt, watch.expiresAt);
  }

  async getWatch(tenant: string, id: string, now: number): Promise<WatchRecord | undefined> {
    const row = this.stmt.getWatch.get(id, tenant, now);
    return row && { id: row.id, tenant: row.tenant, selector: JSON.parse(row.selector) as WatchRecord['selector'], createdAt: row.created_at, expiresAt: row.expires_at };
  }

  async get(tenant: string, id: string): Promise<JobRecord | undefined> {
    this.cache.validate();
    const hit = this.cache.get(id);
    if (hit) return hit.tenant === tenant ? hit : undefined;
    const row = this.stmt.get.get(id, tenant);
    return row && this.cached(fromRaw(row));
  }

  peek(tenant: string, id: string): JobRecord | undefined {
    this.cache.validate();
    const hit = this.cache.get(id);
    return hit?.tenant === tenant ? hit : undefined;
  }

  async getById(id: string): Promise<JobRecord | undefined> {
    this.cache.validate();
    const hit = this.cache.get(id);
    if (hit) return hit;
    const row = this.stmt.getById.get(id);
    return row && this.cached(fromRaw(row));
  }

  async list(tenant: string, query: ListQuery, now: number): Promise<JobRecord[]> {
    const key = `${query.status ?? ''}|${query.before ? 1 : 0}|${query.tag === undefined ? 0 : 1}|${query.batch === undefined ? 0 : 1}`;
    let stmt = this.listStatements.get(key);
    if (!stmt) {
      const where = ['tenant = @tenant'];
      if (query.status) where.push(STATUS_FILTER[query.status]);
      if (query.before) where.push('id < @before');
      if (query.tag !== undefined) where.push('id IN (SELECT job_id FROM job_tags WHERE tenant = @tenant AND tag = @tag)');
      if (query.batch !== undefined) where.push('batch_id = @batch');
      stmt = this.db.prepare<Record<string, unknown>, Row>(`SELECT * FROM jobs WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT @limit`);
      this.listStatements.set(key, stmt);
    }
    const params: Record<string, unknown> = { tenant, limit: query.limit };
    if (query.status && query.status !== 'canceled') params.now = now;
    if (query.before) params.before = query.before;
    if (query.tag !== undefined) params.tag = query.tag;
    if (query.batch !== undefined) params.batch = query.batch;
    return stmt.all(params).map(fromRow);
  }

  async countByStatus(tenant: string, now: number): Promise<JobCounts> {
    const counts: JobCounts = { pending: 0, completed: 0, error: 0, canceled: 0 };
    for (const { state, n } of this.stmt.counts.all(tenant)) counts[state] = n;
    for (const { outcome, n } of this.stmt.overdue.all(now, tenant)) {
      counts.pending -= n;
      counts[outcome] += n;
    }
    return counts;
  }

  async countGroup(tenant: string, group: JobGroup, now: number): Promise<JobCounts> {
    const [counts, overdue, value] =
      'tag' in group ? [this.stmt.tagCounts, this.stmt.tagOverdue, group.tag] : [this.stmt.batchCounts, this.stmt.batchOverdue, group.batch];
    const result: JobCounts = { pending: 0, completed: 0, error: 0, canceled: 0 };
    for (const { state, n } of counts.all({ tenant, value })) result[state] = n;
    for (const { outcome, n } of overdue.all({ tenant, value, now })) {
      result.pending -= n;
      result[outcome] += n;
    }
    return result;
  }

  async changedSince(tenant: string, since: number, now: number, limit: number): Promise<JobRecord[]> {
    return this.stmt.changedSince.all({ tenant, since, now, limit }).map(fromRow);
  }

  async cancel(tenant: string, id: string, now: number): Promise<CancelResult> {
    const result = this.cancelTx(tenant, id, now);
    if (result.kind === 'canceled') this.cache.set(result.job);
    return result;
  }

  async replace(previous: JobRecord, next: JobRecord, options: ReplaceOptions): Promise<JobRecord | undefined> {
    const written = this.write(previous, next, options.final ? options.now : null);
    if (written) this.cache.set(written);
    return written;
  }

  async restartGrace(upSince: number): Promise<number> {
    const graced = this.graceTx(upSince);
    for (const job of graced) this.cache.set(job);
    return graced.length;
  }

  /**
   * Writes `next` over `previous` if the row still has `previous`'s revision; the written record
   * (with its new revision), or undefined when another write came first. `unnotified` marks a
   * job that just became final (see {@link JobStore.unnotified}).
   */
  private write(previous: JobRecord, next: JobRecord, unnotified: number | null): JobRecord | undefined {
    const expected = previous.rev ?? 0;
    const row = { ...toRow(next), rev: expected + 1 };
    const done = this.stmt.replace.get({ ...row, expected, unnotified });
    return done ? { ...next, rev: done.rev } : undefined;
  }

  async settleDue(now: number, limit: number): Promise<JobRecord[]> {
    // Cached once committed: a transaction that fails to commit leaves the cache as it was.
    const settled = this.settleTx(now, limit);
    for (const job of settled) this.cache.set(job);
    return settled;
  }

  async unnotified(before: number, limit: number): Promise<JobRecord[]> {
    return this.stmt.unnotified.all(before, limit).map(fromRaw);
  }

  async markNotified(jobs: readonly JobRecord[]): Promise<void> {
    if (jobs.length > 0) this.markNotifiedTx(jobs.map((job) => job.id));
  }

  async nextDueAt(): Promise<number | undefined> {
    return this.stmt.nextDue.get()?.due ?? undefined;
  }

  async setCurrentTimer(tenant: string, id: string): Promise<void> {
    this.stmt.setTimer.run(tenant, id);
    this.cache.setTimer(tenant, id);
  }

  peekCurrentTimer(tenant: string): JobRecord | undefined {
    this.cache.validate();
    const id = this.cache.timer(tenant);
    return id === undefined ? undefined : this.cache.get(id);
  }

  async getCurrentTimer(tenant: string): Promise<JobRecord | undefined> {
    const hit = this.peekCurrentTimer(tenant);
    if (hit) return hit;
    const row = this.stmt.getTimer.get(tenant);
    if (!row) return undefined;
    const job = this.cached(fromRaw(row));
    this.cache.setTimer(tenant, job.id);
    return job;
  }

  /**
   * One transaction around `work`: a commit per queue message was half of ingest's time (bench:ingest).
   * `work` should await nothing but this connection (its calls are synchronous underneath), so no
   * other request's write joins the transaction and is answered before the commit.
   */
  async batch<T>(work: () => Promise<T>): Promise<T> {
    if (this.db.inTransaction) return work();
    this.db.exec('BEGIN');
    try {
      return await work();
    } finally {
      try {
        this.db.exec('COMMIT');
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        // The cache holds records of the writes just rolled back.
        this.cache.clear();
        // eslint-disable-next-line no-unsafe-finally
        throw new BatchCommitError(error);
      }
    }
  }

  /** Drops deleted jobs from the read cache (retention deletes on this connection, which the cache cannot see). */
  forget(ids: readonly string[]): void {
    for (const id of ids) this.cache.delete(id);
  }

  async ping(): Promise<void> {
    this.stmt.ping.get();
  }

  /** Commits the creates still waiting for their group commit (the engine calls it before closing). */
  flush(): void {
    this.commitCreates();
  }
}

/**
 * Creates the tables, or brings a file made by an earlier version up to {@link SCHEMA_VERSION}
 * in place (`PRAGMA user_version` says which version wrote it). Version 0 is release 0.1.0's:
 * its jobs table required `due_at` and `duration`, which a reported job lacks, so it is copied
 * into a new table in one transaction — a crash midway leaves the old file as it was.
 */
function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) throw new Error(`the data file was written by a newer jobwait (schema ${version}; this one knows up to ${SCHEMA_VERSION})`);
  db.transaction(() => {
    const exists = db.prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'jobs'`).get() !== undefined;
    if (!exists) {
      db.exec(jobsTable('jobs'));
    } else if (version < 1) {
      const columns = db.prepare<[], { name: string }>('PRAGMA table_info(jobs)').all();
      // `unnotified_since` came within 0.1.0: rows from before it count as notified (NULL), so an upgrade re-sends nothing.
      const unnotified = columns.some((column) => column.name === 'unnotified_since') ? 'unnotified_since' : 'NULL';
      db.exec(`${jobsTable('jobs_v1')};
        INSERT INTO jobs_v1 (id, tenant, state, outcome, created_at, due_at, updated_at, duration, version, metadata, callback_url, notify_email, unnotified_since, deadline_at, work, rev)
          SELECT id, tenant, state, outcome, created_at, due_at, updated_at, duration, version, metadata, callback_url, notify_email, ${unnotified},
            CASE WHEN state = 'pending' THEN due_at END, NULL, 0 FROM jobs;
        DROP TABLE jobs;
        ALTER TABLE jobs_v1 RENAME TO jobs;
        DROP TABLE IF EXISTS job_counts;`);
    }
    // The counts and their triggers: made and filled in this write transaction, so a row another
    // process writes meanwhile is either counted by the fill or by a trigger, never both.
    const counted = db.prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'job_counts'`).get();
    if (!counted) db.exec(COUNTS_SCHEMA);
    db.exec(INDEXES);
    db.exec(OTHER_TABLES);
    if (version < 2) db.exec(GROUPS_SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function toRow(job: JobRecord): Row {
  return {
    id: job.id,
    tenant: job.tenant,
    state: job.state,
    outcome: job.outcome ?? null,
    created_at: job.createdAt,
    due_at: job.dueAt ?? null,
    updated_at: job.updatedAt,
    duration: job.duration ?? null,
    version: job.version,
    metadata: job.metadata === undefined ? null : JSON.stringify(job.metadata),
    callback_url: job.callbackUrl ?? null,
    notify_email: job.notifyEmail ?? null,
    deadline_at: deadlineAt(job as JobLifecycle) ?? null,
    work: workOf(job),
    rev: job.rev ?? 0,
    tags: job.tags === undefined ? null : JSON.stringify(job.tags),
    batch_id: job.batchId ?? null,
  };
}

function batchFromRow(row: { id: string; tenant: string; created_at: number; total: number; tags: string | null }): BatchRecord {
  const batch: BatchRecord = { id: row.id, tenant: row.tenant, createdAt: row.created_at, total: row.total };
  if (row.tags !== null) batch.tags = JSON.parse(row.tags) as string[];
  return batch;
}

/** The `work` column of `job`: its reported members as JSON, or NULL when it has none (a timer). */
function workOf(job: JobRecord): string | null {
  const work: Work = {};
  let any = false;
  for (const key of WORK_KEYS) {
    if (job[key] !== undefined) {
      (work as Record<string, unknown>)[key] = job[key];
      any = true;
    }
  }
  return any ? JSON.stringify(work) : null;
}

function fromRaw([id, tenant, state, outcome, createdAt, dueAt, updatedAt, duration, version, metadata, callbackUrl, notifyEmail, work, rev, tags, batchId]: RawRow): JobRecord {
  const job: JobRecord = { id, tenant, state, createdAt, updatedAt, version, rev };
  if (outcome !== null && duration !== null) {
    job.outcome = outcome;
    job.duration = duration;
  }
  if (dueAt !== null) job.dueAt = dueAt;
  if (metadata !== null) job.metadata = JSON.parse(metadata) as Record<string, unknown>;
  if (callbackUrl !== null) job.callbackUrl = callbackUrl;
  if (notifyEmail !== null) job.notifyEmail = notifyEmail;
  if (work !== null) Object.assign(job, JSON.parse(work) as Work);
  if (tags !== null) job.tags = JSON.parse(tags) as string[];
  if (batchId !== null) job.batchId = batchId;
  return job;
}

function fromRow(row: Row): JobRecord {
  return fromRaw([
    row.id,
    row.tenant,
    row.state,
    row.outcome,
    row.created_at,
    row.due_at,
    row.updated_at,
    row.duration,
    row.version,
    row.metadata,
    row.callback_url,
    row.notify_email,
    row.work,
    row.rev,
    row.tags,
    row.batch_id,
  ]);
}

/**
 * Counts of a tag's or batch's jobs, by stored state and, for pending ones past their deadline, by
 * the outcome they read as (as `countByStatus` does for a tenant): aggregated in SQLite from the
 * indexes, never read into JavaScript row by row.
 */
function groupCountStatements(db: Database.Database) {
  type Params = { tenant: string; value: string; now?: number };
  const tagged = 'id IN (SELECT job_id FROM job_tags WHERE tenant = @tenant AND tag = @value)';
  const batched = 'batch_id = @value';
  const counts = (where: string) =>
    db.prepare<Params, { state: JobStatus; n: number }>(`SELECT state, COUNT(*) AS n FROM jobs WHERE tenant = @tenant AND ${where} GROUP BY state`);
  const overdue = (where: string) =>
    db.prepare<Params, { outcome: Outcome; n: number }>(
      `SELECT CASE WHEN duration IS NULL THEN 'error' ELSE outcome END AS outcome, COUNT(*) AS n FROM jobs
        WHERE state = 'pending' AND deadline_at <= @now AND tenant = @tenant AND ${where} GROUP BY 1`,
    );
  return { tagCounts: counts(tagged), batchCounts: counts(batched), tagOverdue: overdue(tagged), batchOverdue: overdue(batched) };
}
