/** Where API keys live: one interface, a store per engine (SQLite, Redis). */
import type { RateLimitPolicy } from '../ratelimit/rate-limiter.js';

/** A stored key (never the secret itself). */
export interface ApiKeyRecord {
  /** Public id; also the tenant every job of this key belongs to. */
  id: string;
  name: string;
  /** SHA-256 of the secret. */
  hash: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  revokedAt?: number | undefined;
  /** Overrides the server's default limit. */
  rateLimit?: RateLimitPolicy | undefined;
  /** Default webhook target of this key's jobs. */
  webhookUrl?: string | undefined;
}

/**
 * Whether the server asks for keys. Data that never held a key runs open; the first key created
 * turns keys on for good: revoking keys never turns them off, only {@link KeyStore.openAccess} does.
 */
export interface AccessMode {
  keysRequired: boolean;
  /** When the mode last changed (ms since the epoch); undefined for data that never held a key, or an older file found holding keys. */
  since?: number | undefined;
  /** Why it is so, for the server's log: e.g. `API key abc… created`, `jobwait keys open-access`. */
  reason: string;
}

/** API key storage, and the access mode that goes with it. */
export interface KeyStore {
  /**
   * Adds a key; an existing id is left as it is (bootstrap keys are idempotent). A key actually
   * added turns keys on ({@link AccessMode}) in the same transaction or script.
   */
  add(record: ApiKeyRecord): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked; false when there is no such key. */
  revoke(id: string, now: number): Promise<boolean>;
  /** The access mode, with since when and why. A store that cannot tell rejects: callers refuse requests then, never run open. */
  accessMode(): Promise<AccessMode>;
  /** True once a key has been created, until an operator runs {@link openAccess}. */
  requiresKeys(): Promise<boolean>;
  /**
   * Turns keys off: the server runs open again, as one tenant. Refused (false, nothing changed)
   * while any key is still active, so that no key holder is silently ignored; checked and set atomically.
   */
  openAccess(now: number): Promise<boolean>;
}
