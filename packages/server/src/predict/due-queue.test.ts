import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DueQueue } from './due-queue.js';

describe('DueQueue', () => {
  it('gives back exactly the due items, earliest first, and keeps the rest', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 200 }), fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 10 }), (ats, nows) => {
        const queue = new DueQueue<{ at: number; n: number }>();
        ats.forEach((at, n) => queue.push({ at, n }));
        let left = ats.map((at, n) => ({ at, n }));
        for (const now of [...nows].sort((a, b) => a - b)) {
          const due = queue.takeDue(now);
          const expected = left.filter((item) => item.at <= now);
          left = left.filter((item) => item.at > now);
          assert.deepEqual(due.map((item) => item.at), expected.map((item) => item.at).sort((a, b) => a - b));
          assert.deepEqual(new Set(due.map((item) => item.n)), new Set(expected.map((item) => item.n)));
          assert.equal(queue.size, left.length);
          assert.equal(queue.nextAt, left.length === 0 ? Infinity : Math.min(...left.map((item) => item.at)));
        }
      }),
    );
  });

  it('is empty after clear', () => {
    const queue = new DueQueue<{ at: number }>();
    queue.push({ at: 5 });
    queue.clear();
    assert.equal(queue.size, 0);
    assert.deepEqual(queue.takeDue(10), []);
  });
});
