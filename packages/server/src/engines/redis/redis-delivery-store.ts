/**
 * Deliveries in Redis, on the engine's connection and key prefix, so every
 * instance of a cluster shares them and they outlive restarts (as far as the
 * Redis server keeps its data: RDB/AOF). Enqueue, claim and complete are each
 * one Lua script, so a claim is atomic across instances: each due delivery
 * goes to one claimer only, and a completion counts only under the claim token
 * it was leased with. A claim's ids are kept under its token while its lease
 * lasts, so a claim run again with its token (ioredis resends a command whose
 * reply was lost when the connection dropped) returns them instead of leasing
 * more and stranding the first ones.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ClaimedDelivery, Delivery, DeliveryAttempt, DeliveryKind, DeliveryStatus, DeliveryUpdate, EndpointSource, JobEvent } from '../../notify/delivery.js';
import type { DeliveryStore, NewDelivery } from '../../notify/delivery-store.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisScripts } from './redis-scripts.js';

/** {@link DeliveryStore} in Redis, shared by a cluster. */
export class RedisDeliveryStore implements DeliveryStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly scripts: RedisScripts,
  ) {}

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
    const k = this.keys;
    const inserted = await this.scripts.run<number>(
      'enqueue-delivery',
      [k.delivery(delivery.id), k.deliveriesDue, k.jobDeliveries(delivery.tenant, delivery.jobId)],
      [delivery.id, delivery.createdAt, nextAttemptAt ?? '', ...fields],
    );
    return inserted === 1;
  }

  async claimDue(now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    const token = randomUUID();
    const rows = await this.scripts.run<string[][]>('claim-deliveries', [this.keys.deliveriesDue, this.keys.claim(token)], [now, now + leaseMs, token, limit, this.keys.delivery(''), leaseMs]);
    return rows.map((flat) => ({ ...fromHash(flat), claimToken: token }));
  }

  async complete(id: string, claimToken: string, update: DeliveryUpdate, now: number): Promise<boolean> {
    const done = await this.scripts.run<number>('complete-delivery', [this.keys.delivery(id), this.keys.deliveriesDue], [
      id,
      claimToken,
      update.status,
      update.attempt ? JSON.stringify(update.attempt) : '',
      update.status === 'pending' ? (update.nextAttemptAt ?? now) : '',
      update.note !== undefined ? '1' : '0',
      update.note ?? '',
      now,
    ]);
    return done === 1;
  }

  async nextDueAt(): Promise<number | undefined> {
    const first = await this.redis.zrange(this.keys.deliveriesDue, 0, 0, 'WITHSCORES');
    return first.length >= 2 ? Number(first[1]) : undefined;
  }

  async listForJob(tenant: string, jobId: string): Promise<Delivery[]> {
    const rows = await this.scripts.run<string[][]>('list-deliveries', [this.keys.jobDeliveries(tenant, jobId)], [this.keys.delivery('')]);
    return rows.map(fromHash).filter((d) => d.tenant === tenant && d.jobId === jobId);
  }

  async disableEndpoint(tenant: string, url: string, at: number, reason: string): Promise<void> {
    await this.redis.hsetnx(this.keys.disabledEndpoints, `${tenant}\n${url}`, JSON.stringify({ at, reason }));
  }

  async isEndpointDisabled(tenant: string, url: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.disabledEndpoints, `${tenant}\n${url}`)) === 1;
  }

  async ensureSetting(key: string, value: string): Promise<string> {
    return this.scripts.run<string>('ensure-setting', [this.keys.notifySettings], [key, value]);
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
