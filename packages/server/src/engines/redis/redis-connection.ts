/** ioredis connections as jobwait opens, watches and closes them (store commands and the feed's subscriber). */
import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import { reasonOf } from '../../logging/outage-log.js';

/** ioredis (CommonJS), loaded with the first connection: a server on SQLite never loads it. */
let ioredis: typeof import('ioredis') | undefined;

/** The few logger methods the Redis store and feed use (pino and Fastify loggers fit). */
export interface RedisLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Opens a connection: reconnecting forever with a short capped backoff, and
 * failing a command after a few reconnect attempts rather than holding an HTTP request for long.
 */
export function openRedis(url: string, role: string, options: RedisOptions = {}, log?: RedisLogger): Redis {
  ioredis ??= createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
  const redis = new ioredis.Redis(url, {
    // CLIENT LIST then tells which process and role each connection is.
    connectionName: `jobwait-${role}-${process.pid}`,
    // No auto-pipelining: it defers each command a tick and, measured, doubles the CPU cost of the lone commands of the wake path.
    enableAutoPipelining: false,
    maxRetriesPerRequest: 5,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    ...options,
  });
  watchRedis(redis, role, log);
  return redis;
}

/** Logs a connection's outages: one warning when it drops, one note when it is back, not one per reconnect attempt. */
export function watchRedis(redis: Redis, role: string, log?: RedisLogger): void {
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log?.warn({ role, reason: reasonOf(error) }, 'redis connection failed; reconnecting (logged again once it is back)');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log?.info({ role }, 'redis connection restored');
  });
}

/** Closes a connection: QUIT when connected (pending replies arrive first), else drops it at once. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([redis.quit(), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
  } catch {
    // Already closing: nothing left to wait for.
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/** A URL with its password masked, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}
