import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestIdOf } from './request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdOf', () => {
  it("keeps a client's sensible id", () => {
    assert.equal(requestIdOf('trace-1f2e'), 'trace-1f2e');
  });

  it('makes a fresh random UUID (version 4) for none, an odd one or several', () => {
    for (const header of [undefined, 'two words', 'x'.repeat(129), ['a', 'b']]) assert.match(requestIdOf(header), UUID_V4);
  });

  it('never repeats an id, across refills of its random pool', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const id = requestIdOf(undefined);
      assert.match(id, UUID_V4);
      ids.add(id);
    }
    assert.equal(ids.size, 2_000);
  });
});
