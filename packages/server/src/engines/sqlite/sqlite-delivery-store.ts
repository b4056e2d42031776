/**
 * Deliveries in SQLite, in the same file and on the same connection as the
 * jobs. A claim is one `UPDATE … RETURNING` statement, so it is atomic even
 * when several processes share the file.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ClaimedDelivery, Delivery, DeliveryAttempt, DeliveryKind, DeliveryStatus, DeliveryUpdate, EndpointSource, JobEvent } from '../../notify/delivery.js';
import type { DeliveryStore, NewDelivery } from '../../notify/delivery-store.js';

interface Row {
  id: string;
  tenant: string;
  job_id: string;
  kind: DeliveryKind;
  event: JobEvent;
  target: string;
  source: EndpointSource;
  payload: string;
  status: DeliveryStatus;
  attempts: string;
  note: string | null;
  created_at: number;
  updated_at: number;
  next_attempt_at: number | null;
  claim_token: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS deliveries (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  job_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  event TEXT NOT NULL,
  target TEXT NOT NULL,
  source TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts TEXT NOT NULL DEFAULT '[]',
  note TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  next_attempt_at INTEGER,
  claim_token TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_job ON deliveries (tenant, job_id);
CREATE TABLE IF NOT EXISTS disabled_endpoints (
  tenant TEXT NOT NULL,
  url TEXT NOT NULL,
  disabled_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (tenant, url)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notify_settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

/** {@link DeliveryStore} on the SQLite engine's connection. */
export class SqliteDeliveryStore implements DeliveryStore {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.db.exec(SCHEMA);
    this.stmt = {
      insert: db.prepare(`INSERT INTO deliveries (id, tenant, job_id, kind, event, target, source, payload, status, note, created_at, updated_at, next_attempt_at)
        VALUES (@id, @tenant, @job_id, @kind, @event, @target, @source, @payload, @status, @note, @created_at, @created_at, @next_attempt_at)
        ON CONFLICT (id) DO NOTHING`),
      claim: db.prepare<{ now: number; until: number; token: string; limit: number }, Row>(`UPDATE deliveries SET next_attempt_at = @until, claim_token = @token
        WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= @now ORDER BY next_attempt_at LIMIT @limit)
        RETURNING *`),
      complete: db.prepare(`UPDATE deliveries SET
          status = @status,
          attempts = CASE WHEN @attempt IS NULL THEN attempts ELSE json_insert(attempts, '$[#]', json(@attempt)) END,
          next_attempt_at = @next,
          note = coalesce(@note, note),
          claim_token = NULL,
          updated_at = @now
        WHERE id = @id AND claim_token = @token`),
      anyDue: db.prepare<[number], { one: number }>(`SELECT 1 AS one FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? LIMIT 1`),
      nextDue: db.prepare<[], { due: number | null }>(`SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE status = 'pending'`),
      listForJob: db.prepare<[string, string], Row>('SELECT * FROM deliveries WHERE tenant = ? AND job_id = ? ORDER BY created_at, id'),
      disable: db.prepare(`INSERT INTO disabled_endpoints (tenant, url, disabled_at, reason) VALUES (?, ?, ?, ?) ON CONFLICT (tenant, url) DO NOTHING`),
      isDisabled: db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM disabled_endpoints WHERE tenant = ? AND url = ?'),
      settingInsert: db.prepare('INSERT INTO notify_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
      settingGet: db.prepare<[string], { value: string }>('SELECT value FROM notify_settings WHERE key = ?'),
    };
  }

  async enqueue(delivery: NewDelivery): Promise<boolean> {
    const result = this.stmt.insert.run({
      id: delivery.id,
      tenant: delivery.tenant,
      job_id: delivery.jobId,
      kind: delivery.kind,
      event: delivery.event,
      target: delivery.target,
      source: delivery.source,
      payload: delivery.payload,
      status: delivery.status,
      note: delivery.note ?? null,
      created_at: delivery.createdAt,
      next_attempt_at: delivery.status === 'pending' ? (delivery.nextAttemptAt ?? delivery.createdAt) : null,
    });
    return result.changes === 1;
  }

  async claimDue(now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    // Read-only fast path: the poll of an idle server takes no write lock on the shared file.
    if (this.stmt.anyDue.get(now) === undefined) return [];
    const token = randomUUID();
    const rows = this.stmt.claim.all({ now, until: now + leaseMs, token, limit });
    return rows.map((row) => ({ ...fromRow(row), claimToken: token }));
  }

  async complete(id: string, claimToken: string, update: DeliveryUpdate, now: number): Promise<boolean> {
    const result = this.stmt.complete.run({
      id,
      token: claimToken,
      status: update.status,
      attempt: update.attempt ? JSON.stringify(update.attempt) : null,
      next: update.status === 'pending' ? (update.nextAttemptAt ?? now) : null,
      note: update.note ?? null,
      now,
    });
    return result.changes === 1;
  }

  async nextDueAt(): Promise<number | undefined> {
    return this.stmt.nextDue.get()?.due ?? undefined;
  }

  async listForJob(tenant: string, jobId: string): Promise<Delivery[]> {
    return this.stmt.listForJob.all(tenant, jobId).map(fromRow);
  }

  async disableEndpoint(tenant: string, url: string, at: number, reason: string): Promise<void> {
    this.stmt.disable.run(tenant, url, at, reason);
  }

  async isEndpointDisabled(tenant: string, url: string): Promise<boolean> {
    return this.stmt.isDisabled.get(tenant, url) !== undefined;
  }

  async ensureSetting(key: string, value: string): Promise<string> {
    this.stmt.settingInsert.run(key, value);
    return this.stmt.settingGet.get(key)!.value;
  }
}

function fromRow(row: Row): Delivery {
  const delivery: Delivery = {
    id: row.id,
    tenant: row.tenant,
    jobId: row.job_id,
    kind: row.kind,
    event: row.event,
    target: row.target,
    source: row.source,
    payload: row.payload,
    status: row.status,
    attempts: JSON.parse(row.attempts) as DeliveryAttempt[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.next_attempt_at !== null) delivery.nextAttemptAt = row.next_attempt_at;
  if (row.note !== null) delivery.note = row.note;
  return delivery;
}
