/**
 * A real worker process (JobReporter, heartbeats) killed with SIGKILL: nothing tells the server,
 * so its job fails as JOBWAIT_ERR_JOB_STALLED once the heartbeat timeout passes after the last
 * report, and the waiters held on the job (a long-poll, an event stream) wake with that end.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { JobwaitClient, type Job } from '@jobwait/client';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKER = 'test/fixtures/worker/heartbeating-worker.ts';

/** Starts the worker process and resolves once its first report was applied. */
async function startWorker(url: string, job: { id: string; reportToken: string }, heartbeatMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=jobwait-source', '--import', 'tsx', WORKER, url, job.id, job.reportToken, String(heartbeatMs)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
      if (output.includes('reporting\n')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before reporting: ${output}`)));
  });
  return child;
}

describe('a worker process killed with SIGKILL', () => {
  let server: TestServer | undefined;
  let worker: ChildProcess | undefined;
  after(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await server?.close();
  });

  it('leaves a job that turns JOBWAIT_ERR_JOB_STALLED after its heartbeat timeout, and wakes its held waiters with it', async () => {
    server = await startTestServer({ store: 'sqlite', rateLimit: 0 });
    const client = new JobwaitClient({ baseUrl: server.url });
    // Heartbeats every 200 ms against a timeout of 3 s: a busy machine does not stall a live worker.
    const job = await client.createJob({ heartbeatTimeoutSeconds: 3, metadata: { video: 'talk.mp4' } });
    worker = await startWorker(server.url, { id: job.id, reportToken: job.reportToken! }, 200);
    const running = await client.getJob(job.id);
    assert.equal(running.status, 'pending');
    assert.equal(running.message, 'working');
    assert.ok(running.startedAt, 'the worker started the job');

    // Alive, the worker keeps its job running past the heartbeat timeout: its step 4 comes 4 s after its start.
    let alive = running;
    while (alive.progress < 0.04) {
      const res = await fetch(`${server.url}/v1/jobs/${job.id}`, { headers: { prefer: 'wait=30', 'if-none-match': `W/"${job.id}.${alive.version}"` } });
      if (res.status === 200) alive = (await res.json()) as Job;
      else await res.arrayBuffer();
      assert.equal(alive.status, 'pending', `a live worker's job does not stall: ${JSON.stringify(alive.error)}`);
    }

    // Waiters held before the crash: a long-poll asking for the end only, and an event stream.
    const longPoll = fetch(`${server.url}/v1/jobs/${job.id}`, { headers: { prefer: 'wait=60, until=final' } }).then(async (res) => ({
      status: res.status,
      applied: res.headers.get('preference-applied'),
      job: (await res.json()) as Job,
    }));
    const streamed: Job[] = [];
    const stream = client.waitForJob(job.id, { strategy: 'sse', timeoutMs: 60_000, onUpdate: (update) => void streamed.push(update) });

    let killed = false;
    worker.kill('SIGKILL');
    const [, signal] = (await once(worker, 'exit')) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL');
    killed = true;

    const [polled, ended] = await Promise.all([longPoll.then((answer) => ({ ...answer, killed })), stream]);
    assert.equal(polled.killed, true, 'the long-poll was still held when the worker died');
    assert.equal(polled.status, 200);
    assert.equal(polled.job.status, 'error');
    assert.equal(polled.job.error?.code, 'JOBWAIT_ERR_JOB_STALLED');
    assert.match(polled.job.error?.message ?? '', /heartbeat timeout/);
    assert.equal(ended.status, 'error');
    assert.equal(ended.error?.code, 'JOBWAIT_ERR_JOB_STALLED');
    assert.equal(streamed.at(-1)?.status, 'error', 'the stream delivered the end');
    // What the worker reported before it died stays on the job.
    assert.equal(ended.startedAt, running.startedAt);
    assert.deepEqual(ended.metadata, { video: 'talk.mp4' });
    // The stall is the end: a late report from a restarted worker is refused, and changes nothing.
    const late = await fetch(`${server.url}/v1/jobs/${job.id}/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${job.reportToken}` },
      body: JSON.stringify({ event: 'completed', result: 'too late' }),
    });
    assert.equal(late.status, 409);
    assert.equal((await client.getJob(job.id)).error?.code, 'JOBWAIT_ERR_JOB_STALLED');
  });
});
