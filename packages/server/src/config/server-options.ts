/** Options of `buildServer()`, their defaults in one place, and their validation. */
import { isIP } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { Engine, EngineKind } from '../engines/engine.js';
import type { RateLimitPolicy } from '../ratelimit/rate-limiter.js';
import { DEFAULT_RETRY_SCHEDULE_MS, normalizeRetrySchedule } from '../notify/retry-schedule.js';
import type { DefaultEndpointLookup } from '../notify/webhook-secrets.js';
import { isWebhookSecret } from '../notify/webhook-signature.js';
import { parseAllowEntry } from '../notify/webhook-target.js';

/** Which engine keeps the jobs. */
export type StoreKind = EngineKind;

/** Options of `buildServer()`. */
export interface ServerOptions {
  /**
   * `sqlite` keeps jobs in `<dataDir>/jobwait.db` across restarts; `memory` (SQLite's `:memory:`) forgets them on exit;
   * `redis` shares jobs and the change feed with every instance on the same Redis and prefix (cluster mode).
   * @default 'sqlite'
   */
  store?: StoreKind;
  /**
   * An engine the caller opened (`openEngine()`, e.g. a test's with a part swapped), used instead of
   * opening the one `store` names. The server closes it when it closes.
   */
  engine?: Engine;
  /**
   * Redis of `store: 'redis'` (`redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS).
   * @default 'redis://127.0.0.1:6379'
   */
  redisUrl?: string;
  /**
   * Prefix of every Redis key and channel of `store: 'redis'`: deployments (and tests) sharing one Redis use distinct ones.
   * @default 'jobwait:'
   */
  redisPrefix?: string;
  /**
   * How long a finished job is kept, in seconds (applied by the Redis store).
   * @default 604800 (7 days)
   */
  retentionSeconds?: number;
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
   * Addresses or CIDR networks of the reverse proxies in front (e.g. `['127.0.0.1', '10.0.0.0/8']`, or
   * comma-separated) whose `X-Forwarded-For` gives the client's IP: per-IP rate limits (when open)
   * and logs then see the client, not the proxy. Empty: the peer address is the client.
   * @default []
   */
  trustProxy?: readonly string[] | string;
  /**
   * Answer plain `GET /v1/jobs/{id}` and `GET /status` reads ahead of Fastify's request pipeline
   * (`http/hot-reads.ts`: same answers, a fraction of the CPU). Off while `trustProxy` is set.
   * Hooks added to the instance `buildServer()` returns do not see these reads: `false` sends every
   * request through Fastify (for such hooks, to compare, or to rule the fast path out).
   * @default true
   */
  hotReads?: boolean;
  /**
   * `true` for pino logs at info; `false` for none; a pino logger (used as it is); or the level and
   * where lines go (`stream`, stdout by default). Except for a logger of your own, credentials are
   * redacted and email addresses masked (see `logging/log-options.ts`).
   * @default true
   */
  logger?: boolean | FastifyBaseLogger | { level?: string; stream?: { write(line: string): unknown } };
  /**
   * Bearer token `GET /metrics` requires (`Authorization: Bearer <token>`); unset, `/metrics` is open
   * (keep it off the public listener then). API keys do not open it.
   */
  metricsToken?: string | undefined;
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
  /**
   * One secret that signs every key's webhooks (Standard Webhooks: `whsec_` + base64 of 24 to 64 bytes).
   * Without it each key (or the open server's one tenant) gets its own, generated on first use and kept
   * with the deliveries, so it survives restarts; a key reads its own at `GET /v1/webhooks/secret`.
   */
  webhookSecret?: string;
  /**
   * Hostnames, IP addresses and CIDR networks that webhooks may call although they are loopback,
   * private, link-local or otherwise special (e.g. `['127.0.0.1']`); a comma-separated string is accepted.
   * @default []
   */
  webhookAllowHosts?: readonly string[] | string;
  /**
   * Upper bounds of the waits between webhook attempts, in ms; the n-th retry waits a random time up to
   * the n-th step (full jitter); the first attempt is immediate. Its length is the number of retries.
   * @default [5000, 30000, 120000, 600000, 1800000, 3600000, 7200000, 14400000, 28800000, 28800000] (~23.7 h)
   */
  webhookRetryScheduleMs?: readonly number[];
  /**
   * Same for emails.
   * @default webhookRetryScheduleMs
   */
  emailRetryScheduleMs?: readonly number[];
  /**
   * Longest webhook attempt (connect to response headers), in ms.
   * @default 10000
   */
  webhookTimeoutMs?: number;
  /** SMTP server for `notifyEmail` (`smtp://[user:pass@]host[:port]`, `smtps://` for TLS); without it no email is sent. */
  smtpUrl?: string;
  /**
   * `From:` of notification emails.
   * @default 'jobwait <jobwait@localhost>'
   */
  emailFrom?: string;
  /** The tenant's default webhook endpoint and its secret, for jobs without a `callbackUrl`. */
  webhookDefaultEndpoint?: DefaultEndpointLookup;
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
  trustProxy: Object.freeze([]) as readonly string[],
  hotReads: true,
  redisUrl: 'redis://127.0.0.1:6379',
  redisPrefix: 'jobwait:',
  retentionSeconds: 604_800,
  apiKeys: Object.freeze([]) as readonly string[] as string[],
  rateLimit: Object.freeze({ perSecond: 100, burst: 200 }) as RateLimitPolicy | false,
  webhookAllowHosts: Object.freeze([]) as readonly string[],
  webhookRetryScheduleMs: DEFAULT_RETRY_SCHEDULE_MS,
  webhookTimeoutMs: 10_000,
  emailFrom: 'jobwait <jobwait@localhost>',
});

/** {@link ServerOptions} with defaults filled in. */
export type NormalizedServerOptions = Omit<Required<ServerOptions>, 'seed' | 'engine' | 'logger' | 'metricsToken' | 'webhookSecret' | 'smtpUrl' | 'webhookDefaultEndpoint' | 'webhookAllowHosts' | 'trustProxy'> &
  Pick<ServerOptions, 'seed' | 'engine' | 'logger' | 'metricsToken' | 'webhookSecret' | 'smtpUrl' | 'webhookDefaultEndpoint'> & { webhookAllowHosts: readonly string[]; trustProxy: readonly string[] };

/** Thrown at start for an option out of range; names the option. */
export class ConfigError extends Error {
  readonly code = 'JOBWAIT_ERR_CONFIG';

  constructor(
    /** The option, as named in the message (`max-wait`, `--port`, `JOBWAIT_MAX_WAIT`). */
    readonly option: string,
    /** What is wrong with it. */
    readonly detail: string,
  ) {
    super(`invalid ${option}: ${detail}`);
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
  if (merged.store !== 'sqlite' && merged.store !== 'memory' && merged.store !== 'redis') {
    throw new ConfigError('store', `must be sqlite, memory or redis, got ${JSON.stringify(merged.store)}`);
  }
  validateRedisOptions(merged);
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
  merged.trustProxy = normalizeTrustProxy(merged.trustProxy);
  if (typeof merged.hotReads !== 'boolean') throw new ConfigError('hot-reads', 'must be true or false');
  validateNotifyOptions(merged);
  if (merged.metricsToken !== undefined && (typeof merged.metricsToken !== 'string' || !/^[\x21-\x7e]+$/.test(merged.metricsToken))) {
    throw new ConfigError('metrics-token', 'must be printable characters without spaces');
  }
  return merged;
}

function validateRedisOptions(merged: NormalizedServerOptions): void {
  let url: URL | undefined;
  try {
    url = typeof merged.redisUrl === 'string' ? new URL(merged.redisUrl) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    throw new ConfigError('redis-url', `must be a redis:// or rediss:// URL with a host, got ${JSON.stringify(String(merged.redisUrl))}`);
  }
  if (typeof merged.redisPrefix !== 'string' || !/^[\x21-\x7e]{1,100}$/.test(merged.redisPrefix)) {
    throw new ConfigError('redis-prefix', 'must be 1 to 100 printable characters without spaces');
  }
  if (!Number.isInteger(merged.retentionSeconds) || merged.retentionSeconds < 1 || merged.retentionSeconds > 10 * 365 * 86_400) {
    throw new ConfigError('retention', `must be a whole number of seconds from 1 to 315360000, got ${String(merged.retentionSeconds)}`);
  }
}

/** Webhook and email options; turns a comma-separated allowlist into a list. */
function validateNotifyOptions(merged: NormalizedServerOptions): void {
  if (merged.webhookSecret !== undefined && !isWebhookSecret(merged.webhookSecret)) {
    throw new ConfigError('webhook-secret', 'must be whsec_ followed by standard base64 of 24 to 64 bytes (e.g. whsec_ + `openssl rand -base64 32`)');
  }
  const hosts: unknown = merged.webhookAllowHosts;
  const list = typeof hosts === 'string' ? hosts.split(',').map((h) => h.trim()).filter((h) => h !== '') : hosts;
  if (!Array.isArray(list) || !list.every((h) => typeof h === 'string')) throw new ConfigError('webhook-allow-hosts', 'must be a list of hostnames, IP addresses or CIDR networks');
  for (const entry of list) {
    try {
      parseAllowEntry(entry);
    } catch (error) {
      throw new ConfigError('webhook-allow-hosts', (error as Error).message);
    }
  }
  merged.webhookAllowHosts = Object.freeze([...list]);
  for (const [option, key] of [['webhook-retry-schedule-ms', 'webhookRetryScheduleMs'], ['email-retry-schedule-ms', 'emailRetryScheduleMs']] as const) {
    const schedule = merged[key] ?? merged.webhookRetryScheduleMs;
    try {
      merged[key] = normalizeRetrySchedule(schedule);
    } catch (error) {
      throw new ConfigError(option, (error as Error).message);
    }
  }
  positive('webhook-timeout-ms', merged.webhookTimeoutMs);
  if (merged.smtpUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(merged.smtpUrl);
    } catch {
      url = undefined;
    }
    // The URL may hold a password: never echo it.
    if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '') throw new ConfigError('smtp-url', 'must be an smtp:// or smtps:// URL with a host');
  }
  if (typeof merged.emailFrom !== 'string' || merged.emailFrom.trim() === '' || /[\r\n]/.test(merged.emailFrom)) {
    throw new ConfigError('email-from', 'must be one address, e.g. "jobwait <jobwait@example.com>"');
  }
}

/** Proxy addresses as a list; refuses what is not an IP address, a CIDR network or a proxy-addr name. */
function normalizeTrustProxy(value: unknown): readonly string[] {
  const list = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? (value as unknown[]) : undefined;
  if (!list) throw new ConfigError('trust-proxy', 'must be a list of IP addresses or CIDR networks');
  const entries = list.map((entry) => (typeof entry === 'string' ? entry.trim() : '')).filter((entry) => entry !== '');
  for (const entry of entries) {
    const [address = '', bits, extra] = entry.split('/');
    const maxBits = isIP(address) === 4 ? 32 : 128;
    const named = ['loopback', 'linklocal', 'uniquelocal'].includes(entry);
    if (!named && (isIP(address) === 0 || extra !== undefined || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits)))) {
      throw new ConfigError('trust-proxy', `${JSON.stringify(entry)} is not an IP address or CIDR network (e.g. 127.0.0.1,10.0.0.0/8)`);
    }
  }
  return Object.freeze(entries);
}

function positive(option: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ConfigError(option, `must be a number > 0, got ${String(value)}`);
}
