/**
 * Issue 9: the SQLite backup and retention recipes of docs/operations.md, on
 * a real server's file while it runs: the retention SQL (taken verbatim from
 * the docs) deletes old finished jobs and keeps the rest, and an online copy
 * (`.backup`, `VACUUM INTO`) is consistent and restores.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Job } from '@jobwait/client';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

const DOCS = fileURLToPath(new URL('../docs/operations.md', import.meta.url));
const DAY = 86_400_000;
const haveSqliteCli = spawnSync('sqlite3', ['-version']).status === 0;

/** The retention SQL of the docs (the sql block of the "Retention" section). */
function retentionSql(): string {
  const section = readFileSync(DOCS, 'utf8').split('### Retention')[1] ?? '';
  const match = /```sql\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('docs/operations.md has no sql block under "### Retention"');
  return match[1]!;
}

/** Runs `sql` on the file the way the docs do (sqlite3 CLI), or through better-sqlite3 without the CLI. */
function runSql(path: string, sql: string): string {
  if (haveSqliteCli) {
    const run = spawnSync('sqlite3', [path], { input: sql, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return run.stdout.trim();
  }
  const db = new Database(path);
  try {
    db.exec(sql);
    return '';
  } finally {
    db.close();
  }
}

describe('SQLite retention and backup, as documented', () => {
  let dir: string;
  let server: TestServer;
  let db: string;

  const api = async (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${server.url}${path}`, init);
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    api(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const create = async (body: unknown, headers: Record<string, string> = {}): Promise<Job> => {
    const res = await post('/v1/jobs', body, headers);
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as Job;
  };
  /** Moves a job's times `days` into the past, as if it had run then. */
  const age = (id: string, days: number, columns = ['created_at', 'due_at', 'updated_at']): void => {
    const conn = new Database(db);
    try {
      conn.pragma('busy_timeout = 5000');
      conn.prepare(`UPDATE jobs SET ${columns.map((c) => `${c} = ${c} - ?`).join(', ')} WHERE id = ?`).run(...columns.map(() => days * DAY), id);
    } finally {
      conn.close();
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobwait-sqlite-ops-'));
    server = await startTestServer({ store: 'sqlite', dataDir: dir, rateLimit: 0 });
    db = join(dir, 'jobwait.db');
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes finished jobs older than 30 days while the server runs, and keeps everything else', async () => {
    const oldDone = await create({ duration: 0.05 }, { 'idempotency-key': 'old-key' });
    const oldCanceled = await create({ duration: 3600 });
    assert.equal((await api(`/v1/jobs/${oldCanceled.id}`, { method: 'DELETE' })).status, 200);
    const oldPastDue = await create({ duration: 3600 });
    const recent = await create({ duration: 0.05 });
    const running = await create({ duration: 3600 });
    assert.equal((await post('/start-timer', { duration: 0.05 })).status, 200);
    await delay(300);
    const reader = new Database(db, { readonly: true });
    const timer = reader.prepare<[], { job_id: string }>('SELECT job_id FROM current_timers').get()!.job_id;
    reader.close();
    age(oldDone.id, 40);
    age(oldCanceled.id, 40, ['created_at', 'updated_at']);
    age(oldPastDue.id, 40, ['created_at', 'due_at']);
    age(timer, 40);

    runSql(db, retentionSql());

    for (const gone of [oldDone, oldCanceled, oldPastDue]) assert.equal((await api(`/v1/jobs/${gone.id}`)).status, 404, `${gone.id} deleted`);
    for (const kept of [recent, running]) assert.equal((await api(`/v1/jobs/${kept.id}`)).status, 200, `${kept.id} kept`);
    assert.deepEqual(await (await api('/status')).json(), { result: 'completed' }, "the seed API's current timer is kept");
    // The deleted job's Idempotency-Key went with it: the same request makes a new job, no error.
    const again = await post('/v1/jobs', { duration: 0.05 }, { 'idempotency-key': 'old-key' });
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), null);
    assert.equal((await api('/readyz')).status, 200);
  });

  it('makes a consistent online copy that restores (.backup and VACUUM INTO)', async () => {
    const job = await create({ duration: 0.05 });
    const live = new Database(db, { readonly: true });
    const count = live.prepare<[], { n: number }>('SELECT count(*) AS n FROM jobs').get()!.n;
    live.close();
    const copies = join(dir, 'backups');
    mkdirSync(copies);
    const targets = [join(copies, 'vacuum.db')];
    runSql(db, `VACUUM INTO '${targets[0]}';`);
    if (haveSqliteCli) {
      targets.push(join(copies, 'backup.db'));
      const run = spawnSync('sqlite3', [db, `.backup '${targets[1]}'`], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
    }
    for (const copy of targets) {
      const conn = new Database(copy, { readonly: true });
      try {
        assert.equal(conn.pragma('integrity_check', { simple: true }), 'ok');
        assert.equal(conn.prepare<[], { n: number }>('SELECT count(*) AS n FROM jobs').get()!.n, count, `${copy} has every job`);
      } finally {
        conn.close();
      }
    }
    // Restore: the copy as jobwait.db of a fresh data directory.
    const restoreDir = join(dir, 'restored');
    mkdirSync(restoreDir);
    copyFileSync(targets[targets.length - 1]!, join(restoreDir, 'jobwait.db'));
    const restored = await startTestServer({ store: 'sqlite', dataDir: restoreDir });
    try {
      const res = await fetch(`${restored.url}/v1/jobs/${job.id}`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as Job).status, 'completed');
    } finally {
      await restored.close();
    }
  });
});
