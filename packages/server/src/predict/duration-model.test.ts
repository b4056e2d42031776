import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DURATION_MODEL_DEFAULTS, addSample, emptyModel, isModelState, modelCdf, modelQuantile, perUnitSeconds, predictEnd, type DurationModelState } from './duration-model.js';

/** mulberry32, and a log-normal draw from it (Box–Muller). */
function logNormal(seed: number, median: number, sigma: number): () => number {
  let a = seed >>> 0;
  const random = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => median * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

function learn(samples: Iterable<number>, state: DurationModelState = emptyModel(), halfLifeSamples = DURATION_MODEL_DEFAULTS.halfLifeSamples): DurationModelState {
  for (const seconds of samples) state = addSample(state, seconds, { halfLifeSamples });
  return state;
}

function draws(draw: () => number, n: number): number[] {
  return Array.from({ length: n }, draw);
}

describe('the duration model', () => {
  test('gives the quantiles of what it saw, within its 5% bins', () => {
    const state = learn(draws(logNormal(1, 60, 0.5), 4000), emptyModel(), 100_000);
    // ln-normal quantiles: 60 s, 60·e^(0.5·1.2816) = 113.9 s, 60·e^(0.5·2.3263) = 192.2 s.
    for (const [p, expected] of [[0.5, 60], [0.9, 113.9], [0.99, 192.2]] as const) {
      const got = modelQuantile(state, p)!;
      assert.ok(Math.abs(got / expected - 1) < 0.08, `p${p * 100}: ${got} vs ${expected}`);
    }
    assert.ok(Math.abs(modelCdf(state, 60) - 0.5) < 0.03);
  });

  test('is calibrated on fresh jobs of the same kind: about half end before p50, 90% before p90', () => {
    const draw = logNormal(7, 300, 0.8);
    let state = learn(draws(draw, 200));
    let before50 = 0;
    let before90 = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const seconds = draw();
      if (seconds < modelQuantile(state, 0.5)!) before50++;
      if (seconds < modelQuantile(state, 0.9)!) before90++;
      state = addSample(state, seconds, DURATION_MODEL_DEFAULTS);
    }
    assert.ok(Math.abs(before50 / n - 0.5) < 0.03, `${before50 / n} before p50`);
    assert.ok(Math.abs(before90 / n - 0.9) < 0.02, `${before90 / n} before p90`);
  });

  test('weighs recent jobs more: after a 2x slow-down its median follows within a few half-lives', () => {
    const fast = learn(draws(logNormal(2, 30, 0.3), 500));
    const median = modelQuantile(fast, 0.5)!;
    assert.ok(Math.abs(median / 30 - 1) < 0.1, `median ${median}`);
    const slow = learn(draws(logNormal(3, 60, 0.3), 5 * DURATION_MODEL_DEFAULTS.halfLifeSamples), fast);
    const after = modelQuantile(slow, 0.5)!;
    assert.ok(Math.abs(after / 60 - 1) < 0.1, `median after the slow-down: ${after}`);
  });

  test('keeps its memory bounded: a bin per 5% of range at most, near-empty ones dropped', () => {
    const wide = learn(draws(logNormal(4, 10, 3), 20_000));
    assert.ok(wide.k.length <= 553, `${wide.k.length} bins`);
    assert.ok(JSON.stringify(wide).length < 16_000, `${JSON.stringify(wide).length} bytes`);
    // The bins of a kind that moved on decay away.
    const moved = learn(Array(2000).fill(1000), learn(Array(100).fill(1)));
    assert.deepEqual(moved.k, [Math.floor(Math.log(1000) / 0.05)]);
    assert.equal(moved.n, 2100);
  });

  test('ignores durations that are not positive and finite, and round-trips through JSON', () => {
    const state = learn([10, 20, 30]);
    assert.equal(addSample(state, 0, DURATION_MODEL_DEFAULTS), state);
    assert.equal(addSample(state, Number.NaN, DURATION_MODEL_DEFAULTS), state);
    assert.equal(addSample(state, Infinity, DURATION_MODEL_DEFAULTS), state);
    const copy: unknown = JSON.parse(JSON.stringify(state));
    assert.ok(isModelState(copy));
    assert.deepEqual(copy, state);
    assert.equal(isModelState({ v: 2 }), false);
    assert.equal(modelQuantile(emptyModel(), 0.5), undefined);
  });

  test('learns per unit of size', () => {
    assert.equal(perUnitSeconds(60_000, 4), 15);
    assert.equal(perUnitSeconds(60_000, undefined), 60);
    assert.equal(perUnitSeconds(60_000, 0), 60);
  });
});

describe('predictEnd', () => {
  const options = DURATION_MODEL_DEFAULTS;
  const state = learn(draws(logNormal(5, 10, 0.4), 400));

  test('says a kind is cold below minSamples, and predicts nothing', () => {
    assert.deepEqual(predictEnd(learn([1, 2, 3]), { ageMs: 0 }, options), { cold: true, samples: 3 });
  });

  test('predicts the remaining time of a new job from the quantiles, scaled by its size', () => {
    const one = predictEnd(state, { ageMs: 0 }, options);
    assert.ok(!one.cold && one.remaining);
    assert.ok(Math.abs(one.remaining.p50Ms / 10_000 - 1) < 0.1, `p50 ${one.remaining.p50Ms}`);
    const three = predictEnd(state, { ageMs: 0, size: 3 }, options);
    assert.ok(!three.cold && three.remaining);
    assert.ok(Math.abs(three.remaining.p50Ms / (3 * one.remaining.p50Ms) - 1) < 0.01);
    assert.ok(one.remaining.p50Ms <= one.remaining.p90Ms && one.remaining.p90Ms <= one.remaining.p99Ms);
    assert.equal(one.samples, 400);
  });

  test('moves a passed prediction on: the remaining time given the job still runs, never 0', () => {
    for (const ageMs of [0, 5000, 10_000, 15_000, 20_000, 25_000]) {
      const prediction = predictEnd(state, { ageMs }, options);
      assert.ok(!prediction.cold && prediction.remaining, `age ${ageMs}`);
      assert.ok(prediction.remaining.p50Ms >= 1);
      // Past its median, the job's p50 lies after its age: not the unconditional p50 in the past.
      if (ageMs >= 10_000) assert.ok(prediction.remaining.p50Ms < prediction.remaining.p99Ms);
    }
  });

  test('calls a job overdue past p99 times the factor, not before, and only with enough samples', () => {
    const p99 = modelQuantile(state, 0.99)! * 1000;
    assert.equal((predictEnd(state, { ageMs: p99 * 1.4 }, options) as { overdue: boolean }).overdue, false);
    assert.equal((predictEnd(state, { ageMs: p99 * 1.6 }, options) as { overdue: boolean }).overdue, true);
    const few = learn(draws(logNormal(6, 10, 0.4), 30));
    assert.equal((predictEnd(few, { ageMs: 10_000_000 }, options) as { overdue: boolean }).overdue, false);
  });

  test('gives no quantiles for a job past everything seen', () => {
    const prediction = predictEnd(state, { ageMs: 1e9 }, options);
    assert.ok(!prediction.cold);
    assert.equal(prediction.remaining, undefined);
    assert.equal(prediction.overdue, true);
  });
});
