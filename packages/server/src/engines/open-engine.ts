/** `openEngine(options)`: the one call that opens where jobwait keeps its data (`--store sqlite|memory|redis`). */
import type { Engine, EngineKind } from './engine.js';
import type { RedisLogger } from './redis/redis-connection.js';
import { openRedisEngine } from './redis/redis-engine.js';
import { openSqliteEngine } from './sqlite/sqlite-engine.js';

/** What {@link openEngine} needs; the server's options supply it (defaults in config/server-options.ts). */
export interface EngineOptions {
  store: EngineKind;
  /** Folder of the SQLite file (`sqlite`). */
  dataDir: string;
  /** Redis URL (`redis`). */
  redisUrl: string;
  /** Prefix of every Redis key (`redis`). */
  redisPrefix: string;
  /** How long a finished job is kept, in seconds. */
  retentionSeconds: number;
  /** Where connection trouble is reported. */
  log?: RedisLogger | undefined;
  /** Clock of the in-process rate limiter. @default Date.now */
  now?: (() => number) | undefined;
}

/** Opens the engine `options.store` names. */
export function openEngine(options: EngineOptions): Engine {
  const now = options.now ?? Date.now;
  if (options.store === 'redis') {
    return openRedisEngine({ url: options.redisUrl, prefix: options.redisPrefix, retentionSeconds: options.retentionSeconds, log: options.log });
  }
  return openSqliteEngine({ dataDir: options.store === 'memory' ? ':memory:' : options.dataDir, retentionSeconds: options.retentionSeconds, now });
}
