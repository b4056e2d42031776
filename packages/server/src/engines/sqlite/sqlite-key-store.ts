/**
 * API keys in the SQLite file beside the jobs, so `jobwait keys` can manage them while the server
 * runs; and the access mode (table `access_mode`, one row), changed in the transaction that adds a key.
 */
import type Database from 'better-sqlite3';
import type { AccessMode, ApiKeyRecord, KeyStore } from '../../auth/key-store.js';

interface ModeRow {
  mode: string;
  changed_at: number | null;
  reason: string;
}

interface Row {
  id: string;
  name: string;
  hash: string;
  created_at: number;
  revoked_at: number | null;
  rate_per_second: number | null;
  rate_burst: number | null;
  webhook_url: string | null;
}

/** {@link KeyStore} on the SQLite engine's connection. */
export class SqliteKeyStore implements KeyStore {
  private readonly stmt;
  private readonly addKey: Database.Transaction<(record: ApiKeyRecord) => void>;
  private readonly openIfNoActiveKey: Database.Transaction<(now: number) => boolean>;

  constructor(private readonly db: Database.Database) {
    this.db.exec(`CREATE TABLE IF NOT EXISTS api_keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      hash TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      revoked_at INTEGER,
      rate_per_second REAL,
      rate_burst REAL,
      webhook_url TEXT
    ) WITHOUT ROWID`);
    // One row. A file made before this table existed starts in the mode its keys call for: any key,
    // revoked or not, means keys were once required, and revoking them must not have opened the server.
    this.db.exec(`CREATE TABLE IF NOT EXISTS access_mode (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      mode TEXT NOT NULL CHECK (mode IN ('open', 'keys')),
      changed_at INTEGER,
      reason TEXT NOT NULL
    );
    INSERT OR IGNORE INTO access_mode (id, mode, changed_at, reason)
      SELECT 1, 'keys', NULL, 'the data already held API keys' WHERE EXISTS (SELECT 1 FROM api_keys)
      UNION ALL
      SELECT 1, 'open', NULL, 'no API key was ever created' WHERE NOT EXISTS (SELECT 1 FROM api_keys)`);
    this.stmt = {
      add: this.db.prepare(`INSERT OR IGNORE INTO api_keys (id, name, hash, created_at, revoked_at, rate_per_second, rate_burst, webhook_url)
        VALUES (@id, @name, @hash, @created_at, @revoked_at, @rate_per_second, @rate_burst, @webhook_url)`),
      get: this.db.prepare<[string], Row>('SELECT * FROM api_keys WHERE id = ?'),
      list: this.db.prepare<[], Row>('SELECT * FROM api_keys ORDER BY created_at, id'),
      revoke: this.db.prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?'),
      active: this.db.prepare<[], { n: number }>('SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL) AS n'),
      mode: this.db.prepare<[], ModeRow>('SELECT mode, changed_at, reason FROM access_mode WHERE id = 1'),
      setMode: this.db.prepare(`INSERT INTO access_mode (id, mode, changed_at, reason) VALUES (1, @mode, @changed_at, @reason)
        ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, changed_at = excluded.changed_at, reason = excluded.reason WHERE mode <> excluded.mode`),
    };
    this.addKey = this.db.transaction((record: ApiKeyRecord): void => {
      if (this.stmt.add.run(toRow(record)).changes === 0) return;
      this.stmt.setMode.run({ mode: 'keys', changed_at: record.createdAt, reason: `API key ${record.id} created` });
    });
    this.openIfNoActiveKey = this.db.transaction((now: number): boolean => {
      if (this.stmt.active.get()?.n === 1) return false;
      this.stmt.setMode.run({ mode: 'open', changed_at: now, reason: 'opened by `jobwait keys open-access`' });
      return true;
    });
  }

  async add(record: ApiKeyRecord): Promise<void> {
    // IMMEDIATE: the write lock first, so another process's add or open-access cannot interleave.
    this.addKey.immediate(record);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const row = this.stmt.get.get(id);
    return row && fromRow(row);
  }

  async list(): Promise<ApiKeyRecord[]> {
    return this.stmt.list.all().map(fromRow);
  }

  async revoke(id: string, now: number): Promise<boolean> {
    return this.stmt.revoke.run(now, id).changes > 0;
  }

  async accessMode(): Promise<AccessMode> {
    const row = this.stmt.mode.get();
    // The row is written when the store opens; without it (or with a mode this code does not know) keys stay required.
    if (!row) return { keysRequired: true, reason: 'the access mode is missing from the data' };
    return { keysRequired: row.mode !== 'open', since: row.changed_at ?? undefined, reason: row.reason };
  }

  async requiresKeys(): Promise<boolean> {
    return (await this.accessMode()).keysRequired;
  }

  async openAccess(now: number): Promise<boolean> {
    return this.openIfNoActiveKey.immediate(now);
  }
}

function toRow(record: ApiKeyRecord): Row {
  return {
    id: record.id,
    name: record.name,
    hash: record.hash,
    created_at: record.createdAt,
    revoked_at: record.revokedAt ?? null,
    rate_per_second: record.rateLimit?.perSecond ?? null,
    rate_burst: record.rateLimit?.burst ?? null,
    webhook_url: record.webhookUrl ?? null,
  };
}

function fromRow(row: Row): ApiKeyRecord {
  const record: ApiKeyRecord = { id: row.id, name: row.name, hash: row.hash, createdAt: row.created_at };
  if (row.revoked_at !== null) record.revokedAt = row.revoked_at;
  if (row.rate_per_second !== null && row.rate_burst !== null) record.rateLimit = { perSecond: row.rate_per_second, burst: row.rate_burst };
  if (row.webhook_url !== null) record.webhookUrl = row.webhook_url;
  return record;
}
