import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import type { JobRecord } from '../../jobs/job-record.js';
import { RecordCache } from './record-cache.js';

function record(id: string, version = 1): JobRecord {
  return { id, tenant: 't', state: 'pending', outcome: 'completed', createdAt: 0, dueAt: 1000, updatedAt: 0, duration: 1, version };
}

describe('RecordCache', () => {
  it('keeps the newest state of each job and drops the oldest write beyond its capacity', () => {
    const cache = new RecordCache(() => 1, 2);
    cache.validate();
    cache.set(record('a'));
    cache.set(record('b'));
    cache.set(record('a', 2));
    cache.set(record('c'));
    assert.equal(cache.get('b'), undefined, 'b was written longest ago');
    assert.equal(cache.get('a')?.version, 2);
    assert.equal(cache.get('c')?.version, 1);
  });

  it("empties itself once another connection's commit shows in data_version", async () => {
    let version = 1;
    let asked = 0;
    const cache = new RecordCache(() => (asked++, version));
    cache.validate();
    cache.set(record('a'));
    cache.setTimer('t', 'a');
    version = 2;
    await new Promise((resolve) => setTimeout(resolve, 2));
    cache.validate();
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.timer('t'), undefined);
    assert.equal(asked, 2);
  });

  it('asks SQLite at most once a millisecond', () => {
    let asked = 0;
    const cache = new RecordCache(() => (asked++, 1));
    const started = performance.now();
    for (let i = 0; i < 1000; i++) cache.validate();
    const elapsedMs = performance.now() - started;
    assert.ok(asked <= 1 + Math.ceil(elapsedMs), `asked ${asked} times in ${elapsedMs.toFixed(2)} ms`);
  });
});
