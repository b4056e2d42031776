/** The shared end of `start --wait` and `wait`: follow a job to its final state and report it. */
import type { Job, JobwaitClient, WaitStrategy } from '@jobwait/client';
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
    job = await client.waitForJob(id, { signal: options.signal, timeoutMs: options.timeoutMs, strategy: options.strategy, onUpdate });
  } finally {
    bar?.stop();
  }
  if (options.asJson) json(terminal, job);
  else line(terminal, jobLine(job));
  return exitCodeOf(job);
}
