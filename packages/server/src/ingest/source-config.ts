/**
 * The `--ingest-sources` option: the queues jobwait takes job events from, each bound to the
 * tenants it may write. Off by default (an empty list). Every field's default is written here once,
 * and {@link normalizeIngestSources} fills them and refuses a bad entry naming it.
 */

/** A RabbitMQ queue (AMQP 0-9-1). */
export interface AmqpSourceConfig {
  kind: 'amqp';
  /** Name in logs, `/readyz` and metrics. @default `amqp:<queue>` */
  name: string;
  /** Tenants (API key ids; `public` when the server runs open) whose jobs this source may write. */
  tenants: readonly string[];
  /** @example amqp://guest:guest@127.0.0.1:5672 */
  url: string;
  /** Queue to consume (declared durable if missing). */
  queue: string;
  /** Messages delivered before one is acknowledged. @default 100 */
  prefetch: number;
  /** Where messages that cannot be applied go, with the reason in headers. @default `<queue>.dead-letter` */
  deadLetterQueue: string;
}

/** A Redis stream, read by a consumer group. */
export interface RedisStreamSourceConfig {
  kind: 'redis-stream';
  /** Name in logs, `/readyz` and metrics. @default `redis-stream:<stream>` */
  name: string;
  tenants: readonly string[];
  /** @default redis://127.0.0.1:6379 */
  url: string;
  /** Stream key; each entry's `message` field holds the JSON message. */
  stream: string;
  /** Consumer group (made at the stream's start if missing). @default jobwait */
  group: string;
  /** This instance's consumer name in the group. @default `<hostname>:<pid>` */
  consumer: string;
  /** Entries read per call. @default 100 */
  batch: number;
  /** A consumer's pending entry idle this long is claimed by another (XAUTOCLAIM): a dead instance's messages are taken over. @default 30000 */
  claimIdleMs: number;
  /** Where entries that cannot be applied go, with the reason. @default `<stream>:dead-letter` */
  deadLetterStream: string;
}

/** One configured source. */
export type IngestSourceConfig = AmqpSourceConfig | RedisStreamSourceConfig;

/** Defaults of the optional fields. */
export const INGEST_SOURCE_DEFAULTS = Object.freeze({
  prefetch: 100,
  redisUrl: 'redis://127.0.0.1:6379',
  group: 'jobwait',
  batch: 100,
  claimIdleMs: 30_000,
});

/** The option's range, as `--help` and refusals say it. */
export const INGEST_SOURCES_RANGE =
  'a JSON array of sources, each {"kind": "amqp", "url": "amqp://...", "queue": "q", "tenants": ["public"]} or ' +
  '{"kind": "redis-stream", "url": "redis://...", "stream": "s", "tenants": ["public"]}, with optional fields (docs/ingest.md)';

/** Checks `value` (the option's JSON) and fills defaults; throws an Error naming the bad entry. */
export function normalizeIngestSources(value: unknown, host: { hostname: string; pid: number }): readonly IngestSourceConfig[] {
  if (!Array.isArray(value)) throw new Error(`must be ${INGEST_SOURCES_RANGE}`);
  const names = new Set<string>();
  const sources = value.map((entry: unknown, index) => {
    const at = `source ${index + 1}`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw new Error(`${at} must be an object`);
    const source = normalizeOne(entry as Record<string, unknown>, at, host);
    if (names.has(source.name)) throw new Error(`${at}: the name ${JSON.stringify(source.name)} is taken by another source`);
    names.add(source.name);
    return Object.freeze(source);
  });
  return Object.freeze(sources);
}

function normalizeOne(entry: Record<string, unknown>, at: string, host: { hostname: string; pid: number }): IngestSourceConfig {
  const allowed =
    entry.kind === 'amqp'
      ? ['kind', 'name', 'tenants', 'url', 'queue', 'prefetch', 'deadLetterQueue']
      : ['kind', 'name', 'tenants', 'url', 'stream', 'group', 'consumer', 'batch', 'claimIdleMs', 'deadLetterStream'];
  if (entry.kind !== 'amqp' && entry.kind !== 'redis-stream') throw new Error(`${at}: kind must be "amqp" or "redis-stream", got ${JSON.stringify(entry.kind)}`);
  for (const key of Object.keys(entry)) if (!allowed.includes(key)) throw new Error(`${at}: unknown field ${JSON.stringify(key)} (a ${entry.kind} source takes ${allowed.join(', ')})`);
  const tenants = entry.tenants;
  if (!Array.isArray(tenants) || tenants.length === 0 || !tenants.every((t) => typeof t === 'string' && t.length > 0 && t.length <= 200)) {
    throw new Error(`${at}: tenants must be a non-empty array of tenant ids (API key ids; "public" when the server runs open)`);
  }
  const str = (key: string, fallback?: string): string => {
    const v = entry[key] ?? fallback;
    if (typeof v !== 'string' || v.length === 0 || v.length > 255) throw new Error(`${at}: ${key} must be a string of 1 to 255 characters`);
    return v;
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const v = entry[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Error(`${at}: ${key} must be an integer from ${min} to ${max}`);
    return v;
  };
  const url = (protocols: readonly string[], fallback?: string): string => {
    const v = str('url', fallback);
    let parsed: URL | undefined;
    try {
      parsed = new URL(v);
    } catch {
      parsed = undefined;
    }
    // The URL may hold a password: never echo it.
    if (!parsed || !protocols.includes(parsed.protocol) || parsed.hostname === '') throw new Error(`${at}: url must be a ${protocols.join(' or ')}// URL with a host`);
    return v;
  };
  if (entry.kind === 'amqp') {
    const queue = str('queue');
    return {
      kind: 'amqp',
      name: str('name', `amqp:${queue}`),
      tenants: Object.freeze([...(tenants as string[])]),
      url: url(['amqp:', 'amqps:']),
      queue,
      prefetch: int('prefetch', INGEST_SOURCE_DEFAULTS.prefetch, 1, 65_535),
      deadLetterQueue: str('deadLetterQueue', `${queue}.dead-letter`),
    };
  }
  const stream = str('stream');
  return {
    kind: 'redis-stream',
    name: str('name', `redis-stream:${stream}`),
    tenants: Object.freeze([...(tenants as string[])]),
    url: url(['redis:', 'rediss:'], INGEST_SOURCE_DEFAULTS.redisUrl),
    stream,
    group: str('group', INGEST_SOURCE_DEFAULTS.group),
    consumer: str('consumer', `${host.hostname}:${host.pid}`),
    batch: int('batch', INGEST_SOURCE_DEFAULTS.batch, 1, 10_000),
    claimIdleMs: int('claimIdleMs', INGEST_SOURCE_DEFAULTS.claimIdleMs, 1, 86_400_000),
    deadLetterStream: str('deadLetterStream', `${stream}:dead-letter`),
  };
}
