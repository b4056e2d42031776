/**
 * Every option of the server, declared once: the flags, variables, config-file keys, `--help`,
 * `--print-config`, the type of `buildServer()`'s options and their defaults all come from
 * {@link SERVER_SCHEMA}. Defaults that depend on another option are filled by
 * {@link resolveServerOptions}, the one place that does so.
 */
import { isIP } from 'node:net';
import { LOG_FORMATS } from '../logging/log-format.js';
import { DEFAULT_RETRY_SCHEDULE_MS, normalizeRetrySchedule } from '../notify/retry-schedule.js';
import { isWebhookSecret } from '../notify/webhook-signature.js';
import { parseAllowEntry } from '../notify/webhook-target.js';
import { ConfigError } from './config-error.js';
import { hostname } from 'node:os';
import { INGEST_SOURCES_RANGE, normalizeIngestSources, type IngestSourceConfig } from '../ingest/source-config.js';
import { DURATION_MODEL_DEFAULTS } from '../predict/duration-model.js';
import { choice, integer, json, list, number, numberList, resolveOptions, text, toggle, type OptionsOf, type ResolvedOf } from './option-schema.js';

/** Log levels of `--log-level`; `silent` writes nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Nothing when `value` is a URL of one of `protocols` with a host. */
function urlProblem(value: string, protocols: readonly string[], echo: boolean): string | undefined {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url && protocols.includes(url.protocol) && url.hostname !== '') return undefined;
  // A URL may hold a password: echo it only where it cannot.
  return `must be ${protocols.map((p) => `${p}//`).join(' or ')} URL with a host${echo ? `, got ${JSON.stringify(value)}` : ''}`;
}

/** Why `entry` is not a proxy address `--trust-proxy` takes, or nothing. */
function proxyEntryProblem(entry: string): string | undefined {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return undefined;
  const [address = '', bits, extra] = entry.split('/');
  const maxBits = isIP(address) === 4 ? 32 : 128;
  if (isIP(address) !== 0 && extra === undefined && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits))) return undefined;
  return `${JSON.stringify(entry)} is not an IP address or CIDR network (e.g. 127.0.0.1,10.0.0.0/8)`;
}

/** Why `entry` is not an exact origin `--cors-origin` takes (`https://app.example.com`, no path, no `*`), or nothing. */
function originProblem(entry: string): string | undefined {
  let origin: string | undefined;
  try {
    const url = new URL(entry);
    origin = url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    origin = undefined;
  }
  // Exactly its own origin: a path, a trailing slash, a wildcard or credentials would never match a browser's Origin header.
  return origin === entry ? undefined : `${JSON.stringify(entry)} is not an exact origin such as https://app.example.com (scheme, host and port only; never *)`;
}

function allowEntryProblem(entry: string): string | undefined {
  try {
    parseAllowEntry(entry);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Every option of the server, by its name in code; see `option-schema.ts` for what each field means. */
export const SERVER_SCHEMA = Object.freeze({
  port: integer({ flag: 'port', env: 'PORT', arg: 'n', min: 0, max: 65_535, default: 8080, description: 'port to listen on (0 picks a free one)' }),
  host: text({ flag: 'host', env: 'HOST', arg: 'addr', range: 'an address', default: '127.0.0.1', description: 'address to listen on', problem: (v) => (v.trim() === '' ? 'must be an address' : undefined) }),
  store: choice({
    flag: 'store',
    env: 'JOBWAIT_STORE',
    arg: 'kind',
    choices: ['sqlite', 'memory', 'redis'],
    default: 'sqlite',
    description: 'where jobs are kept: sqlite (a file in --data-dir), memory (lost on exit) or redis (shared by every instance on the same Redis and prefix)',
  }),
  redisUrl: text({
    flag: 'redis-url',
    env: 'JOBWAIT_REDIS_URL',
    arg: 'url',
    range: 'redis://[[user]:password@]host[:port][/db] (rediss:// for TLS)',
    default: 'redis://127.0.0.1:6379',
    description: 'Redis of --store redis',
    problem: (v) => urlProblem(v, ['redis:', 'rediss:'], true),
  }),
  redisPrefix: text({
    flag: 'redis-prefix',
    env: 'JOBWAIT_REDIS_PREFIX',
    arg: 'p',
    range: '1 to 100 printable characters without spaces',
    default: 'jobwait:',
    description: 'prefix of every Redis key and channel (deployments sharing one Redis use distinct ones)',
    problem: (v) => (/^[\x21-\x7e]{1,100}$/.test(v) ? undefined : 'must be 1 to 100 printable characters without spaces'),
  }),
  retentionSeconds: integer({ flag: 'retention', env: 'JOBWAIT_RETENTION_SECONDS', arg: 's', min: 1, max: 10 * 365 * 86_400, default: 604_800, description: 'how long a finished job is kept, in seconds (7 days), on every engine; then it is deleted with its deliveries and Idempotency-Key (pending jobs and each key\'s current timer stay)' }),
  dataDir: text({ flag: 'data-dir', env: 'JOBWAIT_DATA_DIR', arg: 'path', range: 'a folder path', default: './data', description: 'folder of the SQLite file', problem: (v) => (v === '' ? 'must be a folder path' : undefined) }),
  maxDurationSeconds: number({ flag: 'max-duration', env: 'JOBWAIT_MAX_DURATION', arg: 's', above: 0, default: 86_400, description: 'largest accepted job duration, in seconds' }),
  jobTimeoutSeconds: number({
    flag: 'job-timeout',
    env: 'JOBWAIT_JOB_TIMEOUT',
    arg: 's',
    above: 0,
    default: 86_400,
    description: 'timeout of a reported job (created without duration) whose create names none: still pending that long, it fails as JOBWAIT_ERR_JOB_EXPIRED',
  }),
  predictHalfLife: integer({
    flag: 'predict-half-life',
    env: 'JOBWAIT_PREDICT_HALF_LIFE',
    arg: 'jobs',
    min: 1,
    max: 100_000,
    default: DURATION_MODEL_DEFAULTS.halfLifeSamples,
    description:
      "finished jobs of a kind after which one's weight in the kind's duration model has halved: lower follows a slow-down sooner, higher predicts steadier (the same on every instance of a cluster)",
  }),
  predictMinSamples: integer({
    flag: 'predict-min-samples',
    env: 'JOBWAIT_PREDICT_MIN_SAMPLES',
    arg: 'jobs',
    min: 1,
    max: 1_000_000,
    default: DURATION_MODEL_DEFAULTS.minSamples,
    description: 'finished jobs of a kind before its pending jobs show a predicted end (expectedEnd says cold: true until then)',
  }),
  overdueFactor: number({
    flag: 'overdue-factor',
    env: 'JOBWAIT_OVERDUE_FACTOR',
    arg: 'x',
    min: 1,
    max: 1000,
    default: DURATION_MODEL_DEFAULTS.overdueFactor,
    description: "a pending job of a known kind is overdue once its age passes its kind's p99 (scaled by its size) times this",
  }),
  overdueMinSamples: integer({
    flag: 'overdue-min-samples',
    env: 'JOBWAIT_OVERDUE_MIN_SAMPLES',
    arg: 'jobs',
    min: 1,
    max: 1_000_000,
    default: DURATION_MODEL_DEFAULTS.overdueMinSamples,
    description: 'finished jobs of a kind before any of its jobs is called overdue (a p99 from a handful of jobs is a guess)',
  }),
  maxResultBytes: integer({
    flag: 'max-result-bytes',
    env: 'JOBWAIT_MAX_RESULT_BYTES',
    arg: 'bytes',
    min: 1,
    max: 64 * 1024 * 1024,
    default: 262_144,
    description: "largest result a worker may report (bytes of JSON; more is a 413); the report route's body limit is this plus 16 KiB",
  }),
  reportSecret: text({
    flag: 'report-secret',
    env: 'JOBWAIT_REPORT_SECRET',
    arg: 's',
    range: 'at least 32 bytes',
    secret: true,
    defaultText: 'generated on first start and kept by the engine, shared by every instance on it',
    description: 'secret the report tokens are derived from (HMAC-SHA256); every instance of a cluster must share it (prefer the variable)',
    problem: (v) => (Buffer.byteLength(v) >= 32 ? undefined : 'must be at least 32 bytes (e.g. `openssl rand -base64 32`)'),
  }),
  errorRate: number({ flag: 'error-rate', env: 'JOBWAIT_ERROR_RATE', arg: '0..1', min: 0, max: 1, default: 0, description: 'share of jobs without an explicit outcome that end in error' }),
  seed: integer({ flag: 'seed', env: 'JOBWAIT_SEED', arg: 'int', defaultText: 'random', description: 'seed of the error-rate draws, for repeatable runs' }),
  maxWaitSeconds: integer({ flag: 'max-wait', env: 'JOBWAIT_MAX_WAIT', arg: 's', min: 1, max: 3600, default: 60, description: 'longest long-poll hold, in seconds (Prefer: wait=N is capped to it)' }),
  heartbeatMs: number({ flag: 'heartbeat-ms', env: 'JOBWAIT_HEARTBEAT_MS', arg: 'ms', above: 0, default: 15_000, description: 'interval of SSE heartbeats, in ms' }),
  bodyLimit: integer({ flag: 'body-limit', env: 'JOBWAIT_BODY_LIMIT', arg: 'bytes', min: 1, max: 100 * 1024 * 1024, default: 65_536, description: 'largest request body, in bytes' }),
  batchBodyLimit: integer({
    flag: 'batch-body-limit',
    env: 'JOBWAIT_BATCH_BODY_LIMIT',
    arg: 'bytes',
    min: 1,
    max: 100 * 1024 * 1024,
    default: 4 * 1024 * 1024,
    description: 'largest body of POST /v1/batches, in bytes: 1,000 jobs of up to 4 KiB each by default',
  }),
  rateLimit: number({ flag: 'rate-limit', env: 'JOBWAIT_RATE_LIMIT', arg: 'n', min: 0, default: 100, description: 'requests per second per key (per IP when open); 0 turns limits off; keys may carry their own' }),
  rateBurst: number({ flag: 'rate-burst', env: 'JOBWAIT_RATE_BURST', arg: 'n', min: 1, defaultText: '2 x rate-limit', description: 'burst size of that limit' }),
  apiKeys: list({
    flag: 'api-keys',
    env: 'JOBWAIT_API_KEYS',
    noFlag: true,
    separator: /[\s,]+/,
    range: 'jw_<id>_<secret> keys, comma- or space-separated (a list in the file)',
    default: Object.freeze([]) as readonly string[],
    defaultText: 'none; no key at all = open server',
    description: 'API keys accepted from the start (added to the key store)',
  }),
  apiKeysFile: text({ flag: 'api-keys-file', env: 'JOBWAIT_API_KEYS_FILE', arg: 'path', range: 'a file of keys, one per line (# comments)', description: 'more API keys, read at start', problem: (v) => (v === '' ? 'must be a file path' : undefined) }),
  ingestSources: json<readonly IngestSourceConfig[], readonly IngestSourceConfig[]>({
    flag: 'ingest-sources',
    env: 'JOBWAIT_INGEST_SOURCES',
    noFlag: true,
    arg: 'json',
    range: INGEST_SOURCES_RANGE,
    default: Object.freeze([]) as readonly IngestSourceConfig[],
    defaultText: 'none (ingest off)',
    description:
      'queues to take job events from (RabbitMQ queues, Redis streams), each bound to the tenants it may write; each message is applied as a worker report, acknowledged after the commit, dead-lettered with its reason when it cannot be (see docs/ingest.md)',
    normalize: (value) => normalizeIngestSources(value, { hostname: hostname(), pid: process.pid }),
  }),
  logLevel: choice({
    flag: 'log-level',
    env: 'JOBWAIT_LOG_LEVEL',
    arg: 'level',
    choices: LOG_LEVELS,
    default: 'info',
    description: 'least level of the lines logged: a line per request at debug, a summary per minute at info',
  }),
  logFormat: choice({
    flag: 'log-format',
    env: 'JOBWAIT_LOG_FORMAT',
    arg: 'f',
    choices: LOG_FORMATS,
    default: 'auto',
    description: 'how lines look: auto is pretty (readable, a line per request at info) on a terminal, JSON otherwise',
  }),
  trustProxy: list({
    flag: 'trust-proxy',
    env: 'JOBWAIT_TRUST_PROXY',
    arg: 'list',
    range: 'IP addresses or CIDR networks, comma-separated',
    default: Object.freeze([]) as readonly string[],
    description: 'reverse proxies whose X-Forwarded-For gives the client IP (per-IP limits and logs then see the client)',
    entryProblem: proxyEntryProblem,
  }),
  corsOrigin: list({
    flag: 'cors-origin',
    env: 'JOBWAIT_CORS_ORIGIN',
    arg: 'list',
    range: 'exact origins (https://app.example.com), comma-separated',
    default: Object.freeze([]) as readonly string[],
    defaultText: 'none: every route is same-origin only',
    description: 'web pages that may read jobs with a read token (CORS on GET /v1/jobs/{id} and its event stream only)',
    entryProblem: originProblem,
  }),
  readTokenTtlSeconds: integer({ flag: 'read-token-ttl', env: 'JOBWAIT_READ_TOKEN_TTL', arg: 's', min: 1, max: 86_400, default: 600, description: 'life of a read token whose mint names no ttlSeconds, in seconds' }),
  readTokenMaxTtlSeconds: integer({ flag: 'read-token-max-ttl', env: 'JOBWAIT_READ_TOKEN_MAX_TTL', arg: 's', min: 1, max: 86_400, default: 3600, description: 'longest life a read token may be minted with, in seconds' }),
  hotReads: toggle({
    flag: 'hot-reads',
    env: 'JOBWAIT_HOT_READS',
    arg: 'on|off',
    description: 'was: plain reads answered ahead of Fastify',
    deprecated: 'the hot reads take the early path whenever it answers as the routes do, with no switch; accepted so that existing configs still start',
  }),
  metricsToken: text({
    flag: 'metrics-token',
    env: 'JOBWAIT_METRICS_TOKEN',
    arg: 't',
    range: 'printable characters without spaces',
    secret: true,
    defaultText: 'none: /metrics is open',
    description: 'token GET /metrics requires (Authorization: Bearer <t>); API keys do not open it',
    problem: (v) => (/^[\x21-\x7e]+$/.test(v) ? undefined : 'must be printable characters without spaces'),
  }),
  webhookSecret: text({
    flag: 'webhook-secret',
    env: 'JOBWAIT_WEBHOOK_SECRET',
    arg: 's',
    range: 'whsec_ and base64 of 24 to 64 bytes',
    secret: true,
    defaultText: 'each key gets its own, kept with the deliveries; a key reads it at GET /v1/webhooks/secret',
    description: 'one signing secret for every key\'s webhooks (prefer the variable)',
    problem: (v) => (isWebhookSecret(v) ? undefined : 'must be whsec_ followed by standard base64 of 24 to 64 bytes (e.g. whsec_ + `openssl rand -base64 32`)'),
  }),
  webhookAllowHosts: list({
    flag: 'webhook-allow-hosts',
    env: 'JOBWAIT_WEBHOOK_ALLOW_HOSTS',
    arg: 'list',
    range: 'hostnames, IP addresses or CIDR networks, comma-separated',
    default: Object.freeze([]) as readonly string[],
    defaultText: 'none: loopback, private, link-local and special addresses are refused',
    description: 'hosts webhooks may call although they are special',
    entryProblem: allowEntryProblem,
  }),
  webhookRetryScheduleMs: numberList({
    flag: 'webhook-retry-schedule-ms',
    env: 'JOBWAIT_WEBHOOK_RETRY_SCHEDULE_MS',
    arg: 'list',
    range: 'comma-separated milliseconds',
    default: DEFAULT_RETRY_SCHEDULE_MS,
    description: 'longest waits between webhook retries (full jitter); its length is the number of retries',
    normalize: normalizeRetrySchedule,
  }),
  emailRetryScheduleMs: numberList({
    flag: 'email-retry-schedule-ms',
    env: 'JOBWAIT_EMAIL_RETRY_SCHEDULE_MS',
    arg: 'list',
    range: 'comma-separated milliseconds',
    defaultText: 'webhook-retry-schedule-ms',
    description: 'the same for emails',
    normalize: normalizeRetrySchedule,
  }),
  progressWebhookIntervalMs: integer({
    flag: 'progress-webhook-interval-ms',
    env: 'JOBWAIT_PROGRESS_WEBHOOK_INTERVAL_MS',
    arg: 'ms',
    min: 1,
    max: 3_600_000,
    default: 500,
    description: 'shortest time between two job.progress webhooks of one job (jobs created with webhookEvents ["job.progress"]); the latest progress of the interval is the one sent',
  }),
  webhookTimeoutMs: number({ flag: 'webhook-timeout-ms', env: 'JOBWAIT_WEBHOOK_TIMEOUT_MS', arg: 'ms', above: 0, default: 10_000, description: 'longest webhook attempt (connect to response headers), in ms' }),
  deliveryConcurrency: integer({ flag: 'delivery-concurrency', env: 'JOBWAIT_DELIVERY_CONCURRENCY', arg: 'n', min: 1, max: 10_000, default: 64, description: 'webhook and email attempts in flight at once, in total (per instance)' }),
  deliveryConcurrencyPerEndpoint: integer({
    flag: 'delivery-concurrency-per-endpoint',
    env: 'JOBWAIT_DELIVERY_CONCURRENCY_PER_ENDPOINT',
    arg: 'n',
    min: 1,
    max: 10_000,
    default: 4,
    description: 'attempts in flight at once to one endpoint (a key\'s webhook URL, an email address); the rest wait their turn in the store',
  }),
  deliveryConcurrencyPerTenant: integer({
    flag: 'delivery-concurrency-per-key',
    env: 'JOBWAIT_DELIVERY_CONCURRENCY_PER_KEY',
    arg: 'n',
    min: 1,
    max: 10_000,
    default: 16,
    description: 'attempts in flight at once for one API key, over all its endpoints',
  }),
  maxHeldPerKey: integer({
    flag: 'max-held-per-key',
    env: 'JOBWAIT_MAX_HELD_PER_KEY',
    arg: 'n',
    min: 1,
    defaultText: '1000, or half of max-held-connections when that is lower',
    description: 'long-polls and event streams one API key (one IP when the server runs open) holds at once; past it 429 JOBWAIT_ERR_TOO_MANY_HELD',
  }),
  maxHeldConnections: integer({
    flag: 'max-held-connections',
    env: 'JOBWAIT_MAX_HELD_CONNECTIONS',
    arg: 'n',
    min: 1,
    defaultText: 'from the file-descriptor limit: 762 under ulimit -n 1024',
    description: 'long-polls and event streams held at once by this process; past it 503 JOBWAIT_ERR_SERVER_AT_CAPACITY (plain requests still served)',
  }),
  smtpUrl: text({
    flag: 'smtp-url',
    env: 'JOBWAIT_SMTP_URL',
    arg: 'url',
    range: 'smtp://[user:pass@]host[:port] (smtps:// for TLS)',
    defaultText: 'none: no email',
    description: 'SMTP server for notifyEmail',
    problem: (v) => urlProblem(v, ['smtp:', 'smtps:'], false),
  }),
  emailFrom: text({
    flag: 'email-from',
    env: 'JOBWAIT_EMAIL_FROM',
    arg: 'addr',
    range: 'one address',
    default: 'jobwait <jobwait@localhost>',
    description: 'From: of notification emails',
    problem: (v) => (v.trim() === '' || /[\r\n]/.test(v) ? 'must be one address, e.g. "jobwait <jobwait@example.com>"' : undefined),
  }),
});

/** Plain options of `buildServer()` (and of `jobwait-server`), each optional; `port` and `host` are `startServer()`'s. */
export type ServerOptions = OptionsOf<typeof SERVER_SCHEMA>;

/** {@link ServerOptions} checked, with every default filled in (also those that follow another option). */
export type ResolvedServerOptions = ResolvedOf<typeof SERVER_SCHEMA> & {
  readonly rateBurst: number;
  readonly emailRetryScheduleMs: readonly number[];
};

/** Which store keeps the jobs. */
export type StoreKind = ResolvedServerOptions['store'];

/** Default of every option that has one, by its name in code. */
export const SERVER_DEFAULTS = Object.freeze(
  Object.fromEntries(Object.entries(SERVER_SCHEMA).filter(([, option]) => option.default !== undefined).map(([key, option]) => [key, option.default])),
) as { readonly [K in keyof typeof SERVER_SCHEMA as (typeof SERVER_SCHEMA)[K]['default'] extends undefined ? never : K]: NonNullable<(typeof SERVER_SCHEMA)[K]['default']> };

/**
 * Checks `options` and fills in defaults: the schema's, then those that follow another option
 * (`rateBurst`: twice the rate; `emailRetryScheduleMs`: the webhook schedule). Refusals name the option by `label` (its flag name unless told).
 */
export function resolveServerOptions(options: ServerOptions = {}, label?: (key: keyof typeof SERVER_SCHEMA) => string): ResolvedServerOptions {
  const resolved = resolveOptions(SERVER_SCHEMA, options, label);
  if (resolved.readTokenTtlSeconds > resolved.readTokenMaxTtlSeconds) {
    throw new ConfigError(label?.('readTokenTtlSeconds') ?? 'read-token-ttl', `must be at most read-token-max-ttl (${resolved.readTokenMaxTtlSeconds}), got ${resolved.readTokenTtlSeconds}`);
  }
  const rateBurst = resolved.rateBurst ?? Math.max(1, Math.ceil(resolved.rateLimit * 2));
  return Object.freeze({
    ...resolved,
    rateBurst,
    emailRetryScheduleMs: resolved.emailRetryScheduleMs ?? resolved.webhookRetryScheduleMs,
  });
}
