/**
 * The progress bar of `jobwait wait` on a terminal: redrawn in place from the
 * job's own `createdAt`/`dueAt`, so it moves smoothly between server updates.
 */
import type { Job } from '@jobwait/client';
import type { Terminal } from './terminal.js';
import { predictedRange } from '@jobwait/client/internal';

/**
 * Renders one frame: `[#####.....]  42%  ETA 3.1s`. A timer moves on its own clock; a reported
 * job shows what its worker said (progress, message), what history predicts (`2–3 min left`)
 * without its estimate, and `ETA unknown` with neither.
 */
export function renderBar(job: Pick<Job, 'status' | 'createdAt' | 'dueAt' | 'progress' | 'duration' | 'message' | 'expectedEnd'>, now: number, width: number): string {
  const pending = job.status === 'pending';
  const due = job.dueAt === undefined ? undefined : Date.parse(job.dueAt);
  const timer = job.duration !== undefined && due !== undefined;
  const created = Date.parse(job.createdAt);
  const fraction = pending && timer ? Math.min(1, Math.max(0, (now - created) / Math.max(1, due - created))) : job.progress;
  let eta: string = job.status;
  if (pending) eta = timer ? `ETA ${formatSeconds(Math.max(0, due - now))}` : due !== undefined && due > now ? `ETA ${formatSeconds(due - now)}` : (predictedRange(job.expectedEnd) ?? 'ETA unknown');
  if (job.message) eta += `  ${job.message}`;
  const barWidth = Math.max(10, Math.min(40, width - 30));
  const filled = Math.round(fraction * barWidth);
  return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%  ${eta}`;
}

/** Formats milliseconds as `4.2s` or `3m05s`. */
export function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
}

/** A bar redrawn ten times a second on a TTY, with a final frame on `stop()`. */
export class ProgressBar {
  private job: Job | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly terminal: Terminal) {
    this.timer = setInterval(() => this.draw(), 100);
  }

  /** The latest known state. */
  update(job: Job): void {
    this.job = job;
    this.draw();
  }

  /** Draws the last frame and ends the line. */
  stop(): void {
    clearInterval(this.timer);
    if (this.job) {
      this.draw();
      this.terminal.err.write('\n');
    }
  }

  private draw(): void {
    if (!this.job) return;
    this.terminal.err.write(`\r\x1b[2K${renderBar(this.job, Date.now(), this.terminal.err.columns || 80)}`);
  }
}
