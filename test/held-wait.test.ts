/**
 * Issue 20: the client library against a key at its cap of held
 * connections. `waitForJob` and `watchJob` back off on the server's
 * JOBWAIT_ERR_TOO_MANY_HELD instead of failing: every wait ends with the
 * job's final state, and the server never holds more than the cap.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JobwaitClient, type Job } from '@jobwait/client';
import { generateApiKey } from '@jobwait/server';
import { metricValue, parseMetrics } from './helpers/prometheus.js';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

const CAP = 3;

describe(`waiting with a key capped at ${CAP} held connections`, () => {
  const key = generateApiKey();
  let server: TestServer;
  let client: JobwaitClient;

  before(async () => {
    server = await startTestServer({ store: 'sqlite', rateLimit: 0, apiKeys: [key.key], maxHeldPerKey: CAP });
    client = new JobwaitClient({ baseUrl: server.url, apiKey: key.key });
  });
  after(() => server.close());

  async function refusals(): Promise<number> {
    const samples = parseMetrics(await (await fetch(`${server.url}/metrics`)).text());
    return metricValue(samples, 'jobwait_hold_refusals_total', { reason: 'key_cap' });
  }

  it('waitForJob: ten waits at once all end with the final state, slower, and never more than the cap is held', async () => {
    const before = await refusals();
    const jobs = await Promise.all(Array.from({ length: 10 }, (_, n) => client.createJob({ duration: 1 + n * 0.2, outcome: n % 3 === 0 ? 'error' : 'completed' })));
    const done = await Promise.all(jobs.map((job) => client.waitForJob(job.id, { timeoutMs: 120_000 })));
    assert.deepEqual(
      done.map((j) => j.status),
      jobs.map((_, n) => (n % 3 === 0 ? 'error' : 'completed')),
    );
    assert.ok((await refusals()) > before, 'the server refused holds past the cap');
    assert.ok(server.app.held.peak <= CAP, `held at most ${CAP} at once, saw ${server.app.held.peak}`);
  });

  it('watchJob: eight streams at once each reach the final state; the refused ones reopen after Retry-After', async () => {
    const before = await refusals();
    const jobs = await Promise.all(Array.from({ length: 8 }, () => client.createJob({ duration: 1 })));
    const finals = await Promise.all(
      jobs.map(async (job) => {
        let last: Job | undefined;
        for await (const state of client.watchJob(job.id)) last = state;
        return last?.status;
      }),
    );
    assert.deepEqual(finals, Array(8).fill('completed'));
    assert.ok((await refusals()) > before);
    assert.ok(server.app.held.peak <= CAP);
  });
});
