/**
 * `job.progress` webhooks, opt-in per job (`webhookEvents: ["job.progress"]`), coalesced so a
 * worker reporting 50 times a second costs its receiver at most one webhook per interval: the
 * first change goes out at once, changes during the interval after it are folded into one (the
 * latest wins), sent when the interval ends. A job's final event is never held behind them: it
 * goes through the final-state outbox at once, and a progress still waiting is dropped then.
 *
 * Progress webhooks are enqueued as deliveries like the final ones, so the dispatcher retries
 * them; an enqueue that fails is not retried here (the next progress or the final supersedes it).
 * The interval is kept per instance: reports of one job spread over several instances may each
 * send theirs.
 */
import type { FastifyBaseLogger } from 'fastify';
import { isFinal, type JobRecord } from '../jobs/job-record.js';
import { effectiveJob } from '../jobs/transition.js';

/** Options of {@link ProgressWebhooks}. */
export interface ProgressWebhooksOptions {
  /**
   * Shortest time between two progress webhooks of one job, ms.
   * @default 500
   */
  intervalMs: number;
  /** Enqueues the progress webhook of this version of the job (see `JobNotifier.jobProgress`). */
  enqueue: (job: JobRecord) => Promise<unknown>;
  /** The job as stored now: a folded change is sent as the job stands when its turn comes. */
  current: (job: JobRecord) => Promise<JobRecord | undefined>;
  log: FastifyBaseLogger;
  now: () => number;
}

/** One job's interval: started by the last webhook sent, with the newest change since, if any. */
interface Interval {
  timer: NodeJS.Timeout;
  /** Version of the last webhook sent. */
  sentVersion: number;
  waiting?: JobRecord | undefined;
}

/** Coalesces reported jobs' progress changes into `job.progress` webhooks. */
export class ProgressWebhooks {
  private readonly intervals = new Map<string, Interval>();
  private closed = false;

  constructor(private readonly options: ProgressWebhooksOptions) {}

  /** True when `job` asked for progress webhooks. */
  static wanted(job: JobRecord): boolean {
    return job.webhookEvents?.includes('job.progress') === true;
  }

  /** A new (non-final) version of `job` was stored through this instance. */
  changed(job: JobRecord): void {
    if (this.closed || !ProgressWebhooks.wanted(job) || isFinal(job.state)) return;
    const interval = this.intervals.get(job.id);
    if (!interval) {
      this.send(job, job.version);
      return;
    }
    if (job.version > Math.max(interval.sentVersion, interval.waiting?.version ?? 0)) interval.waiting = job;
  }

  /** `job` reached its final state: nothing of it waits any more (its final event goes out on its own). */
  finished(jobId: string): void {
    const interval = this.intervals.get(jobId);
    if (!interval) return;
    clearTimeout(interval.timer);
    this.intervals.delete(jobId);
  }

  /** Jobs with an interval running (for tests). */
  get size(): number {
    return this.intervals.size;
  }

  /** Drops every waiting change (progress is superseded by the final event, which the outbox guarantees). */
  close(): void {
    this.closed = true;
    for (const interval of this.intervals.values()) clearTimeout(interval.timer);
    this.intervals.clear();
  }

  private send(job: JobRecord, version: number): void {
    const timer = setTimeout(() => this.intervalEnded(job.id), this.options.intervalMs);
    timer.unref();
    this.intervals.set(job.id, { timer, sentVersion: version });
    this.options.enqueue(job).catch((error: unknown) => this.options.log.warn({ err: error, jobId: job.id }, 'enqueueing a job.progress webhook failed; the next change supersedes it'));
  }

  private intervalEnded(jobId: string): void {
    const interval = this.intervals.get(jobId);
    if (!interval) return;
    const waiting = interval.waiting;
    if (!waiting) {
      this.intervals.delete(jobId);
      return;
    }
    interval.waiting = undefined;
    // Holds the interval while the job is read, so changes meanwhile keep waiting for the next turn.
    interval.timer = setTimeout(() => this.intervalEnded(jobId), this.options.intervalMs);
    interval.timer.unref();
    void this.sendCurrent(waiting, interval);
  }

  /** Sends `waiting` as the job stands now: a newer version if one was stored elsewhere, nothing once it ended. */
  private async sendCurrent(waiting: JobRecord, interval: Interval): Promise<void> {
    let job: JobRecord | undefined = waiting;
    try {
      const stored = await this.options.current(waiting);
      if (stored && stored.version > waiting.version) job = stored;
      if (stored && isFinal(effectiveJob(stored, this.options.now()).state)) job = undefined;
    } catch (error) {
      this.options.log.debug({ err: error, jobId: waiting.id }, 'reading a job before its job.progress webhook failed; sending the version at hand');
    }
    if (!job || this.intervals.get(waiting.id) !== interval || job.version <= interval.sentVersion) return;
    interval.sentVersion = job.version;
    this.options.enqueue(job).catch((error: unknown) => this.options.log.warn({ err: error, jobId: job.id }, 'enqueueing a job.progress webhook failed; the next change supersedes it'));
  }
}
