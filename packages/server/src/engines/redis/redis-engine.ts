/**
 * The cluster engine: jobs, API keys, deliveries, rate limits and the change
 * feed in one Redis, shared by every instance using the same prefix. One
 * command connection (ioredis) carries every store's commands and the feed's
 * publishes; the feed subscribes on a second one, as pub/sub requires.
 */
import type { RedisOptions } from 'ioredis';
import type { Engine } from '../engine.js';
import { watchDueTimes } from './due-hints.js';
import { closeRedis, openRedis, redactRedisUrl, type RedisLogger } from './redis-connection.js';
import { RedisDeliveryStore } from './redis-delivery-store.js';
import { RedisFeed } from './redis-feed.js';
import { RedisJobStore } from './redis-job-store.js';
import { RedisKeyStore } from './redis-key-store.js';
import { redisKeys } from './redis-keys.js';
import { RedisModelStore } from './redis-model-store.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';
import { defineScripts } from './redis-scripts.js';

/** Options of {@link openRedisEngine}. */
export interface RedisEngineOptions {
  /** `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. */
  url: string;
  /** Prefix of every key and of the feed's channel. */
  prefix: string;
  /** How long a finished job is kept, in seconds. */
  retentionSeconds: number;
  /** Where connection trouble is reported. */
  log?: RedisLogger | undefined;
  /** Extra ioredis options (tests). */
  redisOptions?: RedisOptions | undefined;
}

/** Connects (lazily retrying; a Redis that is down now does not fail this) and returns the engine. */
export function openRedisEngine(options: RedisEngineOptions): Engine & { jobs: RedisJobStore } {
  const redis = openRedis(options.url, 'store', options.redisOptions, options.log);
  const keys = redisKeys(options.prefix);
  const scripts = defineScripts(redis);
  const jobs = new RedisJobStore({ redis, keys, scripts, retentionSeconds: options.retentionSeconds });
  const feed = new RedisFeed({ publisher: redis, prefix: options.prefix, source: jobs, log: options.log });
  return {
    kind: 'redis',
    jobs,
    keys: new RedisKeyStore(redis, keys, scripts),
    deliveries: new RedisDeliveryStore(redis, keys, scripts),
    limiter: new RedisRateLimiter(keys, scripts),
    models: new RedisModelStore(redis, keys, scripts),
    feed,
    persistent: true,
    details: { redisUrl: redactRedisUrl(options.url), redisPrefix: options.prefix, retentionSeconds: options.retentionSeconds },
    prune: (now, limit) => jobs.prune(now, limit),
    dueTimes: (listener) => watchDueTimes(jobs, feed, listener),
    onConnectionError: (listener) => void redis.on('error', listener),
    async close() {
      jobs.stopAlive();
      await feed.close();
      await closeRedis(redis);
    },
  };
}
