/** The report body: what the schema refuses, and the rules across members it cannot say. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parseReportBody, reportBodyLimit, ReportBody, REPORT_BODY_OVERHEAD_BYTES } from './report-schemas.js';

// The server's body validator settings (build-server.ts): no coercion, no removal.
const validate = new Ajv({ allErrors: false, useDefaults: true, removeAdditional: false, strict: false, coerceTypes: false }).compile(ReportBody);

describe('ReportBody schema', () => {
  it('accepts each event with its members', () => {
    for (const body of [
      { event: 'started' },
      { event: 'progress', progress: 0.5, message: 'step 2 of 4', etaSeconds: 30, at: '2026-12-02T01:00:00.000Z' },
      { event: 'heartbeat' },
      { event: 'completed', result: { url: 'https://cdn.example/v.mp4' } },
      { event: 'completed', result: null },
      { event: 'failed', error: { code: 'ASR_TIMEOUT', message: 'speech recognition timed out' } },
      { event: 'progress', at: '2026-12-02T01:00:00+02:00' },
    ]) {
      assert.equal(validate(body), true, JSON.stringify(body));
    }
  });

  it('refuses wrong types, unknown events, out-of-range numbers and unknown members', () => {
    for (const body of [
      {},
      { event: 'done' },
      { event: 'progress', progress: 1.01 },
      { event: 'progress', progress: -0.1 },
      { event: 'progress', progress: '0.5' },
      { event: 'progress', etaSeconds: 0 },
      { event: 'progress', etaSeconds: -1 },
      { event: 'progress', message: 'x'.repeat(1001) },
      { event: 'progress', message: 5 },
      { event: 'failed', error: { code: '', message: 'm' } },
      { event: 'failed', error: { code: 'E' } },
      { event: 'failed', error: 'boom' },
      { event: 'failed', error: { code: 'has space', message: 'm' } },
      { event: 'progress', at: 'yesterday' },
      { event: 'progress', at: 1733100000000 },
      { event: 'progress', token: 'jwr_x' },
      [],
      null,
    ]) {
      assert.equal(validate(body), false, JSON.stringify(body));
    }
  });
});

describe('parseReportBody', () => {
  it('turns a body into a report, at in epoch milliseconds', () => {
    assert.deepEqual(parseReportBody({ event: 'progress', progress: 0.25, message: 'm', etaSeconds: 12.5, at: '2026-12-02T01:00:00.250Z' }, 1000), {
      report: { event: 'progress', progress: 0.25, message: 'm', etaSeconds: 12.5, at: Date.UTC(2026, 11, 2, 1, 0, 0, 250) },
    });
  });

  it('keeps a falsy result', () => {
    assert.deepEqual(parseReportBody({ event: 'completed', result: 0 }, 1000), { report: { event: 'completed', result: 0 } });
    assert.deepEqual(parseReportBody({ event: 'completed', result: null }, 1000), { report: { event: 'completed', result: null } });
  });

  it('refuses a result with any event but completed, an error with any but failed', () => {
    assert.deepEqual(parseReportBody({ event: 'progress', result: 1 }, 1000), { problem: { kind: 'invalid', message: 'result is only allowed with event "completed"' } });
    assert.deepEqual(parseReportBody({ event: 'completed', error: { code: 'E', message: 'm' } }, 1000), { problem: { kind: 'invalid', message: 'error is only allowed with event "failed"' } });
  });

  it('refuses an at that has the shape of a time but is none', () => {
    const out = parseReportBody({ event: 'progress', at: '2026-13-45T99:99:99Z' }, 1000);
    assert.ok('problem' in out && out.problem.kind === 'invalid');
  });

  it('refuses a result over the limit by its JSON bytes, and takes one at the limit', () => {
    const atLimit = 'é'.repeat(499); // 998 bytes of UTF-8 + 2 quotes
    assert.ok('report' in parseReportBody({ event: 'completed', result: atLimit }, 1000));
    assert.deepEqual(parseReportBody({ event: 'completed', result: atLimit + 'x' }, 1000), { problem: { kind: 'result-too-large', bytes: 1001, limit: 1000 } });
  });

  it('sets the route body limit to the result limit plus 16 KiB', () => {
    assert.equal(REPORT_BODY_OVERHEAD_BYTES, 16_384);
    assert.equal(reportBodyLimit(262_144), 278_528);
  });
});
