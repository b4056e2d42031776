/**
 * A Redis stream as a source, read by a consumer group: `XREADGROUP` delivers each entry to one
 * consumer of the group (so instances of a cluster share the stream), `XACK` acknowledges it after
 * its report committed (or its dead letter was added to the dead-letter stream), and `XAUTOCLAIM`
 * takes over what a dead consumer left pending once it has been idle `claimIdleMs`. On (re)connect a
 * consumer first re-reads its own pending entries: those it was given and had not acknowledged.
 * Each entry's `message` field holds the JSON message.
 */
import type { Redis as RedisClient } from 'ioredis';
import type { IngestResult } from './ingest-applier.js';
import type { IngestSource, MessageHandler } from './ingest-source.js';
import type { RedisStreamSourceConfig } from './source-config.js';
import { SourceRunner, type SourceSession } from './source-runner.js';
import type { SourceTally } from './source-tally.js';

/** Longest `XREADGROUP ... BLOCK`: bounds how long a stop waits and how stale `lag` gets. */
const BLOCK_MS = 1000;
/** How often the group's lag is read. */
const LAG_INTERVAL_MS = 1000;
/** A connection attempt that takes longer than this has failed. */
const CONNECT_TIMEOUT_MS = 10_000;

/** A stream entry as ioredis returns it: id and flat field/value pairs. */
type Entry = [id: string, fields: string[]];

/** A source consuming one Redis stream through a consumer group. */
export function redisStreamSource(config: RedisStreamSourceConfig, handle: MessageHandler, tally: SourceTally): IngestSource {
  const stream = new RedisStreamGroup(config, handle, tally);
  return new SourceRunner(config.name, 'redis-stream', tally, (session) => stream.consume(session));
}

/** One Redis stream's consumer-group connections. */
class RedisStreamGroup {
  constructor(
    private readonly config: RedisStreamSourceConfig,
    private readonly handle: MessageHandler,
    private readonly tally: SourceTally,
  ) {}

  /** One connection's life: returns when the source stops, throws when the connection (or the store) fails. */
  async consume(session: SourceSession): Promise<void> {
    const { url, stream, group, consumer, batch, claimIdleMs } = this.config;
    const signal = session.signal;
    // Commands fail at once while disconnected, and this loop (not ioredis) reconnects, with its backoff.
    // Loaded on the first connection: a server without this source (and on SQLite) never pays for ioredis.
    const { Redis } = await import('ioredis');
    const redis: RedisClient = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: CONNECT_TIMEOUT_MS });
    redis.on('error', (error: Error) => session.error(error.message));
    try {
      await redis.connect();
      try {
        await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
      } catch (error) {
        if (!/BUSYGROUP/.test((error as Error).message)) throw error;
      }
      session.consuming();
      // What this consumer was given before and did not acknowledge (it was cut off, or restarted under the same name).
      for (let after = '0'; !signal.aborted; ) {
        const own = entriesOf(await redis.xreadgroup('GROUP', group, consumer, 'COUNT', batch, 'STREAMS', stream, after));
        if (own.length === 0) break;
        await this.process(redis, own);
        after = own[own.length - 1]![0];
      }
      const claimEveryMs = Math.max(100, Math.min(claimIdleMs / 2, 10_000));
      let claimCursor = '0-0';
      let claimAt = 0;
      let lagAt = 0;
      while (!signal.aborted) {
        const now = Date.now();
        if (now >= lagAt) {
          lagAt = now + LAG_INTERVAL_MS;
          session.lag(await groupLag(redis, stream, group));
        }
        if (now >= claimAt) {
          // A dead consumer's pending entries, idle long enough that no live consumer is still on them.
          const [next, claimed] = (await redis.xautoclaim(stream, group, consumer, claimIdleMs, claimCursor, 'COUNT', batch)) as [string, (Entry | null)[]];
          claimCursor = next;
          if (next === '0-0') claimAt = now + claimEveryMs;
          const entries = claimed.filter((entry): entry is Entry => entry !== null);
          if (entries.length > 0) {
            await this.process(redis, entries);
            continue;
          }
        }
        const fresh = entriesOf(await redis.xreadgroup('GROUP', group, consumer, 'COUNT', batch, 'BLOCK', BLOCK_MS, 'STREAMS', stream, '>'));
        await this.process(redis, fresh);
      }
    } finally {
      redis.disconnect();
    }
  }

  /**
   * Applies `entries` in order as one commit, then adds their dead letters and acknowledges them in
   * one round trip (`XADD`s, then one `XACK`). If the store fails, the entries committed before it
   * are acknowledged and the error goes up: the rest stay pending and are read again after the reconnect.
   */
  private async process(redis: RedisClient, entries: readonly Entry[]): Promise<void> {
    if (entries.length === 0) return;
    const bodies = entries.map(([, fields]) => fieldOf(fields, 'message'));
    const readable = bodies.filter((body): body is string => body !== undefined);
    const { results: applied, error } = await this.handle(readable);
    // Back in entry order: an entry without a `message` field is dead-lettered without being applied.
    const results: IngestResult[] = [];
    let next = 0;
    for (const body of bodies) {
      if (body === undefined) results.push({ kind: 'dead-letter', reason: 'invalid_message', detail: 'the stream entry has no "message" field' });
      else if (next < applied.length) results.push(applied[next++]!);
      else break;
    }
    if (results.length > 0) {
      // Dead letters stored first, then the acknowledgement: a dead letter is never lost with its entry acknowledged.
      const deadLetters = redis.pipeline();
      results.forEach((result, i) => {
        if (result.kind === 'dead-letter') {
          deadLetters.xadd(this.config.deadLetterStream, '*', 'message', bodies[i] ?? '', 'reason', result.reason, 'detail', result.detail.slice(0, 1000), 'source', this.config.name, 'entry', entries[i]![0]);
        }
      });
      if (deadLetters.length > 0) {
        const failed = ((await deadLetters.exec()) ?? []).find(([replyError]) => replyError);
        if (failed) throw failed[0];
      }
      await redis.xack(this.config.stream, this.config.group, ...entries.slice(0, results.length).map(([id]) => id));
      for (const result of results) this.tally.record(result);
    }
    if (error !== undefined) throw error;
  }
}

/** The entries of an `XREADGROUP` reply for one stream (none on a timeout). */
function entriesOf(reply: unknown): Entry[] {
  const streams = reply as [string, Entry[]][] | null;
  return streams?.[0]?.[1] ?? [];
}

function fieldOf(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Entries the group has yet to deliver plus those delivered and not acknowledged (`XINFO GROUPS`; `lag` needs Redis 7). */
async function groupLag(redis: RedisClient, stream: string, group: string): Promise<number | undefined> {
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  for (const info of groups) {
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < info.length; i += 2) fields.set(String(info[i]), info[i + 1]);
    if (fields.get('name') !== group) continue;
    const lag = fields.get('lag');
    const pending = Number(fields.get('pending') ?? 0);
    return typeof lag === 'number' ? lag + pending : lag === null || lag === undefined ? undefined : Number(lag) + pending;
  }
  return undefined;
}
