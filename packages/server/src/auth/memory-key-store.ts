/** API keys in memory, for `--store memory`. */
import type { ApiKeyRecord, KeyStore } from './key-store.js';

/** {@link KeyStore} in a Map. */
export class MemoryKeyStore implements KeyStore {
  private readonly keys = new Map<string, ApiKeyRecord>();

  async add(record: ApiKeyRecord): Promise<void> {
    if (!this.keys.has(record.id)) this.keys.set(record.id, { ...record });
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const record = this.keys.get(id);
    return record && { ...record };
  }

  async list(): Promise<ApiKeyRecord[]> {
    return [...this.keys.values()].map((r) => ({ ...r }));
  }

  async revoke(id: string, now: number): Promise<boolean> {
    const record = this.keys.get(id);
    if (!record) return false;
    record.revokedAt ??= now;
    return true;
  }

  async hasActiveKeys(): Promise<boolean> {
    for (const record of this.keys.values()) if (record.revokedAt === undefined) return true;
    return false;
  }

  async close(): Promise<void> {}
}
