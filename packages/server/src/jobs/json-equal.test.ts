/** JSON values compare by content: member order does not matter, array order and types do. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { jsonEqual } from './json-equal.js';

describe('jsonEqual', () => {
  it('ignores the order of object members', () => {
    assert.equal(jsonEqual({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }), true);
  });

  it('keeps the order of array items', () => {
    assert.equal(jsonEqual([1, 2], [2, 1]), false);
  });

  it('tells values of different types apart', () => {
    assert.equal(jsonEqual(1, '1'), false);
    assert.equal(jsonEqual(null, {}), false);
    assert.equal(jsonEqual([], {}), false);
    assert.equal(jsonEqual({ 0: 'a' }, ['a']), false);
    assert.equal(jsonEqual(0, false), false);
  });

  it('counts a member holding undefined as absent, as JSON.stringify does', () => {
    assert.equal(jsonEqual({ a: 1, b: undefined }, { a: 1 }), true);
    assert.equal(jsonEqual({ a: undefined }, { b: undefined }), true);
  });

  it('finds a difference deep inside', () => {
    assert.equal(jsonEqual({ a: [{ b: 1 }] }, { a: [{ b: 2 }] }), false);
    assert.equal(jsonEqual({ a: 1 }, { a: 1, b: 2 }), false);
    assert.equal(jsonEqual({ a: 1, c: 3 }, { a: 1, b: 3 }), false);
  });

  it('agrees with comparing canonical JSON text (property)', () => {
    const canonical = (v: unknown): string =>
      JSON.stringify(v, (_k, x: unknown) =>
        x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))) : x,
      );
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const same = canonical(a) === canonical(b);
        assert.equal(jsonEqual(a, b), same);
        // A value equals itself after a round trip through JSON text.
        assert.equal(jsonEqual(a, JSON.parse(JSON.stringify(a))), true);
      }),
    );
  });
});
