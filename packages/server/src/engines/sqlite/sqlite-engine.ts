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

/** Options of {@link openSqliteEngine}. */
export interface SqliteEngineOptions {
  /** Folder of `jobwait.db` (made if missing); `:memory:` for a private in-memory database. */
  dataDir: string;
  /** How long an Idempotency-Key is kept after its job's due time, in seconds (Redis keeps it as long). */
  retentionSeconds: number;
  now: () => number;
}

/** Interval of the pruning of idempotency keys. */
const PRUNE_INTERVAL_MS = 60_000;

/** Opens (creating or upgrading) the database and everything on it. */
export function openSqliteEngine(options: SqliteEngineOptions): Engine {
  const memory = options.dataDir === ':memory:';
  if (!memory) mkdirSync(options.dataDir, { recursive: true });
  const path = memory ? ':memory:' : join(options.dataDir, 'jobwait.db');
  const db = new Database(path);
  // WAL + synchronous=NORMAL: a committed change survives a process crash; only an OS crash or
  // power loss may roll back the last transactions.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const jobs = new SqliteJobStore(db);
  const limiter = new LocalRateLimiter(options.now);
  const feed = new LocalFeed();
  // The keys would otherwise grow without bound: Redis expires them, here they are deleted.
  const prune = setInterval(() => jobs.pruneIdempotencyKeys(options.now() - options.retentionSeconds * 1000), PRUNE_INTERVAL_MS);
  prune.unref();
  return {
    kind: memory ? 'memory' : 'sqlite',
    jobs,
    keys: new SqliteKeyStore(db),
    deliveries: new SqliteDeliveryStore(db),
    limiter,
    feed,
    persistent: !memory,
    details: memory ? { database: ':memory:' } : { dataDir: options.dataDir },
    // One local connection: its failures surface on the calls themselves.
    onConnectionError: () => {},
    async close() {
      if (!db.open) return;
      clearInterval(prune);
      jobs.flush();
      limiter.close();
      await feed.close();
      db.close();
    },
  };
}
