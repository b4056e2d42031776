/** The shared end of `start --wait` and `wait`: follow a job to its final state and report it. */
import { hasErrorCode, type Job, type JobwaitClient, type WaitStrategy } from '@jobwait/client';
import { exitCodeOf } from '../command.js';
import { jobLine } from '../output/job-format.js';
import { ProgressBar } from '../output/progress-bar.js';
import { json, line, type Terminal } from '../output/terminal.js';

/** How to follow the job. */
export interface FollowOptions {
  asJson: boolean;
  timeoutMs: number | undefined;
  strategy: WaitStrategy;
  signal: AbortSignal;
  /** The job as last seen (just created, or from {@link peekJob}), shown before the wait starts. */
  initial?: Job | undefined;
}

/** Waits on job `id`, drawing a bar on a TTY or a line per change otherwise; returns the exit code. */
export async function follow(client: JobwaitClient, id: string, terminal: Terminal, options: FollowOptions): Promise<number> {
  const bar = !options.asJson && terminal.err.isTTY ? new ProgressBar(terminal) : undefined;
  let lastStatus: string | undefined;
  const onUpdate = (job: Job): void => {
    if (bar) bar.update(job);
    else if (!options.asJson && job.status !== lastStatus && job.status === 'pending') line(terminal, jobLine(job));
    lastStatus = job.status;
  };
  let job: Job;
  try {
    // The first request of a long-poll is held until the job changes, so without a state in
    // hand the bar (or the first plain line) would only appear once the job had ended.
    if (options.initial && !options.asJson) onUpdate(options.initial);
    job = await client.waitForJob(id, { signal: options.signal, timeoutMs: options.timeoutMs, strategy: options.strategy, onUpdate });
  } finally {
    bar?.stop();
  }
  if (options.asJson) json(terminal, job);
  else line(terminal, jobLine(job));
  return exitCodeOf(job);
}

/**
 * One quick look at a job to draw before waiting: a single try, no retries, so it never
 * holds up the wait (which has its own deadline and retries, and reports every failure).
 * Resolves undefined when the look fails; an interrupt still ends the command.
 */
export async function peekJob(client: JobwaitClient, id: string, signal: AbortSignal): Promise<Job | undefined> {
  try {
    return await client.getJob(id, { signal });
  } catch (error) {
    if (hasErrorCode(error, 'JOBWAIT_ERR_ABORTED')) throw error;
    return undefined;
  }
}
