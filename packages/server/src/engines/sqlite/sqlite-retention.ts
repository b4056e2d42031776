/**
 * Retention on the SQLite engine: deletes finished jobs whose retention ended,
 * with their deliveries and Idempotency-Keys, one short transaction per batch
 * (jobs/retention-sweeper.ts runs the batches with a turn of the event loop
 * between them), and gives the freed space back a few pages at a time.
 *
 * A job is finished once it left `pending`; it became final at `updated_at`
 * (a settle sets it to the due time, a cancel to the cancel time). Pending
 * jobs are never deleted, and neither is a tenant's current seed timer, so
 * `GET /status` answers for as long as the tenant has one.
 *
 * Space: SQLite reuses the pages of deleted rows for new ones, so a file
 * under a steady load stops growing after one retention. A file created
 * with `auto_vacuum = INCREMENTAL` (every file this version creates) also
 * shrinks when much of it is free; an older file keeps its size unless an
 * operator runs `VACUUM` once (docs/operations.md).
 */
import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { PruneCounts } from '../../jobs/retention-sweeper.js';
import type { StorageSize } from '../../metrics/metrics.js';

/** Indexes the batches walk: finished jobs by their final time, a job's keys, finished deliveries by their end (keys by age: sqlite-job-store.ts). */
const SCHEMA = `
CREATE INDEX IF NOT EXISTS jobs_final_at ON jobs (updated_at) WHERE state != 'pending';
CREATE INDEX IF NOT EXISTS idempotency_keys_job ON idempotency_keys (job_id);
CREATE INDEX IF NOT EXISTS deliveries_finished_at ON deliveries (updated_at) WHERE status != 'pending';
`;

/** Free space kept for reuse before any is given back: under a steady load the next creates fill it again. */
const KEEP_FREE_FRACTION = 0.25;
/** Below this many free pages (1 MiB of 4 KiB pages) nothing is given back. */
const KEEP_FREE_PAGES = 256;

/** What one batch deleted, and which jobs (to drop them from the read cache). */
export interface SqlitePruneResult extends PruneCounts {
  ids: string[];
}

/** Prunes one SQLite database (the engine's connection; the jobs and deliveries tables must exist). */
export class SqliteRetention {
  private readonly stmt;
  private readonly pruneTx: (cutoff: number, limit: number) => SqlitePruneResult;

  /**
   * @param path the database file (`:memory:` has no file to measure).
   * @param retentionMs how long a finished job is kept.
   */
  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
    private readonly retentionMs: number,
  ) {
    db.exec(SCHEMA);
    this.stmt = {
      expired: db.prepare<[number, number], { id: string; tenant: string }>(`SELECT id, tenant FROM jobs
        WHERE state != 'pending' AND updated_at <= ? AND id NOT IN (SELECT job_id FROM current_timers)
        ORDER BY updated_at LIMIT ?`),
      deleteJob: db.prepare<[string]>('DELETE FROM jobs WHERE id = ?'),
      deleteKeys: db.prepare<[string]>('DELETE FROM idempotency_keys WHERE job_id = ?'),
      // A delivery still being retried stays; once it ends, the orphan sweep below takes it.
      deleteDeliveries: db.prepare<[string, string]>(`DELETE FROM deliveries WHERE tenant = ? AND job_id = ? AND status != 'pending'`),
      // The window every engine gives a key (Redis expires it so): its job's due time plus the retention.
      // This also takes keys whose job went some other way (an operator's DELETE).
      deleteOldKeys: db.prepare<{ cutoff: number; limit: number }>(`DELETE FROM idempotency_keys WHERE (tenant, key) IN (
          SELECT tenant, key FROM idempotency_keys WHERE created_at < @cutoff
            AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.id = idempotency_keys.job_id AND MAX(COALESCE(jobs.due_at, 0), COALESCE(jobs.deadline_at, 0), jobs.updated_at) >= @cutoff)
          LIMIT @limit)`),
      deleteOrphanDeliveries: db.prepare<[number, number]>(`DELETE FROM deliveries WHERE id IN (
          SELECT id FROM deliveries WHERE status != 'pending' AND updated_at <= ?
            AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.id = deliveries.job_id)
          LIMIT ?)`),
      autoVacuum: db.prepare<[], number>('PRAGMA auto_vacuum').pluck(),
      pageCount: db.prepare<[], number>('PRAGMA page_count').pluck(),
      pageSize: db.prepare<[], number>('PRAGMA page_size').pluck(),
      freePages: db.prepare<[], number>('PRAGMA freelist_count').pluck(),
    };
    this.pruneTx = db.transaction((cutoff: number, limit: number): SqlitePruneResult => {
      const result: SqlitePruneResult = { jobs: 0, deliveries: 0, idempotencyKeys: 0, ids: [] };
      for (const { id, tenant } of this.stmt.expired.all(cutoff, limit)) {
        result.deliveries += this.stmt.deleteDeliveries.run(tenant, id).changes;
        result.idempotencyKeys += this.stmt.deleteKeys.run(id).changes;
        result.jobs += this.stmt.deleteJob.run(id).changes;
        result.ids.push(id);
      }
      result.idempotencyKeys += this.stmt.deleteOldKeys.run({ cutoff, limit }).changes;
      result.deliveries += this.stmt.deleteOrphanDeliveries.run(cutoff, limit).changes;
      return result;
    });
  }

  /** Deletes up to `limit` jobs finished before `now - retention`, with their finished deliveries and keys, in one transaction. */
  prune(now: number, limit: number): SqlitePruneResult {
    return this.pruneTx(now - this.retentionMs, limit);
  }

  /**
   * Gives up to `pages` free pages back to the file system when more than a quarter of the file is
   * free (an `auto_vacuum = INCREMENTAL` file only). Answers how many pages went.
   */
  reclaim(pages: number): number {
    if (this.stmt.autoVacuum.get() !== 2) return 0;
    const free = this.stmt.freePages.get()!;
    if (free <= KEEP_FREE_PAGES || free <= this.stmt.pageCount.get()! * KEEP_FREE_FRACTION) return 0;
    this.db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(pages))})`);
    return free - this.stmt.freePages.get()!;
  }

  /** The database's size (pages x page size), its free part, and the size of its write-ahead log. */
  size(): StorageSize {
    const pageSize = this.stmt.pageSize.get()!;
    return {
      databaseBytes: this.stmt.pageCount.get()! * pageSize,
      freeBytes: this.stmt.freePages.get()! * pageSize,
      walBytes: this.path === ':memory:' ? 0 : fileSize(`${this.path}-wal`),
    };
  }
}

/** Size of `path` in bytes; 0 when it does not exist (no WAL between checkpoints that truncate it). */
function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
