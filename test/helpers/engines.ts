/** Engines for tests: each kind on a fresh place (a temp folder, a Redis prefix of its own), removed on dispose. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine, SERVER_DEFAULTS, type Engine, type EngineKind } from '@jobwait/server';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from './redis.js';

/** Every engine kind, in the order the contract tests run them. */
export const ENGINE_KINDS: readonly EngineKind[] = ['sqlite', 'memory', 'redis'];

/** An engine and what removes its data. */
export interface TestEngine {
  engine: Engine;
  /** Where its data lives (folder or Redis prefix), to open a second engine on the same data. */
  place: string;
  /** Another engine on the same data (a second process or cluster instance); closed by {@link dispose}. */
  reopen(): Engine;
  /** Closes every engine opened here and deletes the data. */
  dispose(): Promise<void>;
}

/** Opens an engine of `kind` on fresh data (`retentionSeconds`: the server default unless given). */
export function openTestEngine(kind: EngineKind, options: { retentionSeconds?: number } = {}): TestEngine {
  const place = kind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'jobwait-engine-')) : kind === 'redis' ? uniquePrefix(`engine`) : ':memory:';
  const open = (): Engine =>
    openEngine({ ...SERVER_DEFAULTS, store: kind, dataDir: kind === 'sqlite' ? place : SERVER_DEFAULTS.dataDir, redisUrl: TEST_REDIS_URL, redisPrefix: kind === 'redis' ? place : SERVER_DEFAULTS.redisPrefix, retentionSeconds: options.retentionSeconds ?? SERVER_DEFAULTS.retentionSeconds });
  const engines = [open()];
  return {
    engine: engines[0]!,
    place,
    reopen() {
      if (kind === 'memory') throw new Error('a memory engine cannot be opened twice');
      const engine = open();
      engines.push(engine);
      return engine;
    },
    async dispose() {
      for (const engine of engines.splice(0)) await engine.close();
      if (kind === 'sqlite') rmSync(place, { recursive: true, force: true });
      if (kind === 'redis') await deleteKeys(place);
    },
  };
}
