import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { jobView, type JobRecord } from '../jobs/job-record.js';
import { jobBody, knownVersion } from './job-answer.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

const record: fc.Arbitrary<JobRecord> = fc
  .record({
    id: fc.stringMatching(/^job_[0-9A-Z]{26}$/),
    tenant: fc.constant('t'),
    state: fc.constantFrom('pending', 'completed', 'error', 'canceled'),
    outcome: fc.constantFrom('completed', 'error'),
    createdAt: fc.integer({ min: T0, max: T0 + 1e9 }),
    durationMs: fc.integer({ min: 1, max: 86_400_000 }),
    updatedAfter: fc.integer({ min: 0, max: 1e8 }),
    version: fc.integer({ min: 1, max: 3 }),
    metadata: fc.option(fc.jsonValue().map((v) => ({ v, 'ü "q"': '\u2028' })), { nil: undefined }),
    callbackUrl: fc.option(fc.webUrl(), { nil: undefined }),
    notifyEmail: fc.option(fc.emailAddress(), { nil: undefined }),
  })
  .map(({ durationMs, updatedAfter, ...r }) => ({ ...r, dueAt: r.createdAt + durationMs, updatedAt: r.createdAt + updatedAfter, duration: durationMs / 1000 }) as JobRecord);

describe('jobBody', () => {
  it('is JSON.stringify(jobView(record, now)) for any record at any time, read after read', () => {
    fc.assert(
      fc.property(record, fc.array(fc.integer({ min: -1e6, max: 2e9 }), { minLength: 1, maxLength: 6 }), (job, offsets) => {
        // The same record read at several times (also going back): the cached template must follow.
        for (const offset of offsets) {
          const now = job.createdAt + offset;
          assert.equal(jobBody(job, now), JSON.stringify(jobView(job, now)));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('knownVersion', () => {
  it('reads the version of this job from If-None-Match, weak or strong, among several tags', () => {
    assert.equal(knownVersion('W/"job_A.3"', 'job_A'), 3);
    assert.equal(knownVersion('"x.1", "job_A.2"', 'job_A'), 2);
    assert.equal(knownVersion('W/"job_B.3"', 'job_A'), undefined);
    assert.equal(knownVersion('*', 'job_A'), undefined);
    assert.equal(knownVersion(undefined, 'job_A'), undefined);
  });
});
