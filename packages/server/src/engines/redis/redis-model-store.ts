/**
 * Duration models in Redis: `model:<t>:<kind>` holds one model's JSON. An update reads it,
 * changes it here and writes it back only if no other instance wrote meanwhile (compare-and-set,
 * lua/swap-model-1.lua), retrying otherwise: every instance of a cluster learns from every job.
 */
import type { Redis } from 'ioredis';
import { isModelState, type DurationModelState } from '../../predict/duration-model.js';
import type { DurationModelStore } from '../../store/duration-model-store.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisScripts } from './redis-scripts.js';

/** Tries of an update that keeps meeting concurrent writes before it gives up. */
const UPDATE_TRIES = 20;

/** {@link DurationModelStore} on Redis. */
export class RedisModelStore implements DurationModelStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly scripts: RedisScripts,
  ) {}

  async get(tenant: string, kind: string): Promise<DurationModelState | undefined> {
    return parse(await this.redis.get(this.keys.model(tenant, kind)));
  }

  async update(tenant: string, kind: string, change: (state: DurationModelState | undefined) => DurationModelState): Promise<DurationModelState> {
    const key = this.keys.model(tenant, kind);
    for (let attempt = 0; attempt < UPDATE_TRIES; attempt++) {
      const stored = await this.redis.get(key);
      const next = change(parse(stored));
      const swapped = await this.scripts.run<number>('swap-model', [key], [stored ?? '', JSON.stringify(next)]);
      if (swapped === 1) return next;
    }
    throw new Error(`the model of ${kind} kept changing under ${UPDATE_TRIES} tries`);
  }
}

function parse(text: string | null): DurationModelState | undefined {
  if (text === null) return undefined;
  const state: unknown = JSON.parse(text);
  return isModelState(state) ? state : undefined;
}
