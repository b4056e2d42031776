import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeDone, describeScope, matchesScope, parseScope, scopeKey, scopeParams } from './job-scope.js';

describe('job scope', () => {
  test('reads a batch id (any case) as a batch, anything else tag-shaped as a tag, and says what is wrong otherwise', () => {
    assert.deepEqual(parseScope(' bat_01jdq3m8z4aaaaaaaaaaaaaaaa '), { scope: { kind: 'batch', id: 'bat_01JDQ3M8Z4AAAAAAAAAAAAAAAA' } });
    assert.deepEqual(parseScope('nightly:2026-12'), { scope: { kind: 'tag', tag: 'nightly:2026-12' } });
    assert.deepEqual(parseScope('bat_short'), { scope: { kind: 'tag', tag: 'bat_short' } });
    assert.ok('error' in parseScope(''));
    assert.ok('error' in parseScope('<img src=x>'));
    assert.ok('error' in parseScope('-dash'));
    assert.ok('error' in parseScope('x'.repeat(65)));
  });

  test('a job belongs to a batch by its batchId and to a tag by its tags; every job to no scope', () => {
    const job = { tags: ['a', 'b'], batchId: 'bat_1' };
    assert.equal(matchesScope(job, undefined), true);
    assert.equal(matchesScope(job, { kind: 'tag', tag: 'b' }), true);
    assert.equal(matchesScope(job, { kind: 'tag', tag: 'c' }), false);
    assert.equal(matchesScope(job, { kind: 'batch', id: 'bat_1' }), true);
    assert.equal(matchesScope({}, { kind: 'batch', id: 'bat_1' }), false);
    assert.equal(matchesScope({}, { kind: 'tag', tag: 'a' }), false);
  });

  test('words, keys and query parameters', () => {
    assert.equal(describeScope({ kind: 'tag', tag: 'x' }), 'Tag x');
    assert.equal(describeScope({ kind: 'batch', id: 'bat_1' }), 'Batch bat_1');
    assert.equal(scopeKey(undefined), '');
    assert.notEqual(scopeKey({ kind: 'tag', tag: 'bat_1' }), scopeKey({ kind: 'batch', id: 'bat_1' }));
    assert.deepEqual(scopeParams({ kind: 'tag', tag: 'x' }), { tag: 'x' });
    assert.deepEqual(scopeParams({ kind: 'batch', id: 'bat_1' }), { batch: 'bat_1' });
    assert.equal(describeDone({ total: 5, pending: 2 }), '3 of 5 done');
    assert.equal(describeDone({ total: 0, pending: 0 }), '0 of 0 done');
  });
});
