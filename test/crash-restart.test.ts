/**
 * Issue 7: the server never loses a job. SIGKILL with 200 jobs pending and
 * 200 clients waiting, restart on the same port and data folder: every wait
 * ends with the right status. SIGTERM drains: held long-polls are answered
 * with the current state, streams end with a reconnect hint.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { JobwaitClient, type Job } from '@jobwait/client';
import { freePort, spawnServer } from './helpers/server-process.js';

describe('crash and restart', () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILL with 200 waiters: nothing lost, every wait ends right after the restart', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobwait-crash-'));
    dirs.push(dir);
    const port = await freePort();
    const args = ['--data-dir', dir, '--rate-limit', '0'];
    const first = await spawnServer(port, args);
    const client = new JobwaitClient({ baseUrl: first.url, retry: { limit: 120, baseDelayMs: 50, maxDelayMs: 1000 } });
    const wanted = Array.from({ length: 200 }, (_, i) => ({ duration: 1 + (i % 4) * 0.75, outcome: i % 5 === 0 ? ('error' as const) : ('completed' as const) }));
    const jobs = await Promise.all(wanted.map((input) => client.createJob(input)));
    const waits = jobs.map((job, i) =>
      client.waitForJob(job.id, { timeoutMs: 60_000 }).then(
        (done) => ({ i, done }),
        (error: unknown) => ({ i, error }),
      ),
    );
    await delay(300);
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    await delay(500);
    const second = await spawnServer(port, args);
    try {
      const results = await Promise.all(waits);
      for (const r of results) {
        assert.ok(!('error' in r), `wait ${r.i} failed: ${'error' in r ? String(r.error) : ''}`);
        assert.equal((r as { done: Job }).done.status, wanted[r.i]!.outcome);
      }
      const listed = await client.listJobs({ limit: 100 });
      assert.equal(listed.jobs.length, 100);
      let count = 0;
      for (let cursor: string | undefined, page = listed; ; ) {
        count += page.jobs.length;
        cursor = page.nextCursor;
        if (!cursor) break;
        page = await client.listJobs({ limit: 100, cursor });
      }
      assert.equal(count, 200, 'every job survived the crash');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('SIGTERM drains: held long-polls get the current state, streams end with a retry hint, exit 0', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobwait-term-'));
    dirs.push(dir);
    const port = await freePort();
    const server = await spawnServer(port, ['--data-dir', dir, '--rate-limit', '0']);
    const client = new JobwaitClient({ baseUrl: server.url });
    const job = await client.createJob({ duration: 120 });
    const held = Promise.all(
      Array.from({ length: 20 }, () => fetch(`${server.url}/v1/jobs/${job.id}`, { headers: { prefer: 'wait=60' } }).then(async (r) => ({ status: r.status, body: (await r.json()) as Job }))),
    );
    const stream = await fetch(`${server.url}/v1/jobs/${job.id}/events`);
    const streamText = stream.text();
    await delay(300);
    const t0 = Date.now();
    server.child.kill('SIGTERM');
    const answers = await held;
    assert.ok(Date.now() - t0 < 10_000, 'answered at once, not after the 60 s hold');
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.equal(a.body.status, 'pending');
      assert.equal(a.body.id, job.id);
    }
    const text = await streamText;
    assert.match(text, /event: job/);
    assert.match(text, /retry: \d+\n\n$/, 'the stream ends with a reconnect hint');
    assert.equal(await server.exited, 0);
  });
});
