/**
 * The change feed: every change of a job's state is published once and fans
 * out to the waiters of that job and of its tenant. Long-polls, event streams
 * and notifiers all hang off it. Async from the first day so a Redis feed
 * slots in; waiters subscribe first and read the state second, so no change
 * between the two goes unseen.
 */
import type { JobRecord } from '../jobs/job-record.js';

/** One change: the job as it is after it. */
export interface JobChange {
  tenant: string;
  job: JobRecord;
}

/** Receives changes. Must not throw; errors are the subscriber's to handle. */
export type ChangeListener = (change: JobChange) => void;

/** Ends a subscription. */
export type Unsubscribe = () => void;

/** Where changes are published and followed. */
export interface ChangeFeed {
  /** Tells every subscriber of the job and of its tenant. */
  publish(change: JobChange): Promise<void>;
  /** Follows one job. */
  subscribeJob(jobId: string, listener: ChangeListener): Promise<Unsubscribe>;
  /** Follows every job of a tenant. */
  subscribeTenant(tenant: string, listener: ChangeListener): Promise<Unsubscribe>;
  /** Subscriptions currently held (for metrics and tests). */
  size(): number;
  /**
   * Rejects while the feed cannot deliver other instances' changes (e.g. its Redis subscription is
   * down), for `/readyz`. Absent on feeds that are always up (the in-process one).
   */
  ping?(): Promise<void>;
  close(): Promise<void>;
}
