/**
 * Jobs the user pinned (or looked up by id): they stay on screen, in the order they were
 * pinned, while the live list streams by. Bounded, so pinning cannot grow the page either.
 */
import type { Job } from '@jobwait/client';

/** Jobs watched at most. */
export const WATCH_LIMIT = 12;

/** The pinned jobs, oldest pin first. */
export class WatchList {
  /** Jobs watched at most. */
  readonly limit: number;
  private readonly entries = new Map<string, Job>();
  private changes = 0;

  constructor(limit: number = WATCH_LIMIT) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
    this.limit = limit;
  }

  /** The watched jobs, oldest pin first. */
  get jobs(): Job[] {
    return [...this.entries.values()];
  }

  /** Ids of the watched jobs, oldest pin first (what the page saves). */
  get ids(): string[] {
    return [...this.entries.keys()];
  }

  /** Number of changes so far: the view re-renders only when it moved. */
  get revision(): number {
    return this.changes;
  }

  get size(): number {
    return this.entries.size;
  }

  get isFull(): boolean {
    return this.entries.size >= this.limit;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Pins `job`; false when the list is full (and `job` is not in it already). */
  add(job: Job): boolean {
    const kept = this.entries.get(job.id);
    if (kept !== undefined) {
      this.offer(job);
      return true;
    }
    if (this.isFull) return false;
    this.entries.set(job.id, job);
    this.changes++;
    return true;
  }

  /** Unpins job `id`; false when it was not pinned. */
  remove(id: string): boolean {
    const removed = this.entries.delete(id);
    if (removed) this.changes++;
    return removed;
  }

  /**
   * Takes in a snapshot of any job; when it is watched and not older than what is kept, it
   * replaces it in place. Returns the status the job had before, when this snapshot changed a watched job.
   */
  offer(job: Job): Job['status'] | undefined {
    const kept = this.entries.get(job.id);
    if (kept === undefined || job.version < kept.version) return undefined;
    this.entries.set(job.id, job);
    this.changes++;
    return kept.status;
  }
}
