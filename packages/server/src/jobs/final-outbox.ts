/**
 * The guarantee that a final job's work (publish, webhooks, email) is done
 * at least once, even when the process dies, or a Redis reply is lost,
 * between the store's change and that work. The store marks every job it
 * settles or cancels as unnotified in the same atomic step; the work, once
 * done, is confirmed (in batches, like the creates' group commit); and a
 * sweep, at start and every few seconds, redoes the work of jobs left
 * unconfirmed for longer than a grace period. Redoing is safe: a delivery's id
 * is its job's and event's, so enqueueing twice sends once, and waiters take
 * a version they already have as no news.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { JobStore } from '../store/job-store.js';
import type { JobRecord } from './job-record.js';
import { OutageLog } from '../logging/outage-log.js';

/** Options of {@link FinalOutbox}; the defaults are in {@link FINAL_OUTBOX_DEFAULTS}. */
export interface FinalOutboxOptions {
  /** How long a change may stay unconfirmed before a sweep takes it over from the instance that made it, ms. */
  graceMs?: number;
  /** Time between sweeps, ms. */
  everyMs?: number;
  /** Jobs taken per sweep round. */
  batch?: number;
}

/** Defaults of {@link FinalOutboxOptions}. */
export const FINAL_OUTBOX_DEFAULTS = Object.freeze({ graceMs: 10_000, everyMs: 5_000, batch: 200 });

/** Tracks final jobs from their change to the confirmation of their work, and sweeps up the ones never confirmed. */
export class FinalOutbox {
  private readonly options: Required<FinalOutboxOptions>;
  /** Jobs whose work runs on this instance right now: a sweep leaves them alone. */
  private readonly inFlight = new Set<string>();
  /** The work running now, so that stopping waits for it. */
  private readonly running = new Set<Promise<void>>();
  private confirming: JobRecord[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private readonly outage: OutageLog;

  /**
   * @param work does a final job's work and resolves true when all of it succeeded (then it is confirmed).
   */
  constructor(
    private readonly store: JobStore,
    private readonly work: (job: JobRecord) => Promise<boolean>,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number,
    options: FinalOutboxOptions = {},
  ) {
    this.options = { ...FINAL_OUTBOX_DEFAULTS, ...options };
    this.outage = new OutageLog(log, 'warn');
  }

  /**
   * Does `job`'s work now (it just became final on this instance), then confirms it; work that
   * failed is left unconfirmed for a sweep to redo. Never rejects.
   */
  run(job: JobRecord): Promise<void> {
    const running = this.runOnce(job).finally(() => this.running.delete(running));
    this.running.add(running);
    return running;
  }

  private async runOnce(job: JobRecord): Promise<void> {
    this.inFlight.add(job.id);
    let done = false;
    try {
      done = await this.work(job);
    } catch (error) {
      this.log.error({ err: error, jobId: job.id }, 'final-state work failed; a later sweep tries again');
    } finally {
      // A confirmed job stays in flight until its confirmation is written, so no sweep redoes it meanwhile.
      if (done) this.confirm(job);
      else this.inFlight.delete(job.id);
    }
  }

  /** Sweeps once now (what a previous run left), then every `everyMs`. */
  start(): void {
    this.stop();
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), this.options.everyMs);
    this.timer.unref();
  }

  /** Stops sweeping, waits for the work running now, and writes the confirmations still queued. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
    await Promise.all(this.running);
    await this.flush();
  }

  /** Redoes the work of every job unconfirmed for longer than the grace period. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepRounds().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepRounds(): Promise<void> {
    const { graceMs, batch } = this.options;
    try {
      for (;;) {
        const jobs = (await this.store.unnotified(this.now() - graceMs, batch)).filter((job) => !this.inFlight.has(job.id));
        if (jobs.length > 0) this.log.warn({ jobs: jobs.length }, 'final jobs found without their webhooks/email confirmed (a crash or a lost store reply): doing that work now');
        for (const job of jobs) await this.run(job);
        await this.flush();
        if (jobs.length < batch) return this.outage.succeeded('sweeping unconfirmed final jobs works again');
      }
    } catch (error) {
      // The store is unreachable: the next sweep tries again.
      this.outage.failed(error, 'sweeping unconfirmed final jobs failed');
    }
  }

  /** Queues a confirmation; those of one turn of the event loop are written together. */
  private confirm(job: JobRecord): void {
    if (this.confirming.push(job) === 1) setImmediate(() => void this.flush());
  }

  private flush(): Promise<void> {
    this.flushing ??= this.flushRounds().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushRounds(): Promise<void> {
    while (this.confirming.length > 0) {
      const jobs = this.confirming;
      this.confirming = [];
      try {
        await this.store.markNotified(jobs);
      } catch (error) {
        // Left unconfirmed: a sweep redoes their (idempotent) work after the grace period.
        this.log.warn({ err: error, jobs: jobs.length }, 'confirming final jobs failed; a sweep will redo their notifications');
      } finally {
        for (const job of jobs) this.inFlight.delete(job.id);
      }
    }
  }
}
