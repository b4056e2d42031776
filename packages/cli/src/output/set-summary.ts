/**
 * The summary of `jobwait wait --tag/--batch`: `[#####.....] 3 of 10 done, 1 failed`, redrawn in
 * place on a terminal; on a pipe, one line per job as it ends. Failures are listed at the end.
 */
import type { Job } from '@jobwait/client';
import { jobLine } from './job-format.js';
import { line, type Terminal } from './terminal.js';

/** Renders the summary: how many of how many ended, how many failed. */
export function renderSummary(done: number, total: number | undefined, failed: number, width: number): string {
  const of = total === undefined ? `${done} done` : `${done} of ${total} done`;
  const failures = failed > 0 ? `, ${failed} failed` : '';
  if (total === undefined || total === 0) return `${of}${failures}`;
  const barWidth = Math.max(10, Math.min(40, width - 40));
  const filled = Math.round((Math.min(done, total) / total) * barWidth);
  return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${of}${failures}`;
}

/** A line of a failed job for the closing list: id, status and why. */
export function failureLine(job: Job): string {
  return job.error ? `${job.id}  ${job.status}  ${job.error.code}: ${job.error.message}` : `${job.id}  ${job.status}`;
}

/** Follows a set's ends on `terminal`. */
export class SetSummary {
  private done = 0;
  private total: number | undefined;
  readonly failures: Job[] = [];

  constructor(private readonly terminal: Terminal) {}

  /** The set's size, once the server told it. */
  setTotal(total: number): void {
    this.total = total;
    this.draw();
  }

  /** One job ended. */
  ended(job: Job): void {
    this.done++;
    if (job.status !== 'completed') this.failures.push(job);
    if (!this.terminal.err.isTTY) line(this.terminal, jobLine(job));
    this.draw();
  }

  /** The last frame, then the failures. */
  finish(): void {
    if (this.terminal.err.isTTY) this.terminal.err.write('\n');
    line(this.terminal, renderSummary(this.done, this.total, this.failures.length, Infinity).replace(/^\[[#.]+\] /, ''));
    for (const job of this.failures) line(this.terminal, `failed: ${failureLine(job)}`);
  }

  private draw(): void {
    if (this.terminal.err.isTTY) this.terminal.err.write(`\r\x1b[2K${renderSummary(this.done, this.total, this.failures.length, this.terminal.err.columns || 80)}`);
  }
}
