/**
 * The SQLite store's read cache: the newest records by id, and each tenant's
 * current seed timer, kept by the store's own writes and emptied as soon as
 * any other connection has committed to the file (`PRAGMA data_version`), so
 * a second process, the `jobwait keys` CLI or an operator's `sqlite3` never
 * leave it stale for more than a millisecond. A row read and its WAL lock calls
 * were a third of a `GET /v1/jobs/{id}` (bench/server).
 */
import { performance } from 'node:perf_hooks';
import type { JobRecord } from '../../jobs/job-record.js';

/** Longest another connection's commit may go unseen, in ms. */
const RECHECK_MS = 1;

/** Records kept by default: a few MB, and the jobs being polled right now are the newest ones. */
export const DEFAULT_CACHED_RECORDS = 10_000;

/** A bounded id → record map; records are immutable snapshots, so they are shared, not copied. */
export class RecordCache {
  private readonly records = new Map<string, JobRecord>();
  private readonly timers = new Map<string, string>();
  private seenVersion: number | undefined;
  private checkedAt = -Infinity;

  /**
   * @param dataVersion reads `PRAGMA data_version` of the store's connection: it changes when another connection commits.
   * @param capacity most records kept; the oldest inserted is dropped first.
   */
  constructor(
    private readonly dataVersion: () => number,
    private readonly capacity = DEFAULT_CACHED_RECORDS,
  ) {}

  /**
   * Empties the cache if another connection wrote since the last look. Call before every read; it
   * looks at most once per {@link RECHECK_MS}, so another process's commit shows within that
   * (asking SQLite on every read cost as much as a row read saves).
   */
  validate(): void {
    const now = performance.now();
    if (now - this.checkedAt < RECHECK_MS) return;
    this.checkedAt = now;
    const version = this.dataVersion();
    if (version === this.seenVersion) return;
    this.seenVersion = version;
    this.records.clear();
    this.timers.clear();
  }

  /** Forgets everything (a transaction that failed to commit left records here that were never stored). */
  clear(): void {
    this.records.clear();
    this.timers.clear();
  }

  /** The cached record of job `id`, if any. */
  get(id: string): JobRecord | undefined {
    return this.records.get(id);
  }

  /** Keeps `record` as the newest state of its job. */
  set(record: JobRecord): void {
    const { records } = this;
    // A rewritten job moves to the young end: the oldest write is dropped first.
    records.delete(record.id);
    records.set(record.id, record);
    if (records.size > this.capacity) records.delete(records.keys().next().value!);
  }

  /** Drops job `id` (deleted by retention: this connection's own deletes do not move `data_version`). */
  delete(id: string): void {
    this.records.delete(id);
  }

  /** The job id of `tenant`'s current seed timer, if cached. */
  timer(tenant: string): string | undefined {
    return this.timers.get(tenant);
  }

  /** Keeps `id` as `tenant`'s current seed timer. */
  setTimer(tenant: string, id: string): void {
    if (this.timers.size >= this.capacity) this.timers.clear();
    this.timers.set(tenant, id);
  }
}
