/**
 * The embedded engine: one SQLite file (`<dataDir>/jobwait.db`, or `:memory:`),
 * one better-sqlite3 connection with one set of pragmas, holding the jobs, the
 * API keys and the deliveries; rate limits and the change feed live in this
 * process. Other processes (the `jobwait keys` CLI, an operator's `sqlite3`)
 * may open the same file: WAL and the busy timeout let them.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LocalFeed } from '../../feed/local-feed.js';
import { LocalRateLimiter } from '../../ratelimit/local-rate-limiter.js';
import type { Engine } from '../engine.js';
import { SqliteDeliveryStore } from './sqlite-delivery-store.js';
import { SqliteJobStore } from './sqlite-job-store.js';
import { SqliteKeyStore } from './sqlite-key-store.js';
import { SqliteModelStore } from './sqlite-model-store.js';
import { SqliteRetention } from './sqlite-retention.js';

/** Options of {@link openSqliteEngine}. */
export interface SqliteEngineOptions {
  /** Folder of `jobwait.db` (made if missing); `:memory:` for a private in-memory database. */
  dataDir: string;
  /** How long a finished job is kept, in seconds. */
  retentionSeconds: number;
  now: () => number;
}

/** Opens (creating or upgrading) the database and everything on it. */
export function openSqliteEngine(options: SqliteEngineOptions): Engine {
  const memory = options.dataDir === ':memory:';
  if (!memory) mkdirSync(options.dataDir, { recursive: true });
  const path = memory ? ':memory:' : join(options.dataDir, 'jobwait.db');
  const db = new Database(path);
  // Set before the first table exists (it cannot change later without a VACUUM): a new file can then
  // give the pages that retention frees back to the file system a few at a time.
  if (db.pragma('page_count', { simple: true }) === 0) db.pragma('auto_vacuum = INCREMENTAL');
  // WAL + synchronous=NORMAL: a committed change survives a process crash; only an OS crash or
  // power loss may roll back the last transactions.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const jobs = new SqliteJobStore(db);
  const deliveries = new SqliteDeliveryStore(db);
  const retention = new SqliteRetention(db, path, options.retentionSeconds * 1000);
  const limiter = new LocalRateLimiter(options.now);
  const feed = new LocalFeed();
  return {
    kind: memory ? 'memory' : 'sqlite',
    jobs,
    keys: new SqliteKeyStore(db),
    deliveries,
    limiter,
    feed,
    models: new SqliteModelStore(db),
    persistent: !memory,
    details: memory ? { database: ':memory:' } : { dataDir: options.dataDir },
    async prune(now, limit) {
      const { ids, ...counts } = retention.prune(now, limit);
      jobs.forget(ids);
      return counts;
    },
    reclaim: async (pages) => retention.reclaim(pages),
    size: () => retention.size(),
    // One local connection: its failures surface on the calls themselves.
    onConnectionError: () => {},
    async close() {
      if (!db.open) return;
      jobs.flush();
      limiter.close();
      await feed.close();
      db.close();
    },
  };
}
