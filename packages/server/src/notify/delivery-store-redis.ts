/**
 * Deliveries in Redis (`--store redis`), on the job store's own ioredis
 * connection and key prefix, so every instance of a cluster shares them and
 * they outlive restarts (as far as the Redis server keeps its data: RDB/AOF).
 *
 * Keys, all under `prefix`:
 * - `dlv:<id>` — hash of one delivery (attempts as a JSON array).
 * - `deliveries:due` — sorted set of pending delivery ids by `nextAttemptAt`
 *   (leased ones included, scored at their lease end).
 * - `dlvjob:<tenant>:<jobId>` — sorted set of a job's delivery ids by
 *   `createdAt` (ties by id), tenant and job id URI-encoded so they hold no `:`.
 * - `dlv-disabled` — hash `<tenant>\n<url>` → `{at, reason}` of disabled endpoints.
 * - `dlv-settings` — hash of notification settings (per-tenant webhook secrets).
 * - `dlv-claim:<token>` — list of the ids one claim leased (while its lease lasts), so a
 *   claim run again with its token (ioredis resends a command whose reply was lost when the
 *   connection dropped) returns them instead of leasing more and stranding the first ones.
 *
 * Enqueue, claim and complete are each one Lua script, so a claim is atomic
 * across instances: each due delivery goes to one claimer only, and a
 * completion counts only under the claim token it was leased with.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ClaimedDelivery, Delivery, DeliveryAttempt, DeliveryKind, DeliveryStatus, DeliveryUpdate, EndpointSource, JobEvent } from './delivery.js';
import type { DeliveryStore, NewDelivery } from './delivery-store.js';

const ENQUEUE_SCRIPT = `
-- KEYS: 1 delivery, 2 due, 3 job index; ARGV: 1 id, 2 createdAt, 3 nextAttemptAt ('' unless pending), 4.. field/value pairs
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) end
return 1
`;

const CLAIM_SCRIPT = `
-- KEYS: 1 due, 2 claim record; ARGV: 1 now, 2 lease end, 3 claim token, 4 limit, 5 delivery key prefix, 6 lease ms
-- Run again with the same token (its reply was lost), it answers what that token holds instead of claiming more.
if redis.call('EXISTS', KEYS[2]) == 1 then
  local out = {}
  for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
    local key = ARGV[5] .. id
    if redis.call('HGET', key, 'claimToken') == ARGV[3] then out[#out + 1] = redis.call('HGETALL', key) end
  end
  return out
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[5] .. id
  if redis.call('HGET', key, 'status') == 'pending' then
    redis.call('HSET', key, 'nextAttemptAt', ARGV[2], 'claimToken', ARGV[3])
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    out[#out + 1] = redis.call('HGETALL', key)
    redis.call('RPUSH', KEYS[2], id)
  else
    -- Not pending (or gone): it has nothing to do in the due set.
    redis.call('ZREM', KEYS[1], id)
  end
end
if #out > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[6]) end
return out
`;

const COMPLETE_SCRIPT = `
-- KEYS: 1 delivery, 2 due; ARGV: 1 id, 2 claim token, 3 status, 4 attempt JSON ('' for none),
--       5 nextAttemptAt ('' unless pending), 6 has note ('1'/'0'), 7 note, 8 now
if redis.call('HGET', KEYS[1], 'claimToken') ~= ARGV[2] then return 0 end
if ARGV[4] ~= '' then
  local attempts = redis.call('HGET', KEYS[1], 'attempts')
  if not attempts or attempts == '[]' then
    attempts = '[' .. ARGV[4] .. ']'
  else
    attempts = string.sub(attempts, 1, -2) .. ',' .. ARGV[4] .. ']'
  end
  redis.call('HSET', KEYS[1], 'attempts', attempts)
end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'updatedAt', ARGV[8])
redis.call('HDEL', KEYS[1], 'claimToken')
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'note', ARGV[7]) end
if ARGV[3] == 'pending' then
  redis.call('HSET', KEYS[1], 'nextAttemptAt', ARGV[5])
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
else
  redis.call('HDEL', KEYS[1], 'nextAttemptAt')
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
`;

const LIST_SCRIPT = `
-- KEYS: 1 job index; ARGV: 1 delivery key prefix
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  local fields = redis.call('HGETALL', ARGV[1] .. id)
  if #fields > 0 then out[#out + 1] = fields end
end
return out
`;

const SETTING_SCRIPT = `
-- KEYS: 1 settings; ARGV: 1 key, 2 value
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], ARGV[1])
`;

interface DeliveryCommands {
  jobwaitDlvEnqueue(delivery: string, due: string, index: string, ...args: (string | number)[]): Promise<number>;
  jobwaitDlvClaim(due: string, record: string, now: number, until: number, token: string, limit: number, keyPrefix: string, leaseMs: number): Promise<string[][]>;
  jobwaitDlvComplete(delivery: string, due: string, ...args: (string | number)[]): Promise<number>;
  jobwaitDlvList(index: string, keyPrefix: string): Promise<string[][]>;
  jobwaitDlvSetting(settings: string, key: string, value: string): Promise<string>;
}

/** Options of {@link RedisDeliveryStore}. */
export interface RedisDeliveryStoreOptions {
  /** The connection to use (the job store's); not closed by {@link RedisDeliveryStore.close}. */
  redis: Redis;
  /** Prefix of every key, as the job store's. */
  prefix: string;
}

/** {@link DeliveryStore} in Redis, shared by a cluster. */
export class RedisDeliveryStore implements DeliveryStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly commands: DeliveryCommands;

  constructor(options: RedisDeliveryStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix;
    this.redis.defineCommand('jobwaitDlvEnqueue', { numberOfKeys: 3, lua: ENQUEUE_SCRIPT });
    this.redis.defineCommand('jobwaitDlvClaim', { numberOfKeys: 2, lua: CLAIM_SCRIPT });
    this.redis.defineCommand('jobwaitDlvComplete', { numberOfKeys: 2, lua: COMPLETE_SCRIPT });
    this.redis.defineCommand('jobwaitDlvList', { numberOfKeys: 1, lua: LIST_SCRIPT });
    this.redis.defineCommand('jobwaitDlvSetting', { numberOfKeys: 1, lua: SETTING_SCRIPT });
    this.commands = this.redis as unknown as DeliveryCommands;
  }

  async enqueue(delivery: NewDelivery): Promise<boolean> {
    const nextAttemptAt = delivery.status === 'pending' ? (delivery.nextAttemptAt ?? delivery.createdAt) : undefined;
    const fields: (string | number)[] = [
      'id', delivery.id,
      'tenant', delivery.tenant,
      'jobId', delivery.jobId,
      'kind', delivery.kind,
      'event', delivery.event,
      'target', delivery.target,
      'source', delivery.source,
      'payload', delivery.payload,
      'status', delivery.status,
      'attempts', '[]',
      'createdAt', delivery.createdAt,
      'updatedAt', delivery.createdAt,
    ];
    if (nextAttemptAt !== undefined) fields.push('nextAttemptAt', nextAttemptAt);
    if (delivery.note !== undefined) fields.push('note', delivery.note);
    const inserted = await this.commands.jobwaitDlvEnqueue(
      this.deliveryKey(delivery.id),
      this.dueKey,
      this.jobIndexKey(delivery.tenant, delivery.jobId),
      delivery.id,
      delivery.createdAt,
      nextAttemptAt ?? '',
      ...fields,
    );
    return inserted === 1;
  }

  async claimDue(now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    const token = randomUUID();
    const rows = await this.commands.jobwaitDlvClaim(this.dueKey, `${this.prefix}dlv-claim:${token}`, now, now + leaseMs, token, limit, this.deliveryKey(''), leaseMs);
    return rows.map((flat) => ({ ...fromHash(flat), claimToken: token }));
  }

  async complete(id: string, claimToken: string, update: DeliveryUpdate, now: number): Promise<boolean> {
    const done = await this.commands.jobwaitDlvComplete(
      this.deliveryKey(id),
      this.dueKey,
      id,
      claimToken,
      update.status,
      update.attempt ? JSON.stringify(update.attempt) : '',
      update.status === 'pending' ? (update.nextAttemptAt ?? now) : '',
      update.note !== undefined ? '1' : '0',
      update.note ?? '',
      now,
    );
    return done === 1;
  }

  async nextDueAt(): Promise<number | undefined> {
    const first = await this.redis.zrange(this.dueKey, 0, 0, 'WITHSCORES');
    return first.length >= 2 ? Number(first[1]) : undefined;
  }

  async listForJob(tenant: string, jobId: string): Promise<Delivery[]> {
    const rows = await this.commands.jobwaitDlvList(this.jobIndexKey(tenant, jobId), this.deliveryKey(''));
    return rows.map(fromHash).filter((d) => d.tenant === tenant && d.jobId === jobId);
  }

  async disableEndpoint(tenant: string, url: string, at: number, reason: string): Promise<void> {
    await this.redis.hsetnx(`${this.prefix}dlv-disabled`, `${tenant}\n${url}`, JSON.stringify({ at, reason }));
  }

  async isEndpointDisabled(tenant: string, url: string): Promise<boolean> {
    return (await this.redis.hexists(`${this.prefix}dlv-disabled`, `${tenant}\n${url}`)) === 1;
  }

  async ensureSetting(key: string, value: string): Promise<string> {
    return this.commands.jobwaitDlvSetting(`${this.prefix}dlv-settings`, key, value);
  }

  /** The connection belongs to the job store, which closes it. */
  async close(): Promise<void> {}

  private deliveryKey(id: string): string {
    return `${this.prefix}dlv:${id}`;
  }

  private get dueKey(): string {
    return `${this.prefix}deliveries:due`;
  }

  private jobIndexKey(tenant: string, jobId: string): string {
    return `${this.prefix}dlvjob:${encodeURIComponent(tenant)}:${encodeURIComponent(jobId)}`;
  }
}

function fromHash(flat: string[]): Delivery {
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  const delivery: Delivery = {
    id: h.id!,
    tenant: h.tenant!,
    jobId: h.jobId!,
    kind: h.kind as DeliveryKind,
    event: h.event as JobEvent,
    target: h.target!,
    source: h.source as EndpointSource,
    payload: h.payload!,
    status: h.status as DeliveryStatus,
    attempts: JSON.parse(h.attempts ?? '[]') as DeliveryAttempt[],
    createdAt: Number(h.createdAt),
    updatedAt: Number(h.updatedAt),
  };
  if (h.nextAttemptAt !== undefined) delivery.nextAttemptAt = Number(h.nextAttemptAt);
  if (h.note !== undefined) delivery.note = h.note;
  return delivery;
}
