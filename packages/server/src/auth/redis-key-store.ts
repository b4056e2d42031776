/**
 * API keys in Redis (`--store redis`), so every instance of a cluster sees
 * the same keys and `jobwait keys --store redis` can manage them from anywhere.
 *
 * Keys, under `prefix`:
 * - `apikey:<id>` — hash of one key (never the secret, only its SHA-256).
 * - `apikeys` — set of every key id.
 * - `apikeys:active` — set of the ids not revoked (`hasActiveKeys` is one SCARD).
 * Add and revoke are Lua scripts, so the hash and the sets never disagree.
 */
import type { Redis } from 'ioredis';
import type { ApiKeyRecord, KeyStore } from './key-store.js';
import { closeRedis, openRedis, type RedisLogger } from '../store/redis-connection.js';

const ADD_SCRIPT = `
-- KEYS: 1 key hash, 2 all ids, 3 active ids; ARGV: 1 id, 2 revoked ('1'/'0'), 3.. field/value pairs
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('SADD', KEYS[2], ARGV[1])
if ARGV[2] == '0' then redis.call('SADD', KEYS[3], ARGV[1]) end
return 1
`;

const REVOKE_SCRIPT = `
-- KEYS: 1 key hash, 2 active ids; ARGV: 1 id, 2 now
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'revokedAt', ARGV[2])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
`;

interface KeyCommands {
  jobwaitKeyAdd(key: string, all: string, active: string, ...args: (string | number)[]): Promise<number>;
  jobwaitKeyRevoke(key: string, active: string, id: string, now: number): Promise<number>;
}

/** Options of {@link RedisKeyStore}: a connection to share (the job store's), or a URL to open one. */
export type RedisKeyStoreOptions =
  | { redis: Redis; prefix: string }
  | { url: string; prefix: string; log?: RedisLogger | undefined };

/** {@link KeyStore} in Redis. */
export class RedisKeyStore implements KeyStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly owned: boolean;
  private readonly commands: KeyCommands;

  constructor(options: RedisKeyStoreOptions) {
    this.prefix = options.prefix;
    if ('redis' in options) {
      this.redis = options.redis;
      this.owned = false;
    } else {
      this.redis = openRedis(options.url, 'keys', {}, options.log);
      this.owned = true;
    }
    this.redis.defineCommand('jobwaitKeyAdd', { numberOfKeys: 3, lua: ADD_SCRIPT });
    this.redis.defineCommand('jobwaitKeyRevoke', { numberOfKeys: 2, lua: REVOKE_SCRIPT });
    this.commands = this.redis as unknown as KeyCommands;
  }

  async add(record: ApiKeyRecord): Promise<void> {
    const fields: (string | number)[] = ['id', record.id, 'name', record.name, 'hash', record.hash, 'createdAt', record.createdAt];
    if (record.revokedAt !== undefined) fields.push('revokedAt', record.revokedAt);
    if (record.rateLimit) fields.push('ratePerSecond', record.rateLimit.perSecond, 'rateBurst', record.rateLimit.burst);
    if (record.webhookUrl !== undefined) fields.push('webhookUrl', record.webhookUrl);
    await this.commands.jobwaitKeyAdd(this.keyKey(record.id), this.allKey, this.activeKey, record.id, record.revokedAt !== undefined ? '1' : '0', ...fields);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const h = await this.redis.hgetall(this.keyKey(id));
    return h.id === undefined ? undefined : fromHash(h);
  }

  async list(): Promise<ApiKeyRecord[]> {
    const ids = await this.redis.smembers(this.allKey);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keyKey(id));
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
    return (await this.commands.jobwaitKeyRevoke(this.keyKey(id), this.activeKey, id, now)) === 1;
  }

  async hasActiveKeys(): Promise<boolean> {
    return (await this.redis.scard(this.activeKey)) > 0;
  }

  /** Closes the connection only when this store opened it. */
  async close(): Promise<void> {
    if (this.owned) await closeRedis(this.redis);
  }

  private keyKey(id: string): string {
    return `${this.prefix}apikey:${id}`;
  }

  private get allKey(): string {
    return `${this.prefix}apikeys`;
  }

  private get activeKey(): string {
    return `${this.prefix}apikeys:active`;
  }
}

function fromHash(h: Record<string, string>): ApiKeyRecord {
  const record: ApiKeyRecord = { id: h.id!, name: h.name!, hash: h.hash!, createdAt: Number(h.createdAt) };
  if (h.revokedAt !== undefined) record.revokedAt = Number(h.revokedAt);
  if (h.ratePerSecond !== undefined && h.rateBurst !== undefined) record.rateLimit = { perSecond: Number(h.ratePerSecond), burst: Number(h.rateBurst) };
  if (h.webhookUrl !== undefined) record.webhookUrl = h.webhookUrl;
  return record;
}
