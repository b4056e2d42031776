/**
 * A worker that "translates a video" in steps and reports as it goes, and the user who waits for
 * it: the whole loop of a reported job. The user creates a job without `duration` and hands its
 * id and report token to the worker (in real life: on a queue); the worker reports progress and
 * completes with the result's URL; the user's wait returns with that result.
 * Uses the server at JOBWAIT_URL (or the first argument); without one it starts its own.
 *
 *   node --conditions=jobwait-source --import tsx examples/worker.ts
 */
import { JobwaitClient } from '@jobwait/client';
import { buildServer } from '@jobwait/server';

const STEPS = ['downloading', 'transcribing', 'translating', 'dubbing', 'encoding'] as const;
/** Time one step takes here, in ms (a real step takes minutes). */
const STEP_MS = 400;

let baseUrl = process.argv[2] ?? process.env.JOBWAIT_URL;
const own = baseUrl ? undefined : await buildServer({ store: 'memory', logLevel: 'silent' });
if (own) baseUrl = await own.listen({ port: 0, host: '127.0.0.1' });

/** The worker: holds the job's id and report token, not an API key. */
async function translateVideo(client: JobwaitClient, jobId: string, reportToken: string, video: string): Promise<void> {
  const reporter = client.reporter(jobId, reportToken);
  // run(): reports started, heartbeats while the task runs, completes with its result (or fails with its error).
  await reporter.run(async (signal) => {
    for (const [i, step] of STEPS.entries()) {
      // A cancel on the server aborts the signal: stop at once.
      signal.throwIfAborted();
      void reporter.progress(i / STEPS.length, { message: `${step} ${video}`, etaSeconds: ((STEPS.length - i) * STEP_MS) / 1000 });
      await new Promise((resolve) => setTimeout(resolve, STEP_MS));
    }
    return { url: `https://cdn.example/${video.replace(/\.mp4$/, '')}.fr.mp4`, language: 'fr' };
  });
}

try {
  const client = new JobwaitClient({ baseUrl: baseUrl! });
  // The user: a job with no duration, failed as stalled if its worker goes silent for 30 s.
  const job = await client.createJob({ heartbeatTimeoutSeconds: 30, metadata: { video: 'talk.mp4' } });
  process.stdout.write(`created ${job.id} (report token ${job.reportToken!.slice(0, 8)}…)\n`);
  const worker = translateVideo(client, job.id, job.reportToken!, 'talk.mp4');
  const done = await client.waitForJob(job.id, {
    timeoutMs: 60_000,
    onUpdate: (update) => process.stdout.write(`  ${String(Math.round(update.progress * 100)).padStart(3)}%  ${update.message ?? update.status}\n`),
  });
  await worker;
  process.stdout.write(`${done.status}: ${JSON.stringify(done.result)}\n`);
} finally {
  await own?.close();
}
