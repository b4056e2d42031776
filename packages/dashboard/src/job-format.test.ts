import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Job } from '@jobwait/client';
import { clockSkew, describeState, formatDuration, matchesFilter, parseDuration, predictedSuffix, progressAt, remainingAt, resultDisplay } from './job-format.js';

const T0 = Date.parse('2026-01-01T12:00:00.000Z');

function job(overrides: Partial<Job> = {}): Job {
  return {
    id: 'job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2',
    status: 'pending',
    progress: 0,
    etaMs: 10_000,
    createdAt: new Date(T0).toISOString(),
    dueAt: new Date(T0 + 10_000).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    duration: 10,
    version: 1,
    ...overrides,
  };
}

describe('progress between events', () => {
  test('moves a pending job on from createdAt to dueAt', () => {
    assert.equal(progressAt(job(), T0, 0), 0);
    assert.equal(progressAt(job(), T0 + 2500, 0), 0.25);
    assert.equal(progressAt(job(), T0 + 10_000, 0), 1);
    assert.equal(progressAt(job(), T0 + 60_000, 0), 1);
    assert.equal(progressAt(job(), T0 - 5000, 0), 0);
  });

  test('counts on the server clock: a browser 3 s behind adds the skew', () => {
    assert.equal(progressAt(job(), T0 - 3000 + 5000, 3000), 0.5);
    assert.equal(remainingAt(job(), T0 - 3000 + 5000, 3000), 5000);
  });

  test('shows the server value once final', () => {
    assert.equal(progressAt(job({ status: 'canceled', progress: 0.4 }), T0 + 9000, 0), 0.4);
    assert.equal(progressAt(job({ status: 'completed', progress: 1 }), T0, 0), 1);
    assert.equal(remainingAt(job({ status: 'completed' }), T0, 0), 0);
  });

  test('measures the skew from a fresh pending snapshot only', () => {
    // Sent when the server clock read T0 + 4 s (6 s left); received at local T0 + 1 s: the server is 3 s ahead.
    assert.equal(clockSkew(job({ etaMs: 6000 }), T0 + 1000), 3000);
    assert.equal(clockSkew(job({ status: 'completed', etaMs: 0 }), T0), undefined);
    assert.equal(clockSkew(job({ etaMs: 0 }), T0), undefined);
  });
});

describe('filtering', () => {
  test('filters by status, empty meaning all', () => {
    assert.equal(matchesFilter(job(), ''), true);
    assert.equal(matchesFilter(job(), 'pending'), true);
    assert.equal(matchesFilter(job(), 'completed'), false);
  });
});

describe('words', () => {
  test('formats durations for people', () => {
    assert.equal(formatDuration(0), '0 s');
    assert.equal(formatDuration(400), '0.4 s');
    assert.equal(formatDuration(2000), '2 s');
    assert.equal(formatDuration(9_960), '10 s');
    assert.equal(formatDuration(12_400), '12 s');
    assert.equal(formatDuration(60_000), '1 min');
    assert.equal(formatDuration(125_000), '2 min 5 s');
    assert.equal(formatDuration(3_600_000), '1 h');
    assert.equal(formatDuration(5_400_000), '1 h 30 min');
  });

  test('describes each state', () => {
    const time = (iso: string): string => iso.slice(11, 19);
    assert.equal(describeState(job(), 3200, time), '3.2 s left');
    assert.equal(describeState(job(), 0, time), 'Finishing…');
    assert.equal(describeState(job({ status: 'completed', updatedAt: '2026-01-01T12:00:10.000Z' }), 0, time), 'Completed at 12:00:10');
    assert.equal(describeState(job({ status: 'error', error: { code: 'x', message: 'boom' } }), 0, time), 'Failed at 12:00:00: boom (x)');
    assert.equal(describeState(job({ status: 'error', error: { code: 'JOB_FAILED', message: 'the simulated job failed' } }), 0, time), 'Failed at 12:00:00: the simulated job failed');
    assert.equal(describeState(job({ status: 'canceled' }), 0, time), 'Canceled at 12:00:00');
  });

  test('reads the duration field, refusing what the server would refuse', () => {
    assert.deepEqual(parseDuration(' 2.5 '), { seconds: 2.5 });
    for (const text of ['', '0', '-1', 'abc', 'Infinity', 'NaN']) assert.ok('error' in parseDuration(text), text);
  });
});

describe("resultDisplay", () => {
  test('links an http(s) URL, given as the result or as its url member', () => {
    assert.deepEqual(resultDisplay('https://cdn.example/a.mp4'), { href: 'https://cdn.example/a.mp4', text: 'https://cdn.example/a.mp4' });
    assert.deepEqual(resultDisplay({ url: 'http://cdn.example/b.mp4', language: 'fr' }), { href: 'http://cdn.example/b.mp4', text: 'http://cdn.example/b.mp4' });
  });

  test('never links another scheme: javascript:, data:, file: and relative paths stay text', () => {
    for (const value of ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'file:///etc/passwd', '/relative/path', '//cdn.example/x']) {
      const shown = resultDisplay(value);
      assert.ok(shown && !('href' in shown), value);
      assert.equal(shown.text, value);
    }
    assert.ok(!('href' in (resultDisplay({ url: 'javascript:alert(1)' }) ?? {})));
  });

  test('shows other results as text (JSON), cut at 200 characters, and nothing without a result', () => {
    assert.deepEqual(resultDisplay({ words: 120 }), { text: '{"words":120}' });
    assert.deepEqual(resultDisplay(42), { text: '42' });
    assert.equal(resultDisplay('x'.repeat(300))?.text.length, 201);
    assert.equal(resultDisplay(undefined), undefined);
    assert.equal(resultDisplay(null), undefined);
  });
});

describe('predicted ends', () => {
  const reported = (expectedEnd: NonNullable<Job['expectedEnd']>): Job => ({ id: 'job_1', status: 'pending', progress: 0, createdAt: '2026-12-01T10:00:00.000Z', updatedAt: '2026-12-01T10:00:00.000Z', version: 1, expectedEnd });

  test('a reported job without its worker\'s estimate shows what history predicts, as a range', () => {
    const job = reported({ basis: 'history', samples: 40, p50Ms: 100_000, p90Ms: 170_000, p99Ms: 240_000 });
    assert.equal(predictedSuffix(job), ' · 2–3 min left');
    assert.equal(describeState(job, 0, (iso) => iso), 'Waiting for a worker · 2–3 min left');
    assert.equal(describeState({ ...job, startedAt: job.createdAt, message: 'Encoding' }, 0, (iso) => iso), 'Encoding · 2–3 min left');
  });

  test('overdue says so; a cold kind shows nothing', () => {
    assert.equal(predictedSuffix(reported({ basis: 'history', samples: 80, overdue: true })), ' · overdue');
    assert.equal(predictedSuffix(reported({ basis: 'history', cold: true, samples: 3 })), '');
  });
});
