/**
 * An engine: everything jobwait stores, behind one connection with one set
 * of settings, opened by one call (engines/open-engine.ts) and closed by one.
 * Nothing outside engines/ names a concrete engine class: the server, the
 * CLI and the tests take what they need from an {@link Engine}.
 */
import type { KeyStore } from '../auth/key-store.js';
import type { ChangeFeed, Unsubscribe } from '../feed/change-feed.js';
import type { PruneCounts } from '../jobs/retention-sweeper.js';
import type { StorageSize } from '../metrics/metrics.js';
import type { DeliveryStore } from '../notify/delivery-store.js';
import type { RateLimiter } from '../ratelimit/rate-limiter.js';
import type { DurationModelStore } from '../store/duration-model-store.js';
import type { JobStore } from '../store/job-store.js';

/** Which engine keeps the data. `memory` is SQLite's `:memory:` database: the same code, nothing kept on exit. */
export type EngineKind = 'sqlite' | 'memory' | 'redis';

/** Everything stored, from one engine. */
export interface Engine {
  readonly kind: EngineKind;
  readonly jobs: JobStore;
  readonly keys: KeyStore;
  readonly deliveries: DeliveryStore;
  readonly limiter: RateLimiter;
  readonly feed: ChangeFeed;
  /** How long each tenant's kinds of work take (predicted waits). */
  readonly models: DurationModelStore;
  /** False when nothing outlives the process (`memory`): pending deliveries are then lost on exit. */
  readonly persistent: boolean;
  /** Where the data lives, for the start-up log (passwords masked). */
  readonly details: Readonly<Record<string, unknown>>;
  /**
   * Calls `listener` with the due times of jobs that other processes created (a cluster's other
   * instances), so this one's scheduler can settle them too. Absent where no other process creates jobs.
   */
  dueTimes?(listener: (dueAt: number) => void): Unsubscribe;
  /**
   * Deletes up to `limit` finished jobs whose retention ended by `now`, with their finished
   * deliveries and Idempotency-Keys: one short transaction or script, which
   * jobs/retention-sweeper.ts repeats in the background. Never a pending job, never a tenant's
   * current seed timer.
   */
  prune(now: number, limit: number): Promise<PruneCounts>;
  /** Gives up to `pages` pages that pruning freed back to the file system (a file engine); answers how many went. */
  reclaim?(pages: number): Promise<number>;
  /** Sizes of the engine's files, for `/metrics` (a file engine). */
  size?(): StorageSize;
  /** Calls `listener` each time the engine's connection fails (for `jobwait_store_errors_total`). */
  onConnectionError(listener: () => void): void;
  /** Closes everything the engine opened. */
  close(): Promise<void>;
}
