/** Options of `buildServer()`, their defaults in one place, and their validation. */
import type { FastifyBaseLogger } from 'fastify';
import type { ChangeFeed } from '../feed/change-feed.js';
import type { JobStore } from '../store/job-store.js';
import type { KeyStore, RateLimitPolicy } from '../auth/key-store.js';
import type { RateLimiter } from '../ratelimit/rate-limiter.js';

/** Which store keeps the jobs. */
export type StoreKind = 'sqlite' | 'memory';

/** Options of `buildServer()`. */
export interface ServerOptions {
  /**
   * `sqlite` keeps jobs in `<dataDir>/jobwait.db` across restarts; `memory` forgets them on exit.
   * @default 'sqlite'
   */
  store?: StoreKind | JobStore;
  /**
   * Folder of the SQLite file.
   * @default './data'
   */
  dataDir?: string;
  /**
   * Largest accepted duration, in seconds.
   * @default 86400
   */
  maxDurationSeconds?: number;
  /**
   * Fraction of jobs without an explicit `outcome` that end in `error`.
   * @default 0
   */
  errorRate?: number;
  /** Seed of the error-rate draws, for repeatable runs. */
  seed?: number;
  /**
   * Longest long-poll hold, in seconds (`Prefer: wait=N` is capped to it).
   * @default 60
   */
  maxWaitSeconds?: number;
  /**
   * Interval of SSE heartbeats, in milliseconds.
   * @default 15000
   */
  heartbeatMs?: number;
  /**
   * Largest request body, in bytes.
   * @default 65536
   */
  bodyLimit?: number;
  /**
   * `true` for pino logs at info; `false` for none; or a pino logger / options.
   * @default true
   */
  logger?: boolean | FastifyBaseLogger | { level?: string };
  /**
   * API keys to accept from the start (`jw_<id>_<secret>`, e.g. from JOBWAIT_API_KEYS); added to the key store.
   * With no key at all the server runs open as one tenant.
   * @default []
   */
  apiKeys?: string[];
  /**
   * Default rate limit per key (per IP when open); `false` for none. Keys may carry their own.
   * @default {perSecond: 100, burst: 200}
   */
  rateLimit?: RateLimitPolicy | false;
  /** Key store to use instead of the one that goes with `store`. */
  keyStore?: KeyStore;
  /** Rate limiter to use instead of the in-process one. */
  rateLimiter?: RateLimiter;
  /** Feed to use instead of the in-process one. */
  feed?: ChangeFeed;
  /** Clock, for tests. */
  now?: () => number;
}

/** Defaults of {@link ServerOptions}. */
export const SERVER_DEFAULTS = Object.freeze({
  store: 'sqlite' as StoreKind,
  dataDir: './data',
  maxDurationSeconds: 86_400,
  errorRate: 0,
  maxWaitSeconds: 60,
  heartbeatMs: 15_000,
  bodyLimit: 65_536,
  apiKeys: Object.freeze([]) as readonly string[] as string[],
  rateLimit: Object.freeze({ perSecond: 100, burst: 200 }) as RateLimitPolicy | false,
});

/** {@link ServerOptions} with defaults filled in. */
export type NormalizedServerOptions = Omit<Required<ServerOptions>, 'seed' | 'feed' | 'logger' | 'keyStore' | 'rateLimiter'> &
  Pick<ServerOptions, 'seed' | 'feed' | 'logger' | 'keyStore' | 'rateLimiter'>;

/** Thrown at start for an option out of range; names the option. */
export class ConfigError extends Error {
  readonly code = 'JOBWAIT_ERR_CONFIG';

  constructor(option: string, message: string) {
    super(`invalid ${option}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Fills defaults and rejects bad values with a message naming the option. */
export function normalizeServerOptions(options: ServerOptions = {}): NormalizedServerOptions {
  const merged = {
    ...SERVER_DEFAULTS,
    now: Date.now,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as NormalizedServerOptions;
  if (typeof merged.store === 'string' && merged.store !== 'sqlite' && merged.store !== 'memory') {
    throw new ConfigError('store', `must be sqlite or memory, got ${JSON.stringify(merged.store)}`);
  }
  if (typeof merged.dataDir !== 'string' || merged.dataDir === '') throw new ConfigError('data-dir', 'must be a folder path');
  positive('max-duration', merged.maxDurationSeconds);
  if (typeof merged.errorRate !== 'number' || !(merged.errorRate >= 0 && merged.errorRate <= 1)) {
    throw new ConfigError('error-rate', `must be a number from 0 to 1, got ${String(merged.errorRate)}`);
  }
  if (merged.seed !== undefined && !Number.isInteger(merged.seed)) throw new ConfigError('seed', 'must be an integer');
  if (!Number.isInteger(merged.maxWaitSeconds) || merged.maxWaitSeconds < 1 || merged.maxWaitSeconds > 3600) {
    throw new ConfigError('max-wait', 'must be a whole number of seconds from 1 to 3600');
  }
  positive('heartbeat-ms', merged.heartbeatMs);
  if (!Array.isArray(merged.apiKeys) || !merged.apiKeys.every((k) => typeof k === 'string')) throw new ConfigError('api-keys', 'must be a list of keys');
  if (merged.rateLimit !== false) {
    positive('rate-limit', merged.rateLimit.perSecond);
    positive('rate-burst', merged.rateLimit.burst);
    if (merged.rateLimit.burst < 1) throw new ConfigError('rate-burst', 'must be at least 1');
  }
  positive('body-limit', merged.bodyLimit);
  return merged;
}

function positive(option: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ConfigError(option, `must be a number > 0, got ${String(value)}`);
}
