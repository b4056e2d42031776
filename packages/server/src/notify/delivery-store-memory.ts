/** Deliveries in process memory (with `--store memory`): same behaviour as SQLite, nothing kept on exit. */
import { randomUUID } from 'node:crypto';
import type { ClaimedDelivery, Delivery, DeliveryUpdate } from './delivery.js';
import type { DeliveryStore, NewDelivery } from './delivery-store.js';

/** {@link DeliveryStore} in memory. */
export class MemoryDeliveryStore implements DeliveryStore {
  private readonly deliveries = new Map<string, Delivery & { claimToken?: string | undefined }>();
  private readonly disabled = new Set<string>();
  private readonly settings = new Map<string, string>();

  async enqueue(delivery: NewDelivery): Promise<boolean> {
    if (this.deliveries.has(delivery.id)) return false;
    const nextAttemptAt = delivery.status === 'pending' ? (delivery.nextAttemptAt ?? delivery.createdAt) : undefined;
    this.deliveries.set(delivery.id, { ...delivery, nextAttemptAt, attempts: [], updatedAt: delivery.createdAt });
    return true;
  }

  async claimDue(now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    const due = [...this.deliveries.values()]
      .filter((d) => d.status === 'pending' && d.nextAttemptAt !== undefined && d.nextAttemptAt <= now)
      .sort((a, b) => a.nextAttemptAt! - b.nextAttemptAt!)
      .slice(0, limit);
    const claimToken = randomUUID();
    return due.map((d) => {
      d.nextAttemptAt = now + leaseMs;
      d.claimToken = claimToken;
      return { ...copy(d), claimToken };
    });
  }

  async complete(id: string, claimToken: string, update: DeliveryUpdate, now: number): Promise<boolean> {
    const d = this.deliveries.get(id);
    if (!d || d.claimToken !== claimToken) return false;
    d.status = update.status;
    if (update.attempt) d.attempts.push({ ...update.attempt });
    d.nextAttemptAt = update.status === 'pending' ? (update.nextAttemptAt ?? now) : undefined;
    if (update.note !== undefined) d.note = update.note;
    d.claimToken = undefined;
    d.updatedAt = now;
    return true;
  }

  async nextDueAt(): Promise<number | undefined> {
    let next: number | undefined;
    for (const d of this.deliveries.values()) {
      if (d.status === 'pending' && d.nextAttemptAt !== undefined && (next === undefined || d.nextAttemptAt < next)) next = d.nextAttemptAt;
    }
    return next;
  }

  async listForJob(tenant: string, jobId: string): Promise<Delivery[]> {
    return [...this.deliveries.values()]
      .filter((d) => d.tenant === tenant && d.jobId === jobId)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
      .map(copy);
  }

  async disableEndpoint(tenant: string, url: string): Promise<void> {
    this.disabled.add(`${tenant}\n${url}`);
  }

  async isEndpointDisabled(tenant: string, url: string): Promise<boolean> {
    return this.disabled.has(`${tenant}\n${url}`);
  }

  async ensureSetting(key: string, value: string): Promise<string> {
    const prior = this.settings.get(key);
    if (prior !== undefined) return prior;
    this.settings.set(key, value);
    return value;
  }

  async close(): Promise<void> {}
}

function copy(d: Delivery & { claimToken?: string | undefined }): Delivery {
  const { claimToken: _lease, ...rest } = d;
  return { ...rest, attempts: d.attempts.map((a) => ({ ...a })) };
}
