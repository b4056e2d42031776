import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Job, JobStatus } from '@jobwait/client';
import { JobWindow } from './job-window.js';

/** Job number `n`: ids of higher numbers sort newer, as ULIDs do. */
function job(n: number, status: JobStatus = 'pending', version = status === 'pending' ? 1 : 2): Job {
  const at = new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
  return {
    id: `job_01JDQ3M8Z4${String(n).padStart(16, '0')}`,
    status,
    progress: status === 'pending' ? 0 : 1,
    etaMs: status === 'pending' ? 2000 : 0,
    createdAt: at,
    dueAt: at,
    updatedAt: at,
    duration: 2,
    version,
  };
}

const ids = (window: JobWindow): number[] => window.jobs.map((kept) => Number(kept.id.slice(-16)));

describe('JobWindow', () => {
  test('keeps the newest `limit` jobs, newest first, however many arrive', () => {
    const window = new JobWindow({ limit: 5 });
    window.load([], false);
    for (let n = 1; n <= 10_000; n++) window.offer(job(n));
    assert.deepEqual(ids(window), [10_000, 9999, 9998, 9997, 9996]);
  });

  test('puts jobs that arrive out of order in id order, and ignores one older than a full window', () => {
    const window = new JobWindow({ limit: 3 });
    window.load([], false);
    for (const n of [5, 2, 9, 7]) window.offer(job(n));
    assert.deepEqual(ids(window), [9, 7, 5]);
    assert.equal(window.offer(job(1)), false);
    assert.deepEqual(ids(window), [9, 7, 5]);
  });

  test('updates a kept job in place, and never goes back to an older version', () => {
    const window = new JobWindow({ limit: 3 });
    window.load([job(1), job(2)].reverse(), false);
    assert.equal(window.offer(job(1, 'completed')), true);
    assert.equal(window.get(job(1).id)?.status, 'completed');
    assert.equal(window.offer(job(1, 'pending')), false, 'a late older snapshot is ignored');
    assert.equal(window.get(job(1).id)?.status, 'completed');
    assert.deepEqual(ids(window), [2, 1]);
  });

  test('under a status filter, a job that changes status leaves, and the window asks for a refill', () => {
    const window = new JobWindow({ limit: 2 });
    window.setFilter('pending');
    window.load([job(4), job(3)], true);
    assert.equal(window.needsRefill, false);
    window.offer(job(4, 'completed'));
    assert.deepEqual(ids(window), [3]);
    assert.equal(window.needsRefill, true);
    // The refill's page may have been read before the change: the newer version seen wins.
    window.load([job(4), job(3), job(2)], true);
    assert.deepEqual(ids(window), [3, 2]);
    assert.equal(window.needsRefill, false);
  });

  test('a page read before newer jobs arrived keeps those jobs', () => {
    const window = new JobWindow({ limit: 3 });
    window.offer(job(10));
    window.offer(job(11));
    window.load([job(9), job(8), job(7)], true);
    assert.deepEqual(ids(window), [11, 10, 9]);
  });

  test('a job that starts matching the filter comes in at its place by id', () => {
    const window = new JobWindow({ limit: 3 });
    window.setFilter('completed');
    window.load([job(8, 'completed'), job(3, 'completed')], false);
    window.offer(job(5, 'pending'));
    assert.deepEqual(ids(window), [8, 3]);
    window.offer(job(5, 'completed'));
    assert.deepEqual(ids(window), [8, 5, 3]);
  });

  test('setFilter forgets the kept jobs but not the versions seen', () => {
    const window = new JobWindow({ limit: 3 });
    window.load([job(2, 'completed'), job(1)], false);
    window.setFilter('pending');
    assert.deepEqual(ids(window), []);
    window.load([job(2, 'pending'), job(1)], false);
    assert.deepEqual(ids(window), [1], 'job 2 is known to be completed already');
    assert.equal(window.seenStatus(job(2).id), 'completed');
  });

  test('remembers a bounded number of versions: memory does not grow with the jobs seen', () => {
    const window = new JobWindow({ limit: 2, memory: 3 });
    for (let n = 1; n <= 5; n++) window.offer(job(n));
    assert.equal(window.seenStatus(job(1).id), undefined, 'the least recently seen is forgotten');
    assert.equal(window.seenStatus(job(5).id), 'pending');
  });

  test('counts its changes, so a view renders only when something moved', () => {
    const window = new JobWindow({ limit: 2 });
    window.load([job(2), job(1)], false);
    const before = window.revision;
    window.offer(job(0));
    assert.equal(window.revision, before, 'an older job that does not fit changes nothing');
    window.offer(job(3));
    assert.equal(window.revision, before + 1);
  });

  test('narrowed to a batch or tag, keeps only its jobs, from pages and from the stream', () => {
    const window = new JobWindow({ limit: 5 });
    window.setScope({ kind: 'tag', tag: 'night' });
    window.load([{ ...job(3), tags: ['night'] }, job(2), { ...job(1), tags: ['day', 'night'] }], false);
    assert.deepEqual(ids(window), [3, 1]);
    window.offer(job(4));
    window.offer({ ...job(5), batchId: 'bat_1' });
    assert.deepEqual(ids(window), [3, 1], 'jobs outside the tag stay out');
    window.offer({ ...job(3, 'completed'), tags: ['night'] });
    assert.equal(window.jobs[0]?.status, 'completed', 'a job of the tag changes in place');
    window.setScope({ kind: 'batch', id: 'bat_1' });
    assert.deepEqual(ids(window), [], 'a new scope forgets the kept jobs until its first page');
    window.offer({ ...job(5), batchId: 'bat_1' });
    assert.deepEqual(ids(window), [5]);
    window.setScope(undefined);
    window.offer(job(6));
    assert.deepEqual(ids(window), [6]);
  });

  test('refuses a limit that is not a positive integer', () => {
    assert.throws(() => new JobWindow({ limit: 0 }), RangeError);
    assert.throws(() => new JobWindow({ memory: 1.5 }), RangeError);
  });
});
