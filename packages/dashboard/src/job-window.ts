/**
 * The newest jobs under a status filter, and nothing else: the live list's state. Its size is
 * bounded whatever the server holds, and taking in one change costs the same with ten jobs or a
 * million, so a busy server cannot grow the page.
 *
 * Jobs are ordered by id, newest first: ids are `job_` + a ULID, so they sort by creation time,
 * exactly as `GET /v1/jobs` pages them. Changes come from the event stream and from list pages in
 * any order; the higher version of a job wins, also over a job that already left the window.
 */
import type { Job, JobStatus } from '@jobwait/client';
import { matchesFilter, type StatusFilter } from './job-format.js';
import { matchesScope, type JobScope } from './job-scope.js';

/** Options of {@link JobWindow}. */
export interface JobWindowOptions {
  /**
   * Jobs kept (and shown) at most.
   * @default 50
   */
  limit?: number;
  /**
   * Job versions remembered after their job left the window, so that a late list page cannot
   * bring back a state the stream has already moved past.
   * @default 4096
   */
  memory?: number;
}

/** Defaults of {@link JobWindowOptions}. */
export const JOB_WINDOW_DEFAULTS: Readonly<Required<JobWindowOptions>> = Object.freeze({ limit: 50, memory: 4096 });

/** The newest `limit` jobs that match a status filter (and a batch or tag, when narrowed to one). */
export class JobWindow {
  /** Jobs kept at most. */
  readonly limit: number;
  private readonly memory: number;
  private filterValue: StatusFilter = '';
  private scopeValue: JobScope | undefined;
  /** Newest first. */
  private items: Job[] = [];
  /** Latest version and status seen of recently seen jobs, least recently seen first (a Map keeps insertion order). */
  private readonly seen = new Map<string, { version: number; status: JobStatus }>();
  /** True while the server may hold matching jobs older than the oldest one kept. */
  private olderExist = true;
  private changes = 0;

  constructor(options: JobWindowOptions = {}) {
    this.limit = positiveInteger(options.limit ?? JOB_WINDOW_DEFAULTS.limit, 'limit');
    this.memory = positiveInteger(options.memory ?? JOB_WINDOW_DEFAULTS.memory, 'memory');
  }

  /** The status filter; `''` keeps every status. */
  get filter(): StatusFilter {
    return this.filterValue;
  }

  /** The batch or tag the jobs belong to; undefined for all jobs. */
  get scope(): JobScope | undefined {
    return this.scopeValue;
  }

  /** The jobs kept, newest first. Read-only: a new array after each change. */
  get jobs(): readonly Job[] {
    return this.items;
  }

  /** Number of changes taken in so far: the view re-renders only when it moved. */
  get revision(): number {
    return this.changes;
  }

  /**
   * True when fewer than `limit` jobs are kept while older matching ones exist on the server
   * (a job left the window by changing status): the first page should be read again.
   */
  get needsRefill(): boolean {
    return this.items.length < this.limit && this.olderExist;
  }

  /** The status of the latest snapshot seen of job `id`, if it is still remembered (kept or not). */
  seenStatus(id: string): JobStatus | undefined {
    return this.seen.get(id)?.status;
  }

  /** The kept job with this id. */
  get(id: string): Job | undefined {
    return this.items.find((job) => job.id === id);
  }

  /** Switches the filter and forgets the kept jobs: the first page under the new filter comes next. */
  setFilter(filter: StatusFilter): void {
    this.filterValue = filter;
    this.items = [];
    this.olderExist = true;
    this.changes++;
  }

  /** Narrows to a batch or tag (undefined: all jobs) and forgets the kept jobs, as {@link setFilter} does. */
  setScope(scope: JobScope | undefined): void {
    this.scopeValue = scope;
    this.items = [];
    this.olderExist = true;
    this.changes++;
  }

  /** Takes in one snapshot (from the event stream or an action); true when the kept jobs changed. */
  offer(job: Job): boolean {
    if (!this.remember(job)) return false;
    const index = this.items.findIndex((kept) => kept.id === job.id);
    const matches = this.matches(job);
    if (index >= 0) {
      const next = this.items.slice();
      if (matches) next[index] = job;
      else {
        next.splice(index, 1);
        this.olderExist = true;
      }
      return this.commit(next);
    }
    if (!matches) return false;
    const oldest = this.items.at(-1);
    // Older than every kept job of a full window: not among the newest. (In a window short of
    // jobs it may sit after a gap; the refill that `needsRefill` asks for puts it right.)
    if (oldest !== undefined && job.id < oldest.id && this.items.length >= this.limit) {
      this.olderExist = true;
      return false;
    }
    const next = this.items.slice();
    next.splice(insertionIndex(next, job.id), 0, job);
    if (next.length > this.limit) {
      next.length = this.limit;
      this.olderExist = true;
    }
    return this.commit(next);
  }

  /**
   * Takes in the first page of `GET /v1/jobs` under the current filter, read at any moment:
   * snapshots the stream has already moved past are ignored, and jobs that arrived since the
   * page was read are kept.
   * @param hasMore the page's `nextCursor` was set.
   */
  load(page: readonly Job[], hasMore: boolean): void {
    const byId = new Map<string, Job>();
    for (const job of this.items) byId.set(job.id, job);
    for (const job of page) {
      if (!this.remember(job)) continue;
      const kept = byId.get(job.id);
      if (kept === undefined || job.version >= kept.version) byId.set(job.id, job);
    }
    const next = [...byId.values()].filter((job) => this.matches(job)).sort(newestFirst);
    this.olderExist = hasMore || next.length > this.limit;
    if (next.length > this.limit) next.length = this.limit;
    this.commit(next);
  }

  /** True when `job` shows under the filter and the scope. */
  matches(job: Job): boolean {
    return matchesFilter(job, this.filterValue) && matchesScope(job, this.scopeValue);
  }

  /** Records `job`'s version; false when a newer one was seen before. */
  private remember(job: Job): boolean {
    const seen = this.seen.get(job.id);
    if (seen !== undefined && seen.version > job.version) return false;
    if (seen !== undefined) this.seen.delete(job.id);
    this.seen.set(job.id, { version: job.version, status: job.status });
    if (this.seen.size > this.memory) {
      // The least recently seen goes: Map iteration follows insertion order.
      const first = this.seen.keys().next();
      if (!first.done) this.seen.delete(first.value);
    }
    return true;
  }

  private commit(next: Job[]): boolean {
    this.items = next;
    this.changes++;
    return true;
  }
}

function newestFirst(a: Job, b: Job): number {
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Where a job with `id` goes in `jobs` (newest first): a binary search. */
function insertionIndex(jobs: readonly Job[], id: string): number {
  let low = 0;
  let high = jobs.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (jobs[middle]!.id > id) low = middle + 1;
    else high = middle;
  }
  return low;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
