/**
 * Issue 7: waits survive real faults. 500 jobs are created and waited on
 * through a fault-injecting proxy (20 % of requests reset, stalled, 503, 429,
 * truncated, dripped or garbled): every wait ends with the right status before
 * its deadline, no job is created twice, nothing is left unhandled, and the
 * request count stays within 1.5x of the same run without faults.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JobwaitClient, type Job } from '@jobwait/client';
import { ALL_FAULTS, seededRandom, startFaultProxy } from './helpers/fault-proxy.js';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

const JOBS = 500;
const DEADLINE_MS = 60_000;

describe('waiting through a faulty network', () => {
  let server: TestServer;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    server = await startTestServer({ store: 'sqlite', rateLimit: 0 });
  });
  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await server.close();
  });

  async function run(rate: number, seed: number): Promise<{ requests: number; jobs: Job[]; done: Job[]; faults: Record<string, number> }> {
    const random = seededRandom(seed);
    const proxy = await startFaultProxy(server.url, { rate, random, faults: ALL_FAULTS });
    try {
      // 2.5 s per request: long enough that a busy CI machine is not mistaken for a stall.
      const client = new JobwaitClient({ baseUrl: proxy.url, requestTimeoutMs: 2500, retry: { limit: 50, baseDelayMs: 20, maxDelayMs: 500 } });
      const wanted = Array.from({ length: JOBS }, (_, i) => ({ duration: 0.5 + (i % 5) * 0.5, outcome: i % 7 === 0 ? ('error' as const) : ('completed' as const) }));
      const started = Date.now();
      const results = await Promise.all(
        wanted.map(async (input) => {
          const job = await client.createJob(input);
          const done = await client.waitForJob(job.id, { timeoutMs: DEADLINE_MS, longPollSeconds: 5 });
          return { job, done, endedBy: Date.now() - started };
        }),
      );
      for (const [i, r] of results.entries()) {
        assert.equal(r.done.id, r.job.id);
        assert.equal(r.done.status, wanted[i]!.outcome, `job ${i} ended ${r.done.status}`);
        assert.ok(r.endedBy < DEADLINE_MS + 5000, 'ended before its deadline');
      }
      return { requests: proxy.stats.requests, jobs: results.map((r) => r.job), done: results.map((r) => r.done), faults: proxy.stats.faults };
    } finally {
      await proxy.close();
    }
  }

  it('ends every wait right, makes no twins, leaves nothing unhandled, and costs at most 1.5x the requests', { timeout: 180_000 }, async (t) => {
    const before = (await server.app.jobs.list('public', { limit: 100_000 })).jobs.length;
    const clean = await run(0, 1);
    const faulty = await run(0.2, 2);
    const stored = (await server.app.jobs.list('public', { limit: 100_000 })).jobs.length - before;

    assert.equal(stored, 2 * JOBS, 'the server holds exactly the jobs the client created: no twins');
    assert.equal(new Set(faulty.jobs.map((j) => j.id)).size, JOBS);
    const injected = Object.values(faulty.faults).reduce((a, b) => a + b, 0);
    assert.ok(injected >= JOBS * 0.2, `faults injected: ${injected} ${JSON.stringify(faulty.faults)}`);
    for (const fault of ALL_FAULTS) assert.ok((faulty.faults[fault] ?? 0) > 0, `fault ${fault} was exercised`);
    assert.ok(faulty.requests <= 1.5 * clean.requests, `requests with faults ${faulty.requests} vs without ${clean.requests}`);
    assert.deepEqual(unhandled, []);
    t.diagnostic(`requests: ${clean.requests} without faults, ${faulty.requests} with ${injected} faults ${JSON.stringify(faulty.faults)}`);
  });
});
