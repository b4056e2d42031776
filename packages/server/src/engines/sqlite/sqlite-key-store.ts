/** API keys in the SQLite file beside the jobs, so `jobwait keys` can manage them while the server runs. */
import type Database from 'better-sqlite3';
import type { ApiKeyRecord, KeyStore } from '../../auth/key-store.js';

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
    this.stmt = {
      add: this.db.prepare(`INSERT OR IGNORE INTO api_keys (id, name, hash, created_at, revoked_at, rate_per_second, rate_burst, webhook_url)
        VALUES (@id, @name, @hash, @created_at, @revoked_at, @rate_per_second, @rate_burst, @webhook_url)`),
      get: this.db.prepare<[string], Row>('SELECT * FROM api_keys WHERE id = ?'),
      list: this.db.prepare<[], Row>('SELECT * FROM api_keys ORDER BY created_at, id'),
      revoke: this.db.prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?'),
      active: this.db.prepare<[], { n: number }>('SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL) AS n'),
    };
  }

  async add(record: ApiKeyRecord): Promise<void> {
    this.stmt.add.run({
      id: record.id,
      name: record.name,
      hash: record.hash,
      created_at: record.createdAt,
      revoked_at: record.revokedAt ?? null,
      rate_per_second: record.rateLimit?.perSecond ?? null,
      rate_burst: record.rateLimit?.burst ?? null,
      webhook_url: record.webhookUrl ?? null,
    });
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

  async hasActiveKeys(): Promise<boolean> {
    return this.stmt.active.get()?.n === 1;
  }
}

function fromRow(row: Row): ApiKeyRecord {
  const record: ApiKeyRecord = { id: row.id, name: row.name, hash: row.hash, createdAt: row.created_at };
  if (row.revoked_at !== null) record.revokedAt = row.revoked_at;
  if (row.rate_per_second !== null && row.rate_burst !== null) record.rateLimit = { perSecond: row.rate_per_second, burst: row.rate_burst };
  if (row.webhook_url !== null) record.webhookUrl = row.webhook_url;
  return record;
}
