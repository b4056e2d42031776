/**
 * Flags jobs that run past their kind's p99 by the overdue factor, long before a heartbeat
 * timeout would: each pending reported job of a known kind created through this instance is
 * looked at once it can be overdue (created + p99 × factor × size, from the model at creation);
 * if it is, it is counted (`jobwait_jobs_overdue_total`) and, when it asked for it, announced by
 * a `job.overdue` webhook. A job whose kind had too few samples at creation is not watched, and
 * the watch lives in this instance's memory: a restart forgets the jobs it watched (their views
 * still show `overdue`, read from the model).
 */
import type { FastifyBaseLogger } from 'fastify';
import { jobView, type JobRecord, type JobView } from '../jobs/job-record.js';
import type { JobService } from '../jobs/job-service.js';
import { isReported } from '../jobs/transition.js';
import { MAX_TIMER_DELAY_MS } from '@jobwait/client/internal';
import { DueQueue } from './due-queue.js';
import { modelQuantile } from './duration-model.js';
import type { Predictor } from './predictor.js';

/** Times a job not yet overdue at its look (its kind's p99 grew) is looked at again. */
const MAX_LOOKS = 5;
/** Most jobs watched at once; past it new jobs are not watched (their views still say overdue). */
const MAX_WATCHED = 100_000;
/** Longest the watch sleeps before looking at the clock again. */
const RECHECK_MS = 1000;

interface Watched {
  at: number;
  tenant: string;
  id: string;
  looks: number;
}

/** What {@link OverdueWatch} tells of a job it found overdue. */
export type OverdueHandler = (job: JobRecord, view: JobView) => Promise<unknown> | void;

/** The watch over this instance's pending jobs of known kinds. */
export class OverdueWatch {
  private readonly watched = new DueQueue<Watched>();
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private closed = false;

  constructor(
    private readonly service: JobService,
    private readonly predictor: Predictor,
    private readonly onOverdue: OverdueHandler,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Starts watching a job just created (the `JobService.onJobCreated` listener). */
  readonly jobCreated = (job: JobRecord): void => {
    if (job.kind === undefined || !isReported(job) || this.closed) return;
    void this.schedule(job, 0).catch((error: unknown) => this.log.debug({ err: error, jobId: job.id }, 'could not watch a job for overdue'));
  };

  /** Stops the watch. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.watched.clear();
  }

  /** Watches `job` from when it can be overdue, per its kind's model now; not at all while the kind is too young. */
  private async schedule(job: JobRecord, looks: number): Promise<void> {
    const attached = await this.predictor.attach(job);
    const model = attached.history?.model;
    const { overdueFactor, overdueMinSamples } = this.predictor.options;
    if (!model || model.n < overdueMinSamples || looks >= MAX_LOOKS || this.watched.size >= MAX_WATCHED) return;
    const p99Ms = modelQuantile(model, 0.99)! * (job.size ?? 1) * 1000;
    const at = Math.max(this.service.now(), job.createdAt + Math.ceil(p99Ms * overdueFactor) + 1);
    this.watched.push({ at, tenant: job.tenant, id: job.id, looks });
    this.arm();
  }

  private arm(): void {
    if (this.closed || this.watched.size === 0) return;
    const next = this.watched.nextAt;
    if (next >= this.armedAt && this.timer) return;
    clearTimeout(this.timer);
    this.armedAt = next;
    // At least once a second: the clock may jump (a suspended host, a test's clock), and a late look must not wait for it.
    this.timer = setTimeout(() => void this.fire(), Math.min(MAX_TIMER_DELAY_MS, RECHECK_MS, Math.max(0, next - this.service.now())));
    this.timer.unref();
  }

  private async fire(): Promise<void> {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.service.now();
    for (const w of this.watched.takeDue(now)) {
      try {
        const job = await this.predictor.attach(await this.service.get(w.tenant, w.id));
        const view = jobView(job, this.service.now());
        if (view.status !== 'pending') continue;
        if (view.expectedEnd?.overdue) await this.onOverdue(job, view);
        else await this.schedule(job, w.looks + 1);
      } catch (error) {
        this.log.debug({ err: error, jobId: w.id }, 'looking at a watched job for overdue failed');
      }
    }
    this.arm();
  }
}
