/** The SQLite engine's own schedule: idempotency keys pruned every minute, with the window Redis expires them by. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
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
  beforeEach(() => mock.timers.enable({ apis: ['setInterval'] }));
  afterEach(() => mock.timers.reset());

  it('keeps a key until its job was due plus the retention, then a minute later forgets it', async () => {
    let now = T0;
    const engine = openSqliteEngine({ dataDir: ':memory:', retentionSeconds: RETENTION_S, now: () => now });
    try {
      const claim = (key: string) => ({ key, fingerprint: 'fp' });
      const long = job(T0, 600_000); // due ten minutes after it was made
      const short = job(T0, 1000);
      assert.equal((await engine.jobs.create(long, claim('long'))).kind, 'created');
      assert.equal((await engine.jobs.create(short, claim('short'))).kind, 'created');
      const replay = async (key: string) => (await engine.jobs.create(job(now, 1000), claim(key))).kind;

      // Just inside the window of both: a minute's prune keeps them.
      now = T0 + 1000 + RETENTION_S * 1000;
      mock.timers.tick(60_000);
      assert.equal(await replay('short'), 'replayed');
      assert.equal(await replay('long'), 'replayed');

      // The short job's window has ended: the next prune forgets its key, not the long job's.
      now += 1;
      mock.timers.tick(60_000);
      assert.equal(await replay('short'), 'created', 'the key was forgotten: the same key makes a new job');
      assert.equal(await replay('long'), 'replayed');

      now = T0 + 600_000 + RETENTION_S * 1000 + 1;
      mock.timers.tick(59_999);
      assert.equal(await replay('long'), 'replayed', 'not pruned before the minute is up');
      mock.timers.tick(1);
      assert.equal(await replay('long'), 'created');
    } finally {
      await engine.close();
    }
  });
});
