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

/** API key storage. */
export interface KeyStore {
  /** Adds a key; an existing id is left as it is (bootstrap keys are idempotent). */
  add(record: ApiKeyRecord): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked; false when there is no such key. */
  revoke(id: string, now: number): Promise<boolean>;
  /** True when at least one key is not revoked (the server then requires keys). */
  hasActiveKeys(): Promise<boolean>;
}
