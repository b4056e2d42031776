import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Job, JobStatus } from '@jobwait/client';
import { OlderPages } from './older-pages.js';
import { WatchList } from './watch-list.js';

function job(n: number, status: JobStatus = 'pending', version = status === 'pending' ? 1 : 2): Job {
  const at = new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
  return { id: `job_01JDQ3M8Z4${String(n).padStart(16, '0')}`, status, progress: 0, etaMs: 0, createdAt: at, dueAt: at, updatedAt: at, duration: 1, version };
}

describe('WatchList', () => {
  test('keeps pinned jobs in pin order, at most `limit`, and updates them in place', () => {
    const watch = new WatchList(2);
    assert.equal(watch.add(job(5)), true);
    assert.equal(watch.add(job(1)), true);
    assert.equal(watch.add(job(9)), false, 'full');
    assert.equal(watch.add(job(5)), true, 'pinning a pinned job again is fine when full');
    assert.deepEqual(watch.ids, [job(5).id, job(1).id]);
    assert.equal(watch.offer(job(1, 'completed')), 'pending', 'tells the status it had before');
    assert.equal(watch.jobs[1]?.status, 'completed');
    assert.equal(watch.offer(job(1, 'pending')), undefined, 'an older snapshot is ignored');
    assert.equal(watch.offer(job(7, 'completed')), undefined, 'not watched');
    assert.equal(watch.remove(job(5).id), true);
    assert.equal(watch.remove(job(5).id), false);
    assert.deepEqual(watch.ids, [job(1).id]);
  });

  test('refuses a limit that is not a positive integer', () => {
    assert.throws(() => new WatchList(0), RangeError);
  });
});

describe('OlderPages', () => {
  test('goes back page by page and returns, with its jobs updated in place and nothing streamed in', () => {
    const pages = new OlderPages();
    pages.push(job(50).id, [job(49), job(48)], true);
    assert.equal(pages.depth, 1);
    assert.equal(pages.offer(job(51)), false, 'a new job does not enter an older page');
    assert.equal(pages.offer(job(48, 'completed')), true);
    assert.deepEqual(
      pages.jobs.map((j) => j.status),
      ['pending', 'completed'],
    );
    pages.push(job(48).id, [job(47)], false);
    assert.equal(pages.depth, 2);
    assert.equal(pages.hasOlder, false);
    assert.equal(pages.previousCursor, job(50).id);
    assert.equal(pages.pop(), true, 'one older page is still to show');
    assert.equal(pages.pop(), false, 'the live list is next');
  });
});
