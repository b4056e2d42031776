/**
 * What only the SQLite store has to show: the counts of a file written before they existed are
 * filled from its rows when it is opened, and kept from then on.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { JobIdFactory } from '../../jobs/job-id.js';
import { openSqliteEngine } from './sqlite-engine.js';

const FIXTURE = fileURLToPath(new URL('../../../../../test/fixtures/release-0.1.0/jobwait.db', import.meta.url));
/** The fixture's one pending job was created then (it runs 3600 s). */
const FIXTURE_PENDING_CREATED_AT = 1796150239443;

describe('SqliteJobStore counts', () => {
  it('fills the counts of a file from before them with its rows, and keeps them as jobs change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobwait-counts-'));
    try {
      copyFileSync(FIXTURE, join(dir, 'jobwait.db'));
      const before = new Database(join(dir, 'jobwait.db'), { readonly: true });
      assert.equal(before.prepare(`SELECT name FROM sqlite_master WHERE name = 'job_counts'`).get(), undefined, 'the fixture has no counts yet');
      before.close();

      const now = FIXTURE_PENDING_CREATED_AT + 1000;
      let engine = openSqliteEngine({ dataDir: dir, retentionSeconds: 604_800, now: () => now });
      assert.deepEqual(await engine.jobs.countByStatus('public', now), { pending: 1, completed: 3, error: 1, canceled: 1 });
      const id = new JobIdFactory().next(now);
      await engine.jobs.create({ id, tenant: 'public', state: 'pending', outcome: 'error', createdAt: now, dueAt: now + 10, updatedAt: now, duration: 0.01, version: 1 });
      await engine.jobs.settleDue(now + 10, 10);
      await engine.close();

      // Opened again: filled once, not twice.
      engine = openSqliteEngine({ dataDir: dir, retentionSeconds: 604_800, now: () => now });
      assert.deepEqual(await engine.jobs.countByStatus('public', now + 10), { pending: 1, completed: 3, error: 2, canceled: 1 });
      assert.deepEqual(await engine.jobs.countByStatus('someone-else', now), { pending: 0, completed: 0, error: 0, canceled: 0 });
      await engine.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts rows another connection writes to the same file (the triggers live in the file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobwait-counts-'));
    const engine = openSqliteEngine({ dataDir: dir, retentionSeconds: 604_800, now: () => Date.now() });
    try {
      const other = new Database(join(dir, 'jobwait.db'));
      const now = Date.now();
      other
        .prepare(`INSERT INTO jobs (id, tenant, state, outcome, created_at, due_at, updated_at, duration, version) VALUES (?, 'public', 'pending', 'completed', ?, ?, ?, 60, 1)`)
        .run(new JobIdFactory().next(now), now, now + 60_000, now);
      assert.deepEqual(await engine.jobs.countByStatus('public', now), { pending: 1, completed: 0, error: 0, canceled: 0 });
      other.prepare(`UPDATE jobs SET state = 'canceled', version = 2`).run();
      assert.deepEqual(await engine.jobs.countByStatus('public', now), { pending: 0, completed: 0, error: 0, canceled: 1 });
      other.prepare(`DELETE FROM jobs`).run();
      assert.deepEqual(await engine.jobs.countByStatus('public', now), { pending: 0, completed: 0, error: 0, canceled: 0 });
      other.close();
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteJobStore batch (group commit of queue messages)', () => {
  it('commits the writes of a batch together, and what a failing batch wrote before it failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobwait-batch-'));
    try {
      const now = Date.now();
      const ids = new JobIdFactory();
      const engine = openSqliteEngine({ dataDir: dir, retentionSeconds: 604_800, now: () => now });
      const job = (id: string) => ({ id, tenant: 'public', state: 'pending' as const, createdAt: now, updatedAt: now, version: 1, expiresAt: now + 60_000 });
      const first = ids.next(now);
      const second = ids.next(now);
      const other = new Database(join(dir, 'jobwait.db'), { readonly: true });
      const count = () => (other.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n;
      await engine.jobs.batch!(async () => {
        await engine.jobs.create(job(first), { key: 'k1', fingerprint: 'f' });
        // Not committed yet: another connection sees nothing.
        assert.equal(count(), 0);
        await engine.jobs.create(job(second), { key: 'k2', fingerprint: 'f' });
      });
      assert.equal(count(), 2);
      await assert.rejects(
        engine.jobs.batch!(async () => {
          await engine.jobs.create(job(ids.next(now)), { key: 'k3', fingerprint: 'f' });
          throw new Error('the store failed midway');
        }),
        /the store failed midway/,
      );
      assert.equal(count(), 3, 'what the batch wrote before the failure is committed');
      other.close();
      await engine.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
