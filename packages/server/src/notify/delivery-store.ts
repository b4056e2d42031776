/**
 * Where deliveries live. Async like the job store, so the SQLite and
 * Redis implementations are interchangeable. The one hard requirement is
 * {@link DeliveryStore.claimDue}: it must be atomic across every instance
 * sharing the store, so each attempt is made by one sender only.
 */
import type { ClaimedDelivery, Delivery, DeliveryUpdate } from './delivery.js';

/** A delivery to insert. */
export type NewDelivery = Omit<Delivery, 'attempts' | 'updatedAt'>;

/** Where deliveries, disabled endpoints and notification settings live. */
export interface DeliveryStore {
  /** Inserts `delivery` unless one with its id exists (a repeated event stays one delivery); true when inserted. */
  enqueue(delivery: NewDelivery): Promise<boolean>;
  /**
   * Atomically takes up to `limit` pending deliveries due at `now` (oldest due first) and leases
   * them until `now + leaseMs` under a fresh claim token: until then no other caller gets them, and
   * if the holder dies they come due again when the lease ends.
   */
  claimDue(now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]>;
  /**
   * Records what became of a claimed delivery and ends the lease; false (and nothing changed) when
   * the claim token no longer holds (the lease ran out and someone else took it).
   */
  complete(id: string, claimToken: string, update: DeliveryUpdate, now: number): Promise<boolean>;
  /** Earliest `nextAttemptAt` of a pending delivery (leased ones included). */
  nextDueAt(): Promise<number | undefined>;
  /** The tenant's deliveries for one job, oldest first. */
  listForJob(tenant: string, jobId: string): Promise<Delivery[]>;
  /** Stops deliveries to `url` for `tenant` (after 410 Gone). */
  disableEndpoint(tenant: string, url: string, at: number, reason: string): Promise<void>;
  /** True once {@link disableEndpoint} was called for this tenant and URL. */
  isEndpointDisabled(tenant: string, url: string): Promise<boolean>;
  /** Stores `value` under `key` unless a value is there already; returns the stored value (shared by every instance). */
  ensureSetting(key: string, value: string): Promise<string>;
}
