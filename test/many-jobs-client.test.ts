/**
 * The client's many-jobs calls (issue 18) on the real server: `createJobs`, and `waitForJobs` over
 * one event stream for ids, a tag or a batch — and its fallback to per-job waits against a server
 * without set streams.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { HttpError, JobwaitClient, TimeoutError, type Job } from '@jobwait/client';
import type { FetchLike } from '@jobwait/client/internal';
import { buildServer } from '@jobwait/server';

async function start(t: TestContext, fetchFor?: (sent: string[]) => FetchLike): Promise<{ client: JobwaitClient; sent: string[] }> {
  const app = await buildServer({ store: 'memory', logLevel: 'silent', rateLimit: 0 });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  const sent: string[] = [];
  const counting: FetchLike = (input, init) => {
    sent.push(`${init.method ?? 'GET'} ${new URL(input).pathname}`);
    return fetch(input, init);
  };
  return { client: new JobwaitClient({ baseUrl: url, fetch: fetchFor ? fetchFor(sent) : counting }), sent };
}

describe('client: many jobs', () => {
  it('creates a batch and yields each job as it ends over one stream; all() has them all', async (t) => {
    const { client, sent } = await start(t);
    const { batch, jobs } = await client.createJobs([{ duration: 0.3 }, { duration: 0.1, outcome: 'error' }, { duration: 0.2 }], { tags: ['cli'] });
    assert.equal(batch.total, 3);
    assert.deepEqual(jobs.map((job) => job.tags), [['cli'], ['cli'], ['cli']]);
    const order: string[] = [];
    for await (const job of client.waitForJobs({ batch: batch.id })) order.push(`${job.id}:${job.status}`);
    assert.deepEqual(order.sort(), [`${jobs[0]!.id}:completed`, `${jobs[1]!.id}:error`, `${jobs[2]!.id}:completed`].sort());
    assert.equal(sent.filter((line) => line.endsWith('/events')).length, 1, 'one stream');
    const byTag = await client.waitForJobs({ tag: 'cli' }).all();
    assert.equal(byTag.length, 3, 'a finished set answers at once');
    const byIds = await client.waitForJobs(jobs.map((job) => job.id)).all();
    assert.deepEqual(new Set(byIds.map((job) => job.id)), new Set(jobs.map((job) => job.id)));
    assert.equal((await client.getBatch(batch.id)).counts.error, 1);
    assert.equal((await client.listJobs({ tag: 'cli' })).jobs.length, 3);
  });

  it('refuses an invalid batch with the invalid jobs named by index, and times out with the jobs ended so far', async (t) => {
    const { client } = await start(t);
    await assert.rejects(client.createJobs([{ duration: 1 }, { duration: 1, tags: ['no spaces'] }]), (error: unknown) => error instanceof HttpError && error.status === 400);
    const { jobs } = await client.createJobs([{ duration: 0.05 }, { duration: 60 }]);
    await assert.rejects(client.waitForJobs(jobs.map((job) => job.id), { timeoutMs: 800 }).all(), (error: unknown) => {
      assert.ok(error instanceof TimeoutError);
      assert.deepEqual((error.lastValue as Job[]).map((job) => job.id), [jobs[0]!.id]);
      return true;
    });
  });

  it('falls back to per-job waits, a few at a time, against a server without set streams', async (t) => {
    let holding = 0;
    let most = 0;
    const { client, sent } = await start(t, (sent) => async (input, init) => {
      const path = new URL(input).pathname;
      sent.push(`${init.method ?? 'GET'} ${path}`);
      if (path === '/v1/watches') return new Response(JSON.stringify({ code: 'JOBWAIT_ERR_ROUTE_NOT_FOUND', status: 404 }), { status: 404, headers: { 'content-type': 'application/problem+json' } });
      const held = /^\/v1\/jobs\/job_/.test(path);
      if (held) most = Math.max(most, ++holding);
      try {
        return await fetch(input, init);
      } finally {
        if (held) holding--;
      }
    });
    const { jobs } = await client.createJobs(Array.from({ length: 6 }, (_, i) => ({ duration: 0.1 + i * 0.05 })));
    const ended = await client.waitForJobs(
      jobs.map((job) => job.id),
      { concurrency: 2 },
    ).all();
    assert.deepEqual(new Set(ended.map((job) => job.id)), new Set(jobs.map((job) => job.id)));
    assert.ok(ended.every((job) => job.status === 'completed'));
    assert.ok(most <= 2, `at most 2 waits at once, saw ${most}`);
    assert.ok(sent.some((line) => line.startsWith('GET /v1/jobs/job_')));
  });
});
