import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../errors/errors.js';
import { EndDistribution, isEndPrediction, normalCdf, normalQuantile } from './end-distribution.js';
import { LATENESS_BOUND_DEFAULTS, PREDICTED_SCHEDULE_DEFAULTS, nextPredictedDelay, normalizePredictedScheduleOptions, type PredictedLength } from './predicted-schedule.js';
import { SCHEDULE_DEFAULTS, nextPollDelay } from './schedule.js';

/** Seeded uniform draws (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log-normal job length (ms) and what a server that knows its distribution predicts at an age: the remaining time's quantiles given it still runs. */
class LogNormalKind {
  constructor(
    readonly medianMs: number,
    readonly sigma: number,
  ) {}

  cdf(ms: number): number {
    return ms <= 0 ? 0 : normalCdf(Math.log(ms / this.medianMs) / this.sigma);
  }

  draw(random: () => number): number {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return this.medianMs * Math.exp(this.sigma * z);
  }

  /** What a server that knows the kind tells of a job of age `ageMs`. */
  predict(ageMs: number): PredictedLength {
    const at = (z: number): number => this.medianMs * Math.exp(this.sigma * z);
    return { ageMs, length: { p50Ms: at(0), p90Ms: at(1.2815515655446004), p99Ms: at(2.3263478740408408) } };
  }
}

interface Seen {
  looks: number;
  latenessMs: number;
}

/** Replays a wait without sleeping: look at 0, then after every pending look wait as `delay` says. */
function detect(lengthMs: number, delay: (waitedMs: number, attempt: number) => number): Seen {
  let now = 0;
  for (let looks = 1; ; looks++) {
    if (now >= lengthMs) return { looks, latenessMs: now - lengthMs };
    const gap = delay(now, looks);
    assert.ok(Number.isFinite(gap) && gap >= 0, `gap ${gap} at ${now}`);
    assert.ok(looks < 10_000, 'never reached the end');
    now += gap;
  }
}

describe('EndDistribution', () => {
  test('passes through the three quantiles it was built from', () => {
    const end = new EndDistribution({ p50Ms: 10_000, p90Ms: 20_000, p99Ms: 50_000 });
    assert.ok(Math.abs(end.cdf(10_000) - 0.5) < 1e-6);
    assert.ok(Math.abs(end.cdf(20_000) - 0.9) < 1e-6);
    assert.ok(Math.abs(end.cdf(50_000) - 0.99) < 1e-6);
    assert.equal(end.cdf(0), 0);
  });

  test('is the remaining time of a job still running at its age', () => {
    const length = { p50Ms: 10_000, p90Ms: 20_000, p99Ms: 50_000 };
    const fresh = new EndDistribution(length);
    const old = new EndDistribution(length, 10_000);
    // Half the jobs are over by 10 s; of those left, (0.9 - 0.5) / 0.5 = 80% are over 10 s later.
    assert.ok(Math.abs(old.cdf(10_000) - 0.8) < 1e-6);
    assert.ok(old.cdf(1000) > fresh.cdf(1000));
    assert.equal(new EndDistribution(length, 1e12).usable, false);
  });

  test('expected lateness is 0 at once and rises to the time past the median', () => {
    const end = new EndDistribution({ p50Ms: 10_000, p90Ms: 12_000, p99Ms: 14_000 });
    assert.equal(end.expectedLateness(0), 0);
    assert.ok(end.expectedLateness(5000) < 1);
    // Long after a narrow distribution, a look is about (look - mean) late.
    assert.ok(Math.abs(end.expectedLateness(100_000) - 90_000) < 1000);
  });

  test('lengthQuantile inverts the length distribution', () => {
    const end = new EndDistribution({ p50Ms: 10_000, p90Ms: 20_000, p99Ms: 50_000 }, 5000);
    assert.ok(Math.abs(end.lengthQuantile(0.5) - 10_000) < 1);
    assert.ok(Math.abs(end.lengthQuantile(0.99) - 50_000) < 5);
    // Below p50 the p50–p90 spread is mirrored.
    assert.ok(Math.abs(end.lengthQuantile(0.1) - 5000) < 1);
  });

  test('normalQuantile inverts normalCdf', () => {
    for (const p of [1e-6, 0.005, 0.1, 0.5, 0.9, 0.995, 1 - 1e-6]) assert.ok(Math.abs(normalCdf(normalQuantile(p)) - p) < 1e-6 * Math.max(1, p / 0.01), String(p));
    assert.equal(normalQuantile(0), -Infinity);
    assert.equal(normalQuantile(1), Infinity);
  });

  test('accepts only finite, positive, ordered quantiles', () => {
    assert.equal(isEndPrediction({ p50Ms: 1, p90Ms: 2, p99Ms: 3 }), true);
    assert.equal(isEndPrediction({ p50Ms: 1, p90Ms: 1, p99Ms: 1 }), true);
    for (const bad of [undefined, null, {}, { p50Ms: 0, p90Ms: 2, p99Ms: 3 }, { p50Ms: 3, p90Ms: 2, p99Ms: 3 }, { p50Ms: 1, p90Ms: 2, p99Ms: Infinity }, { p50Ms: '1', p90Ms: 2, p99Ms: 3 }]) {
      assert.equal(isEndPrediction(bad), false, JSON.stringify(bad));
    }
  });
});

describe('nextPredictedDelay', () => {
  test('without a prediction, or past every length it knows, is the bounded schedule', () => {
    for (const [waitedMs, attempt] of [[0, 0], [500, 1], [10_000, 9], [300_000, 30]] as const) {
      assert.equal(nextPredictedDelay({ waitedMs, attempt, prediction: undefined }), nextPollDelay(attempt, waitedMs, SCHEDULE_DEFAULTS));
      const passed = { ageMs: 1e9, length: { p50Ms: 1000, p90Ms: 2000, p99Ms: 3000 } };
      assert.equal(nextPredictedDelay({ waitedMs, attempt, prediction: passed }), nextPollDelay(attempt, waitedMs, SCHEDULE_DEFAULTS));
    }
  });

  test('skips the time where the job is unlikely to end, up to the bound relative to the time waited', () => {
    const prediction = { ageMs: 0, length: { p50Ms: 60_000, p90Ms: 114_000, p99Ms: 192_000 } };
    // Waited 0: the bound allows only minDelayMs.
    assert.equal(nextPredictedDelay({ waitedMs: 0, attempt: 1, prediction }), 500);
    // Waited 4 s with the end 30+ s away: the whole relative bound, 0.5 + 2 × 4 s.
    const relative = normalizePredictedScheduleOptions({ maxRelativeDelay: 2, maxLateness: false });
    assert.equal(nextPredictedDelay({ waitedMs: 4000, attempt: 3, prediction: { ...prediction, ageMs: 4000 } }, relative), 8500);
  });

  test('looks densely where the end is likely: gaps shrink as the likely end comes near', () => {
    const kind = new LogNormalKind(60_000, 0.3);
    const far = nextPredictedDelay({ waitedMs: 20_000, attempt: 4, prediction: kind.predict(20_000) });
    const near = nextPredictedDelay({ waitedMs: 55_000, attempt: 6, prediction: kind.predict(55_000) });
    assert.ok(far > near, `far ${far}, near ${near}`);
    assert.ok(near < 0.2 * 55_000, `near ${near}`);
  });

  test('never exceeds minDelayMs + maxRelativeDelay × waited, nor maxDelayMs', () => {
    const prediction = { ageMs: 0, length: { p50Ms: 1e9, p90Ms: 2e9, p99Ms: 3e9 } };
    for (const waitedMs of [0, 1000, 60_000, 3_600_000]) {
      assert.ok(nextPredictedDelay({ waitedMs, attempt: 3, prediction: { ...prediction, ageMs: waitedMs } }) <= 500 + 20 * waitedMs);
    }
    const capped = normalizePredictedScheduleOptions({ maxDelayMs: 5000 });
    assert.equal(nextPredictedDelay({ waitedMs: 3_600_000, attempt: 3, prediction }, capped), 5000);
  });

  test("on jobs whose distribution it is told: the bounded schedule's mean lateness with at most 70% of its looks", () => {
    const random = seeded(17);
    const kinds = [new LogNormalKind(30_000, 0.3), new LogNormalKind(120_000, 0.5), new LogNormalKind(600_000, 0.8)];
    let looksPredicted = 0;
    let looksBounded = 0;
    let latePredicted = 0;
    let lateBounded = 0;
    const jobs = Number(process.env.JOBS ?? 300);
    for (let i = 0; i < jobs; i++) {
      const kind = kinds[i % kinds.length]!;
      const length = kind.draw(random);
      const predicted = detect(length, (waitedMs, attempt) => nextPredictedDelay({ waitedMs, attempt, prediction: kind.predict(waitedMs) }));
      const bounded = detect(length, (waitedMs, attempt) => nextPollDelay(attempt - 1, waitedMs, SCHEDULE_DEFAULTS));
      looksPredicted += predicted.looks;
      looksBounded += bounded.looks;
      latePredicted += predicted.latenessMs;
      lateBounded += bounded.latenessMs;
    }
    // The benchmark's trace (sizes spread 10x, a 2x slow-down: longer jobs) shows under 60%.
    assert.ok(looksPredicted <= 0.7 * looksBounded, `${looksPredicted} looks vs ${looksBounded}`);
    assert.ok(latePredicted <= lateBounded, `mean lateness ${latePredicted / jobs} ms vs ${lateBounded / jobs} ms`);
  });

  describe('maxLateness', () => {
    const kinds = [new LogNormalKind(30_000, 0.3), new LogNormalKind(120_000, 0.5), new LogNormalKind(600_000, 0.8)];
    /** The `fromQuantile` length of a kind: where the bound starts. */
    const lowEnd = (kind: LogNormalKind, quantile: number): number => kind.medianMs * Math.exp(kind.sigma * normalQuantile(quantile));

    test('past the low end of the predicted lengths, no gap lets a job be seen later than share × its length + slack', () => {
      for (const bound of [LATENESS_BOUND_DEFAULTS, { share: 0.05, slackMs: 0, fromQuantile: 0.05 }]) {
        const options = normalizePredictedScheduleOptions({ maxLateness: bound });
        for (const kind of kinds) {
          const low = lowEnd(kind, bound.fromQuantile);
          // Through the bulk and well into the high tail (the bound has no upper end while the prediction is usable).
          for (let waitedMs = 0; waitedMs < kind.medianMs * Math.exp(kind.sigma * 3.5); waitedMs += kind.medianMs / 97) {
            const gap = nextPredictedDelay({ waitedMs, attempt: 3, prediction: kind.predict(waitedMs) }, options);
            // The job most late after this gap ends just after it starts, or at the low end.
            const earliest = Math.max(waitedMs, low);
            assert.ok(waitedMs + gap <= earliest * (1 + bound.share) + bound.slackMs + 1, `sigma ${kind.sigma}, waited ${waitedMs}: gap ${gap}`);
          }
        }
      }
    });

    test("sees 99% of jobs drawn from the prediction within 10% of their length + 1 s, with at most 70% of the bounded schedule's looks", () => {
      const random = seeded(7);
      let late = 0;
      let looksPredicted = 0;
      let looksBounded = 0;
      const jobs = 900;
      for (let i = 0; i < jobs; i++) {
        const kind = kinds[i % kinds.length]!;
        const length = kind.draw(random);
        const seen = detect(length, (waitedMs, attempt) => nextPredictedDelay({ waitedMs, attempt, prediction: kind.predict(waitedMs) }));
        if (seen.latenessMs > 0.1 * length + 1000) late++;
        looksPredicted += seen.looks;
        looksBounded += detect(length, (waitedMs, attempt) => nextPollDelay(attempt - 1, waitedMs, SCHEDULE_DEFAULTS)).looks;
      }
      assert.ok(late <= 0.01 * jobs, `${late} of ${jobs} jobs late`);
      assert.ok(looksPredicted <= 0.7 * looksBounded, `${looksPredicted} looks vs ${looksBounded}`);
    });

    test('before the low end, looks stay sparse: the bound does not apply there', () => {
      const kind = new LogNormalKind(600_000, 0.3);
      const gap = nextPredictedDelay({ waitedMs: 10_000, attempt: 3, prediction: kind.predict(10_000) });
      assert.ok(gap > 0.1 * 10_000 + 1000, `gap ${gap}`);
      assert.ok(10_000 + gap <= lowEnd(kind, 0.005) * 1.1 + 1000 + 1, `gap ${gap}`);
    });

    test('off (false), gaps may exceed it; without a prediction, the bounded schedule decides either way', () => {
      const kind = new LogNormalKind(600_000, 0.8);
      const at = 900_000;
      const off = nextPredictedDelay({ waitedMs: at, attempt: 9, prediction: kind.predict(at) }, normalizePredictedScheduleOptions({ maxLateness: false, maxLookWorthMs: 1e9 }));
      assert.ok(off > 0.1 * at + 1000, `gap ${off}`);
      for (const maxLateness of [undefined, false, { share: 0.01 }] as const) {
        const options = normalizePredictedScheduleOptions({ maxLateness });
        for (const [waitedMs, attempt] of [[0, 0], [10_000, 9], [300_000, 30]] as const) {
          assert.equal(nextPredictedDelay({ waitedMs, attempt, prediction: undefined }, options), nextPollDelay(attempt, waitedMs, SCHEDULE_DEFAULTS));
        }
      }
    });
  });

  test('a job that ends against a wrong prediction is still seen within the relative bound', () => {
    const wrong = new LogNormalKind(600_000, 0.3);
    for (const length of [100, 1000, 5000, 30_000, 2_000_000]) {
      const seen = detect(length, (waitedMs, attempt) => nextPredictedDelay({ waitedMs, attempt, prediction: wrong.predict(waitedMs) }));
      assert.ok(seen.latenessMs <= 500 + 20 * length, `length ${length}: ${seen.latenessMs} ms late`);
    }
  });
});

describe('normalizePredictedScheduleOptions', () => {
  test('fills defaults', () => {
    assert.equal(normalizePredictedScheduleOptions(undefined), PREDICTED_SCHEDULE_DEFAULTS);
    assert.deepEqual(normalizePredictedScheduleOptions({ lookWorthShare: 0.05 }), { ...PREDICTED_SCHEDULE_DEFAULTS, lookWorthShare: 0.05 });
    assert.deepEqual(normalizePredictedScheduleOptions({ maxLateness: { share: 0.2 } }).maxLateness, { ...LATENESS_BOUND_DEFAULTS, share: 0.2 });
    assert.equal(normalizePredictedScheduleOptions({ maxLateness: false }).maxLateness, false);
  });

  for (const bad of [{ lookWorthShare: 0 }, { lookWorthShare: 1 }, { minDelayMs: -1 }, { maxRelativeDelay: 0 }, { maxLookWorthMs: Number.NaN }, { maxDelayMs: 10 },
    { maxLateness: { share: 0 } }, { maxLateness: { slackMs: -1 } }, { maxLateness: { fromQuantile: 0 } }, { maxLateness: { fromQuantile: 0.6 } }, { maxLateness: { share: Infinity } }, { maxLateness: null }, { maxLateness: true }]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => normalizePredictedScheduleOptions(bad as never), InvalidOptionError);
    });
  }
});
