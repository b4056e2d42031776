import assert from 'node:assert/strict';
import { test } from 'node:test';
import { predictedRange } from './predicted-range.js';

const history = (p50Ms: number, p90Ms: number) => ({ basis: 'history' as const, samples: 40, p50Ms, p90Ms, p99Ms: p90Ms * 1.5 });

test('shows the likely time left as a range in the unit of its longer end', () => {
  assert.equal(predictedRange(history(100_000, 170_000)), '2–3 min left');
  assert.equal(predictedRange(history(12_000, 25_000)), '12–25 s left');
  assert.equal(predictedRange(history(20_000, 70_000)), 'under 2 min left');
  assert.equal(predictedRange(history(2 * 3_600_000, 3.5 * 3_600_000)), '2–4 h left');
  assert.equal(predictedRange(history(125_000, 130_000)), '2–3 min left');
  assert.equal(predictedRange(history(120_000, 120_000)), 'about 2 min left');
  assert.equal(predictedRange(history(300, 800)), 'about 1 s left');
});

test('says overdue, and nothing without a prediction', () => {
  assert.equal(predictedRange({ ...history(1000, 2000), overdue: true }), 'overdue');
  assert.equal(predictedRange({ basis: 'history', cold: true, samples: 3 }), undefined);
  assert.equal(predictedRange({ basis: 'worker' }), undefined);
  assert.equal(predictedRange(undefined), undefined);
});
