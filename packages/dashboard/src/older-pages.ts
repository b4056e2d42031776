/**
 * Going back through older jobs, one server page at a time (`GET /v1/jobs` with a cursor). A page
 * read stays as it was read, while its jobs' changes are shown in place: nothing streams into it.
 */
import type { Job } from '@jobwait/client';

/** Where the user is among the older pages. */
export class OlderPages {
  /** Cursor of each page read so far, the first older page first; the last one is shown. */
  private readonly cursors: string[] = [];
  private shown: Job[] = [];
  private more = false;
  private changes = 0;

  /** 1 for the first page older than the live list, 2 for the next, …; 0 when none is shown. */
  get depth(): number {
    return this.cursors.length;
  }

  /** The jobs of the page shown, newest first. */
  get jobs(): readonly Job[] {
    return this.shown;
  }

  /** True when the server said there are older jobs than this page's. */
  get hasOlder(): boolean {
    return this.more;
  }

  /** Number of changes so far: the view re-renders only when it moved. */
  get revision(): number {
    return this.changes;
  }

  /** The cursor to read the page before the shown one with, when going back one step. */
  get previousCursor(): string | undefined {
    return this.cursors.at(-2);
  }

  /** Shows a page read with `cursor`, one step further back. */
  push(cursor: string, jobs: readonly Job[], hasOlder: boolean): void {
    this.cursors.push(cursor);
    this.show(jobs, hasOlder);
  }

  /** Goes one step towards the newest; false when the live list is next (nothing older is shown then). */
  pop(): boolean {
    this.cursors.pop();
    this.show([], false);
    return this.cursors.length > 0;
  }

  /** Replaces the shown page with a fresh read of the same cursor. */
  replace(jobs: readonly Job[], hasOlder: boolean): void {
    this.show(jobs, hasOlder);
  }

  /** Takes in a snapshot: a job of the shown page changes in place; others are ignored. */
  offer(job: Job): boolean {
    const index = this.shown.findIndex((kept) => kept.id === job.id);
    if (index < 0 || this.shown[index]!.version > job.version) return false;
    this.shown = this.shown.slice();
    this.shown[index] = job;
    this.changes++;
    return true;
  }

  private show(jobs: readonly Job[], hasOlder: boolean): void {
    this.shown = jobs.slice();
    this.more = hasOlder;
    this.changes++;
  }
}
