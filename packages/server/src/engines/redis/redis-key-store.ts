/**
 * API keys in Redis, so every instance of a cluster sees the same keys and
 * `jobwait keys --store redis` can manage them from anywhere. Add and revoke
 * are Lua scripts, so a key's hash, the id sets and the access mode (the
 * `access` hash, turned to keys by the script that adds a key) never disagree.
 */
import type { Redis } from 'ioredis';
import type { AccessMode, ApiKeyRecord, KeyStore } from '../../auth/key-store.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisScripts } from './redis-scripts.js';

/** {@link KeyStore} in Redis. */
export class RedisKeyStore implements KeyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly scripts: RedisScripts,
  ) {}

  async add(record: ApiKeyRecord): Promise<void> {
    const fields: (string | number)[] = ['id', record.id, 'name', record.name, 'hash', record.hash, 'createdAt', record.createdAt];
    if (record.revokedAt !== undefined) fields.push('revokedAt', record.revokedAt);
    if (record.rateLimit) fields.push('ratePerSecond', record.rateLimit.perSecond, 'rateBurst', record.rateLimit.burst);
    if (record.webhookUrl !== undefined) fields.push('webhookUrl', record.webhookUrl);
    const k = this.keys;
    await this.scripts.run('add-key', [k.apiKey(record.id), k.apiKeys, k.activeApiKeys, k.access], [record.id, record.revokedAt !== undefined ? '1' : '0', record.createdAt, ...fields]);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const h = await this.redis.hgetall(this.keys.apiKey(id));
    return h.id === undefined ? undefined : fromHash(h);
  }

  async list(): Promise<ApiKeyRecord[]> {
    const ids = await this.redis.smembers(this.keys.apiKeys);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.apiKey(id));
    const replies = (await pipeline.exec()) ?? [];
    const records: ApiKeyRecord[] = [];
    for (const [error, h] of replies) {
      if (error) throw error;
      const hash = h as Record<string, string>;
      if (hash.id !== undefined) records.push(fromHash(hash));
    }
    return records.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async revoke(id: string, now: number): Promise<boolean> {
    return (await this.scripts.run<number>('revoke-key', [this.keys.apiKey(id), this.keys.activeApiKeys], [id, now])) === 1;
  }

  async accessMode(): Promise<AccessMode> {
    const [mode, since, reason] = await this.scripts.run<[string, string, string]>('access-mode', [this.keys.access, this.keys.apiKeys], []);
    // Anything but an explicit `open` (a value this code does not know) keeps keys required.
    return { keysRequired: mode !== 'open', since: since === '' ? undefined : Number(since), reason: reason || `unknown access mode ${JSON.stringify(mode)}` };
  }

  async requiresKeys(): Promise<boolean> {
    return (await this.accessMode()).keysRequired;
  }

  async openAccess(now: number): Promise<boolean> {
    return (await this.scripts.run<number>('open-access', [this.keys.access, this.keys.activeApiKeys], [now])) === 1;
  }
}

function fromHash(h: Record<string, string>): ApiKeyRecord {
  const record: ApiKeyRecord = { id: h.id!, name: h.name!, hash: h.hash!, createdAt: Number(h.createdAt) };
  if (h.revokedAt !== undefined) record.revokedAt = Number(h.revokedAt);
  if (h.ratePerSecond !== undefined && h.rateBurst !== undefined) record.rateLimit = { perSecond: Number(h.ratePerSecond), burst: Number(h.rateBurst) };
  if (h.webhookUrl !== undefined) record.webhookUrl = h.webhookUrl;
  return record;
}
