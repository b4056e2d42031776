/**
 * One timer for the whole server, armed for the earliest due job: when it
 * fires, every due job is settled in the store and published once. Waiters
 * hold no timers of their own for due times.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { JobStore } from '../store/job-store.js';
import type { JobRecord } from './job-record.js';
import { OutageLog } from '../logging/outage-log.js';

const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
/** Jobs settled per store round trip; more are taken in the next round at once. */
const SETTLE_BATCH = 500;

/**
 * Settles due jobs and hands each settled job to `settled` (the outbox, which publishes and
 * notifies) without waiting for it: one slow or failing job's work never holds the next one's.
 */
export class DueScheduler {
  private timer: NodeJS.Timeout | undefined;
  private armedAt: number | undefined;
  private running = false;
  private rerun = false;
  private stopped = false;
  private readonly outage: OutageLog;

  constructor(
    private readonly store: JobStore,
    private readonly settled: (job: JobRecord) => void,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.outage = new OutageLog(log);
  }

  /** Settles whatever fell due while the server was down, then arms for the next. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
  }

  /** A job due at `dueAt` was created: fire earlier if it is the earliest. */
  jobScheduled(dueAt: number): void {
    if (this.stopped) return;
    if (this.armedAt === undefined || dueAt < this.armedAt) this.arm(dueAt);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = undefined;
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.armedAt = at;
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, at - this.now()));
    this.timer = setTimeout(() => {
      // Disarmed before the tick: a timer that fires while a tick runs only asks for a rerun, and a
      // stale `armedAt` left behind would make every later jobScheduled() look "not earlier" — stuck.
      this.timer = undefined;
      this.armedAt = undefined;
      void this.tick();
    }, delay);
  }

  private async tick(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = undefined;
    try {
      do {
        this.rerun = false;
        const settled = await this.store.settleDue(this.now(), SETTLE_BATCH);
        for (const job of settled) this.settled(job);
        if (settled.length === SETTLE_BATCH) this.rerun = true;
      } while (this.rerun && !this.stopped);
      this.outage.succeeded('settling due jobs works again');
      if (!this.stopped) {
        const next = await this.store.nextDueAt();
        if (next !== undefined && (this.armedAt === undefined || next < this.armedAt)) this.arm(next);
      }
    } catch (error) {
      // A store hiccup must not kill the scheduler: reads stay right (status follows dueAt), retry soon.
      this.outage.failed(error, 'settling due jobs failed; retrying every second');
      if (!this.stopped) this.arm(this.now() + 1000);
    } finally {
      this.running = false;
    }
  }
}
