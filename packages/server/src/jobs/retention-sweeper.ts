/**
 * Retention in the background, the same for every engine: every so often,
 * finished jobs whose retention ended are deleted in small batches (each one
 * short transaction or script), with a turn of the event loop between two
 * batches, so reads and creates never wait behind one long delete.
 */
import type { FastifyBaseLogger } from 'fastify';

/** What one prune batch deleted, by kind of row. */
export interface PruneCounts {
  jobs: number;
  deliveries: number;
  idempotencyKeys: number;
}

/** What the sweeper prunes: an engine. */
export interface Prunable {
  /**
   * Deletes up to `limit` finished jobs whose retention ended by `now` (never a pending job, never a
   * tenant's current seed timer), with their deliveries and idempotency keys. Counts all below
   * `limit` in the answer mean nothing more is due.
   */
  prune(now: number, limit: number): Promise<PruneCounts>;
  /** Gives up to `pages` of the space pruning freed back to the file system; answers how many went (0: nothing to give). */
  reclaim?(pages: number): Promise<number>;
}

/** Options of {@link RetentionSweeper}. */
export interface RetentionSweeperOptions {
  engine: Prunable;
  /** How long a finished job is kept, in seconds: sweeps run every tenth of it, between 1 s and 1 min. */
  retentionSeconds: number;
  log: FastifyBaseLogger;
  /** The clock that decides what is past retention. @default Date.now */
  now?: () => number;
  /** Jobs deleted per transaction. @default 500 */
  batch?: number;
  /** Pages given back per step after a sweep. @default 256 */
  reclaimPages?: number;
  /** Called after every batch with what it deleted (for `/metrics`). */
  onPruned?: (counts: PruneCounts) => void;
}

/** What one {@link RetentionSweeper.sweep} did. */
export interface SweepResult extends PruneCounts {
  /** Transactions (or scripts) it took. */
  batches: number;
  /** Pages given back to the file system after it. */
  reclaimedPages: number;
}

/** Jobs per delete: a few ms of write lock on SQLite, a short script on Redis. */
export const DEFAULT_PRUNE_BATCH = 500;
const DEFAULT_RECLAIM_PAGES = 256;

/** Interval between two sweeps for a retention of `retentionSeconds`: a tenth of it, within 1 s..60 s. */
export function sweepIntervalMs(retentionSeconds: number): number {
  return Math.min(60_000, Math.max(1000, Math.round((retentionSeconds * 1000) / 10)));
}

/** Deletes what is past retention, in the background; {@link sweep} runs one pass now. */
export class RetentionSweeper {
  private readonly now: () => number;
  private readonly batch: number;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepResult> | undefined;
  private stopped = true;
  /** Set by {@link stop}: a pass under way ends after its current batch. */
  private closing = false;

  constructor(private readonly options: RetentionSweeperOptions) {
    this.now = options.now ?? Date.now;
    this.batch = options.batch ?? DEFAULT_PRUNE_BATCH;
    this.intervalMs = sweepIntervalMs(options.retentionSeconds);
  }

  /** Sweeps now (what piled up while the server was down goes first), then every interval. */
  start(): void {
    this.stopped = false;
    this.closing = false;
    this.schedule(0);
  }

  /** Stops sweeping; a sweep under way ends after its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.closing = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /**
   * One pass: batches until one deletes fewer jobs than the batch size, then gives freed pages
   * back. A pass already under way is joined, not doubled.
   */
  sweep(): Promise<SweepResult> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sweep()
        .catch((error: unknown) => this.options.log.warn({ err: error }, 'retention: pruning finished jobs failed; retrying at the next sweep'))
        .finally(() => this.schedule(this.intervalMs));
    }, delayMs);
    this.timer.unref();
  }

  private async pass(): Promise<SweepResult> {
    const { engine, onPruned } = this.options;
    const result: SweepResult = { jobs: 0, deliveries: 0, idempotencyKeys: 0, batches: 0, reclaimedPages: 0 };
    // One cut-off for the whole pass: jobs that pass it meanwhile wait for the next one, so a pass ends.
    const now = this.now();
    for (;;) {
      const counts = await engine.prune(now, this.batch);
      result.batches++;
      result.jobs += counts.jobs;
      result.deliveries += counts.deliveries;
      result.idempotencyKeys += counts.idempotencyKeys;
      onPruned?.(counts);
      // Deliveries and keys left by jobs gone earlier go in batches of their own: a full one of any kind asks for more.
      if ((counts.jobs < this.batch && counts.deliveries < this.batch && counts.idempotencyKeys < this.batch) || this.closing) break;
      // A turn of the event loop between two batches: requests that arrived meanwhile go first.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (engine.reclaim && !this.closing && result.jobs + result.deliveries + result.idempotencyKeys > 0) {
      const pages = this.options.reclaimPages ?? DEFAULT_RECLAIM_PAGES;
      for (;;) {
        const reclaimed = await engine.reclaim(pages);
        result.reclaimedPages += reclaimed;
        if (reclaimed < pages || this.closing) break;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    if (result.jobs > 0) this.options.log.debug({ ...result }, 'retention: pruned finished jobs');
    return result;
  }
}
