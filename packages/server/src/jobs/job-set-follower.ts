/**
 * Follows a set of jobs (ids, a tag or a batch) on ONE subscription to the tenant's changes, not
 * one per job: a held wait on a thousand jobs costs a map entry per job (~100-200 bytes), where a
 * thousand single-job long-polls cost ~11 KB each (bench/many).
 *
 * Subscribes first and reads second (the change feed's rule), so no change between the two is
 * missed. A pending member whose deadline passed by {@link FALLBACK_GRACE_MS} without news is read
 * again (its status follows its deadline): a lagging scheduler delays a set no more than one job.
 */
import type { JobSelector } from '../store/job-store.js';
import type { Unsubscribe } from '../feed/change-feed.js';
import { effectiveState, type JobRecord, type JobStatus } from './job-record.js';
import { countJob, emptyCounts, inGroup, type SetCounts } from './job-set.js';
import { deadlineAt } from './transition.js';

/** How long after a member's deadline, without news of it, it is read again. */
export const FALLBACK_GRACE_MS = 1000;

/** Statuses by their index in a member's packed state. */
const STATUSES: readonly JobStatus[] = ['pending', 'completed', 'error', 'canceled'];

/** What a follower needs of the job service. */
export interface SetSource {
  now(): number;
  subscribeTenant(tenant: string, listener: (change: { job: JobRecord }) => void): Promise<Unsubscribe>;
  select(tenant: string, selector: JobSelector): Promise<JobRecord[]>;
  getMany(tenant: string, ids: readonly string[]): Promise<JobRecord[]>;
}

/** Called with a member's new state (never twice with one version, never after its final one). */
export type SetListener = (job: JobRecord, status: JobStatus) => void;

/** One set of jobs followed on one subscription. */
export class JobSetFollower {
  /** Per member: its latest version and status, packed as `version * 4 + status index` (a number, not an object, per job). */
  private readonly members = new Map<string, number>();
  /** Members by status, with the share ended. */
  readonly counts: SetCounts = emptyCounts();
  /** Deadlines of pending members, as a binary min-heap of `[at, id]` (stale entries are skipped when they come up). */
  private readonly deadlines: [number, string][] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private listener: SetListener | undefined;
  /** Changes that came before {@link listen}: delivered then, in order. */
  private early: JobRecord[] | undefined = [];
  private unsubscribe: Unsubscribe = () => {};
  /** A watch's ids while it opens; dropped after, when its members are exactly the ids found. */
  private wanted: Set<string> | undefined;
  private closed = false;

  private constructor(
    private readonly source: SetSource,
    private readonly tenant: string,
    private readonly selector: JobSelector,
  ) {
    if ('ids' in selector) this.wanted = new Set(selector.ids);
  }

  /**
   * Starts following `selector`'s jobs of `tenant`; answers with them as they are now (another
   * tenant's ids are simply not among them, and never will be). Call {@link listen} next.
   */
  static async open(source: SetSource, tenant: string, selector: JobSelector): Promise<{ follower: JobSetFollower; jobs: JobRecord[] }> {
    const follower = new JobSetFollower(source, tenant, selector);
    follower.unsubscribe = await source.subscribeTenant(tenant, ({ job }) => follower.changed(job));
    let jobs: JobRecord[];
    try {
      jobs = await source.select(tenant, selector);
    } catch (error) {
      follower.close();
      throw error;
    }
    const now = source.now();
    const latest = new Map<string, JobRecord>();
    for (const job of jobs) {
      follower.track(job, now);
      latest.set(job.id, job);
    }
    // Changes published between the subscribe and the read: the newer state wins.
    for (const job of follower.early!.splice(0)) if (follower.track(job, now)) latest.set(job.id, job);
    follower.wanted = undefined;
    follower.arm();
    return { follower, jobs: [...latest.values()] };
  }

  /** From now on, `listener` hears of every change of a member (changes since {@link open} first). */
  listen(listener: SetListener): void {
    this.listener = listener;
    const early = this.early ?? [];
    this.early = undefined;
    for (const job of early) this.changed(job);
  }

  /** Members followed. */
  get size(): number {
    return this.members.size;
  }

  /** True when every member has ended (an empty set has). */
  get ended(): boolean {
    return this.counts.pending === 0;
  }

  /** Stops following. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    clearTimeout(this.timer);
    this.deadlines.length = 0;
    this.members.clear();
  }

  private changed(job: JobRecord): void {
    if (this.closed) return;
    if (this.early) {
      this.early.push(job);
      return;
    }
    const now = this.source.now();
    if (!this.track(job, now)) return;
    this.arm();
    this.listener?.(job, effectiveState(job, now).status);
  }

  /** Records `job`'s state if it is a member and newer than what is known; true when it was. */
  private track(job: JobRecord, now: number): boolean {
    if (job.tenant !== this.tenant) return false;
    const known = this.members.get(job.id);
    // A watch of ids: the ids found when it opened, only. A tag or batch: any job that joins it too.
    if (known === undefined && (this.wanted ? !this.wanted.has(job.id) : !inGroup(this.selector, job))) return false;
    const { version, status } = effectiveState(job, now);
    if (known !== undefined) {
      const knownStatus = STATUSES[known & 3]!;
      if (knownStatus !== 'pending' || Math.floor(known / 4) >= version) return false;
      countJob(this.counts, knownStatus, -1);
    }
    countJob(this.counts, status);
    this.members.set(job.id, version * 4 + STATUSES.indexOf(status));
    const deadline = status === 'pending' ? deadlineAt(job) : undefined;
    if (deadline !== undefined) this.push(deadline, job.id);
    return true;
  }

  /** Sets the one timer at the earliest deadline still pending, plus the grace. */
  private arm(): void {
    const first = this.deadlines[0];
    if (!first || this.closed) return;
    const at = first[0] + FALLBACK_GRACE_MS;
    if (at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => void this.overdue(), Math.min(2 ** 31 - 1, Math.max(0, at - this.source.now())));
    this.timer.unref();
  }

  /** Reads again the members past their deadline and grace with no final news: the read shows their end. */
  private async overdue(): Promise<void> {
    this.timerAt = Infinity;
    const cutoff = this.source.now() - FALLBACK_GRACE_MS;
    const ids: string[] = [];
    while (this.deadlines.length > 0 && this.deadlines[0]![0] <= cutoff) {
      const [, id] = this.pop();
      const known = this.members.get(id);
      if (known !== undefined && (known & 3) === 0) ids.push(id);
    }
    try {
      if (ids.length > 0) for (const job of await this.source.getMany(this.tenant, ids)) this.changed(job);
    } catch {
      // The store is down: the feed's own resync brings the changes when it is back; try again then.
    }
    this.arm();
  }

  private push(at: number, id: string): void {
    const heap = this.deadlines;
    heap.push([at, id]);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]![0] <= heap[i]![0]) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  private pop(): [number, string] {
    const heap = this.deadlines;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < heap.length && heap[l]![0] < heap[min]![0]) min = l;
        if (r < heap.length && heap[r]![0] < heap[min]![0]) min = r;
        if (min === i) break;
        [heap[min], heap[i]] = [heap[i]!, heap[min]!];
        i = min;
      }
    }
    return top;
  }
}
