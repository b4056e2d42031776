import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeSummary, ToastThrottle } from './toast-throttle.js';

describe('ToastThrottle', () => {
  test('lets a few notices through one by one and sums up the rest', () => {
    const throttle = new ToastThrottle({ burst: 3, periodMs: 5000 });
    const shown = [0, 1, 2, 3, 4, 5].map((i) => throttle.admit(i % 2 === 0 ? 'completed' : 'error', i));
    assert.deepEqual(shown, [true, true, true, false, false, false]);
    const summary = throttle.takeSummary(100);
    assert.deepEqual(summary, { total: 3, byStatus: { completed: 1, error: 2, canceled: 0 } });
    assert.equal(describeSummary(summary!), '3 more jobs finished: 1 completed, 2 failed.');
    assert.equal(throttle.takeSummary(200), undefined);
  });

  test('holds everything while a summary is due, so no notice overtakes the held ones', () => {
    const throttle = new ToastThrottle({ burst: 1, periodMs: 1000 });
    assert.equal(throttle.admit('completed', 0), true);
    assert.equal(throttle.admit('completed', 10), false);
    assert.equal(throttle.admit('canceled', 5000), false, 'the period passed, but a summary is still due');
    assert.equal(throttle.holding, true);
    assert.equal(describeSummary(throttle.takeSummary(5000)!), '2 more jobs finished: 1 completed, 1 canceled.');
    assert.equal(throttle.admit('completed', 5001), false, 'the summary itself used this period');
    throttle.takeSummary(5001);
    assert.equal(throttle.admit('completed', 7000), true);
  });

  test('one held job reads in the singular', () => {
    assert.equal(describeSummary({ total: 1, byStatus: { completed: 0, error: 1, canceled: 0 } }), '1 more job finished: 1 failed.');
  });
});
