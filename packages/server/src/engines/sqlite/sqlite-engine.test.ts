/** The SQLite engine's prune of idempotency keys: the window Redis expires them by (due time plus retention). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobIdFactory } from '../../jobs/job-id.js';
import type { JobRecord } from '../../jobs/job-record.js';
import { openSqliteEngine } from './sqlite-engine.js';

const RETENTION_S = 3600;
const T0 = 1_700_000_000_000;
const ids = new JobIdFactory();

function job(createdAt: number, dueIn: number): JobRecord {
  return { id: ids.next(createdAt), tenant: 't', state: 'pending', outcome: 'completed', createdAt, dueAt: createdAt + dueIn, updatedAt: createdAt, duration: dueIn / 1000, version: 1 };
}

describe('SQLite engine: idempotency keys', () => {
  it('keeps a key until its job was due plus the retention, then a prune forgets it', async () => {
    let now = T0;
    const engine = openSqliteEngine({ dataDir: ':memory:', retentionSeconds: RETENTION_S, now: () => now });
    try {
      const claim = (key: string) => ({ key, fingerprint: 'fp' });
      const long = job(T0, 600_000); // due ten minutes after it was made
      const short = job(T0, 1000);
      assert.equal((await engine.jobs.create(long, claim('long'))).kind, 'created');
      assert.equal((await engine.jobs.create(short, claim('short'))).kind, 'created');
      const replay = async (key: string) => (await engine.jobs.create(job(now, 1000), claim(key))).kind;

      // Just inside the window of both: a prune keeps them.
      now = T0 + 1000 + RETENTION_S * 1000;
      await engine.prune(now, 500);
      assert.equal(await replay('short'), 'replayed');
      assert.equal(await replay('long'), 'replayed');

      // The short job's window has ended: the next prune forgets its key, not the long job's.
      now += 1;
      assert.equal((await engine.prune(now, 500)).idempotencyKeys, 1);
      assert.equal(await replay('short'), 'created', 'the key was forgotten: the same key makes a new job');
      assert.equal(await replay('long'), 'replayed');

      now = T0 + 600_000 + RETENTION_S * 1000;
      await engine.prune(now, 500);
      assert.equal(await replay('long'), 'replayed', 'kept to the end of its window');
      now += 1;
      await engine.prune(now, 500);
      assert.equal(await replay('long'), 'created');
    } finally {
      await engine.close();
    }
  });
});
