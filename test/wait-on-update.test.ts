/**
 * `waitForJob`'s `onUpdate` against the real server: called with the first state read (the job
 * still pending, not only once it has ended), then with every newer version, never twice for one
 * version — with every strategy, and with each fallback of `auto` (a server that ignores
 * `Prefer: wait`, then one that also has no event stream).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JobwaitClient, type Job, type WaitStrategy } from '@jobwait/client';
import { startProxy, type ProxyAction, type TestProxy } from './helpers/http-proxy.js';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';
import type { IncomingMessage } from 'node:http';

const STRATEGIES: readonly WaitStrategy[] = ['auto', 'long-poll', 'sse', 'poll'];

/** What the client meets: jobwait itself, or jobwait behind a proxy that hides what it offers. */
const SERVERS: Record<string, (req: IncomingMessage) => ProxyAction> = {
  jobwait: () => ({ kind: 'forward' }),
  'a server that ignores Prefer: wait': () => ({ kind: 'forward', headers: { prefer: undefined } }),
  'a server with neither long-poll nor event streams': (req) =>
    req.url?.endsWith('/events') ? { kind: 'answer', status: 404, body: 'not here' } : { kind: 'forward', headers: { prefer: undefined } },
};

let server: TestServer;
const proxies: TestProxy[] = [];

before(async () => {
  server = await startTestServer({ heartbeatMs: 200 });
});
after(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await server.close();
});

/** A client behind a proxy that plays the server `decide` describes, and counts the held reads it was sent. */
async function clientOf(decide: (req: IncomingMessage) => ProxyAction): Promise<{ client: JobwaitClient; heldReads: () => number }> {
  let held = 0;
  const proxy = await startProxy(server.url, (req) => {
    if (req.headers.prefer !== undefined) held++;
    return decide(req);
  });
  proxies.push(proxy);
  return { client: new JobwaitClient({ baseUrl: proxy.url }), heldReads: () => held };
}

/**
 * Waits on a fresh long job that the test cancels as soon as onUpdate reports it pending, so the
 * job changes only after the first update (whatever the machine's speed). Returns what onUpdate
 * was called with, the result, and how many held reads the client had sent by the first update.
 */
async function waitWithUpdates(decide: (req: IncomingMessage) => ProxyAction, strategy: WaitStrategy) {
  const { client, heldReads } = await clientOf(decide);
  const observer = new JobwaitClient({ baseUrl: server.url });
  const job = await client.createJob({ duration: 60 });
  const updates: Job[] = [];
  let heldBeforeFirstUpdate: number | undefined;
  let canceling: Promise<Job> | undefined;
  const done = await client.waitForJob(job.id, {
    strategy,
    timeoutMs: 10_000,
    onUpdate: (j) => {
      heldBeforeFirstUpdate ??= heldReads();
      updates.push(j);
      if (j.status === 'pending') canceling ??= observer.cancelJob(j.id);
    },
  });
  await canceling;
  return { updates, done, heldBeforeFirstUpdate };
}

/** The first state comes from a read the server answered at once, not from a held one (which answers only at a change). */
function assertPendingFirstEachVersionOnce({ updates, done, heldBeforeFirstUpdate }: Awaited<ReturnType<typeof waitWithUpdates>>): void {
  assert.equal(heldBeforeFirstUpdate, 0, 'no held read was sent before the first update');
  assert.deepEqual(
    updates.map((j) => [j.version, j.status]),
    [
      [1, 'pending'],
      [2, 'canceled'],
    ],
  );
  assert.deepEqual(updates.at(-1), done);
}

describe('onUpdate', { concurrency: true }, () => {
  for (const strategy of STRATEGIES) {
    test(`with strategy ${strategy}: the pending state first, then the final one, each version once`, async () => {
      assertPendingFirstEachVersionOnce(await waitWithUpdates(SERVERS.jobwait!, strategy));
    });
  }

  for (const [name, decide] of Object.entries(SERVERS).slice(1)) {
    test(`with strategy auto against ${name}: the pending state first, then the final one, each version once`, async () => {
      assertPendingFirstEachVersionOnce(await waitWithUpdates(decide, 'auto'));
    });
  }

  for (const strategy of STRATEGIES) {
    test(`with strategy ${strategy}: a wait that times out reports the pending state once, though it read it again at the deadline`, async () => {
      const { client } = await clientOf(SERVERS.jobwait!);
      const job = await client.createJob({ duration: 60 });
      const updates: Job[] = [];
      await assert.rejects(client.waitForJob(job.id, { strategy, timeoutMs: 1500, onUpdate: (j) => updates.push(j) }), { code: 'JOBWAIT_ERR_TIMEOUT' });
      assert.deepEqual(
        updates.map((j) => [j.version, j.status]),
        [[1, 'pending']],
      );
    });
  }

  for (const strategy of STRATEGIES) {
    test(`with strategy ${strategy}: a job already final is reported once`, async () => {
      const { client } = await clientOf(SERVERS.jobwait!);
      const job = await client.createJob({ duration: 5 });
      await client.cancelJob(job.id);
      const updates: Job[] = [];
      const done = await client.waitForJob(job.id, { strategy, timeoutMs: 10_000, onUpdate: (j) => updates.push(j) });
      assert.equal(done.status, 'canceled');
      assert.deepEqual(updates, [done]);
    });
  }
});
