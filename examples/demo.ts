/**
 * The seed's manual test, in TypeScript: start a timer through the client,
 * wait for it, print what happened. Uses the server at JOBWAIT_URL (or the
 * first argument); without one it starts its own on a free port.
 *
 *   npm run demo                 # own server, 3 s timer
 *   npm run demo -- http://127.0.0.1:8080 5
 */
import { TimerClient, JobwaitClient } from '@jobwait/client';
import { buildServer } from '@jobwait/server';

const [urlArg, secondsArg] = process.argv.slice(2);
const duration = Number(secondsArg ?? 3);
let baseUrl = urlArg ?? process.env.JOBWAIT_URL;
const own = baseUrl ? undefined : await buildServer({ store: 'memory', logLevel: 'silent' });
if (own) baseUrl = await own.listen({ port: 0, host: '127.0.0.1' });

try {
  const timer = new TimerClient({ baseUrl: baseUrl! });
  const t0 = Date.now();
  const started = await timer.startTimer(duration);
  process.stdout.write(`start_timer(${duration}) -> ${JSON.stringify(started)}\n`);
  let requests = 0;
  const status = await timer.getTimerStatus({ timeoutMs: (duration + 30) * 1000, onPoll: () => requests++ });
  process.stdout.write(`get_timer_status() -> ${JSON.stringify(status)} after ${((Date.now() - t0) / 1000).toFixed(2)} s, ${requests} status request(s)\n`);

  // The same through the jobs API, which says when to look (or holds the request until done).
  const jobs = new JobwaitClient({ baseUrl: baseUrl! });
  const job = await jobs.createJob({ duration: 1, outcome: 'error' });
  const done = await jobs.waitForJob(job.id, { timeoutMs: 30_000 });
  process.stdout.write(`waitForJob(${job.id}) -> ${done.status}${done.error ? ` (${done.error.message})` : ''}\n`);
} finally {
  await own?.close();
}
