/**
 * Duration models in SQLite: one row per tenant and kind holding the model's JSON, changed in a
 * write transaction (read, change, write), so two processes on one file both count. The table is
 * made at open if missing; it needs no schema version of its own.
 */
import type Database from 'better-sqlite3';
import { isModelState, type DurationModelState } from '../../predict/duration-model.js';
import type { DurationModelStore } from '../../store/duration-model-store.js';

/** {@link DurationModelStore} on the SQLite engine's connection. */
export class SqliteModelStore implements DurationModelStore {
  private readonly read: Database.Statement<[string, string], string>;
  private readonly updateTx: (tenant: string, kind: string, change: (state: DurationModelState | undefined) => DurationModelState) => DurationModelState;

  constructor(db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS duration_models (
      tenant TEXT NOT NULL,
      kind TEXT NOT NULL,
      state TEXT NOT NULL,
      PRIMARY KEY (tenant, kind)
    ) WITHOUT ROWID`);
    this.read = db.prepare<[string, string], string>('SELECT state FROM duration_models WHERE tenant = ? AND kind = ?').pluck();
    const write = db.prepare<[string, string, string]>(
      'INSERT INTO duration_models (tenant, kind, state) VALUES (?, ?, ?) ON CONFLICT (tenant, kind) DO UPDATE SET state = excluded.state',
    );
    const tx = db.transaction((tenant: string, kind: string, change: (state: DurationModelState | undefined) => DurationModelState) => {
      const next = change(this.parse(this.read.get(tenant, kind)));
      write.run(tenant, kind, JSON.stringify(next));
      return next;
    });
    this.updateTx = (tenant, kind, change) => tx.immediate(tenant, kind, change);
  }

  async get(tenant: string, kind: string): Promise<DurationModelState | undefined> {
    return this.parse(this.read.get(tenant, kind));
  }

  async update(tenant: string, kind: string, change: (state: DurationModelState | undefined) => DurationModelState): Promise<DurationModelState> {
    return this.updateTx(tenant, kind, change);
  }

  private parse(text: string | undefined): DurationModelState | undefined {
    if (text === undefined) return undefined;
    const state: unknown = JSON.parse(text);
    return isModelState(state) ? state : undefined;
  }
}
