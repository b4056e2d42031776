/**
 * The SQLite recipes of docs/operations.md, on a real server's file: an
 * online copy (`.backup`, `VACUUM INTO`) made while the server runs is
 * consistent and restores, and the documented one-off conversion of an older
 * file to incremental auto-vacuum works (retention itself needs no recipe: the
 * server prunes, packages/server/src/jobs/retention.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Job } from '@jobwait/client';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

const DOCS = fileURLToPath(new URL('../docs/operations.md', import.meta.url));
const haveSqliteCli = spawnSync('sqlite3', ['-version']).status === 0;

/** The console line of the docs' "Retention" section that converts an older file. */
function conversionSql(): string {
  const section = readFileSync(DOCS, 'utf8').split('### Retention')[1] ?? '';
  const match = /# sqlite3 \S+ '([^']+)'/.exec(section);
  if (!match) throw new Error('docs/operations.md has no sqlite3 line under "### Retention"');
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

describe('SQLite backup and file conversion, as documented', () => {
  let dir: string;
  let server: TestServer;
  let db: string;

  const create = async (body: unknown): Promise<Job> => {
    const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as Job;
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

  it('makes new files with incremental auto-vacuum, and converts older ones with the documented line', async () => {
    const live = new Database(db, { readonly: true });
    assert.equal(live.pragma('auto_vacuum', { simple: true }), 2, "the server's own file gives freed space back");
    live.close();
    const older = join(dir, 'older.db');
    const conn = new Database(older);
    conn.exec('CREATE TABLE jobs (id TEXT PRIMARY KEY); INSERT INTO jobs VALUES (1), (2);');
    assert.equal(conn.pragma('auto_vacuum', { simple: true }), 0);
    conn.close();
    runSql(older, conversionSql());
    const converted = new Database(older, { readonly: true });
    try {
      assert.equal(converted.pragma('auto_vacuum', { simple: true }), 2, 'incremental');
      assert.equal(converted.prepare<[], { n: number }>('SELECT count(*) AS n FROM jobs').get()!.n, 2);
    } finally {
      converted.close();
    }
  });
});
