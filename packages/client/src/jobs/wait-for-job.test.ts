import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobwaitClient } from './jobwait-client.js';
import type { Job } from './job.js';

/** A server that only answers plain GETs (no long-poll, no stream) with a job whose end history predicts. */
function predictingFetch(lengthP50Ms: number, doneAfterLooks: number): { fetch: typeof fetch; looks: number[] } {
  const looks: number[] = [];
  const started = Date.now();
  const fetchLike = async (input: string | URL | Request): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.endsWith('/events')) return new Response('not found', { status: 404 });
    looks.push(Date.now() - started);
    const ageMs = Date.now() - started;
    const done = looks.length >= doneAfterLooks;
    const job: Job = {
      id: 'job_1',
      status: done ? 'completed' : 'pending',
      progress: done ? 1 : 0,
      createdAt: new Date(started).toISOString(),
      updatedAt: new Date().toISOString(),
      version: done ? 2 : 1,
      kind: 'transcode',
    };
    if (!done) job.expectedEnd = { basis: 'history', samples: 100, length: { p50Ms: lengthP50Ms, p90Ms: lengthP50Ms * 1.2, p99Ms: lengthP50Ms * 1.4 }, ageMs };
    return new Response(JSON.stringify(job), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { fetch: fetchLike as typeof fetch, looks };
}

test('waitForJob, when it can only poll, skips the time where history says the job is unlikely to end', async () => {
  const server = predictingFetch(30_000, 3);
  const client = new JobwaitClient({ baseUrl: 'http://jobwait.test', fetch: server.fetch });
  const job = await client.waitForJob('job_1', { strategy: 'poll' });
  assert.equal(job.status, 'completed');
  assert.equal(server.looks.length, 3);
  // Look 2 after 0.5 s (the bound relative to the time waited), look 3 a whole 0.5 + 2 × 0.5 s later:
  // a 30 s job is unlikely to end in its first seconds. The bounded schedule would look after 0.6 s.
  const gap = server.looks[2]! - server.looks[1]!;
  assert.ok(gap >= 1400, `second gap ${gap} ms`);
});
