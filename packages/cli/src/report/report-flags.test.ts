/** Parsing what a worker reports from the command line. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../exit-codes.js';
import { parseErrorCode, parseEta, parseMessage, parseProgress, parseResult, reportJobId, reportToken } from './report-flags.js';

describe('report flags', () => {
  it('takes the token from --token, else from JOBWAIT_REPORT_TOKEN, else refuses', () => {
    assert.equal(reportToken('jwr_a', { JOBWAIT_REPORT_TOKEN: 'jwr_b' }), 'jwr_a');
    assert.equal(reportToken(undefined, { JOBWAIT_REPORT_TOKEN: 'jwr_b' }), 'jwr_b');
    assert.throws(() => reportToken(undefined, {}), (e) => e instanceof UsageError && /JOBWAIT_REPORT_TOKEN/.test(e.message));
    assert.throws(() => reportToken('', {}), UsageError);
  });

  it('takes exactly one job id', () => {
    assert.equal(reportJobId('report', ['job_1']), 'job_1');
    assert.throws(() => reportJobId('report', []), /exactly one argument/);
    assert.throws(() => reportJobId('report', ['a', 'b']), /exactly one argument/);
  });

  it('reads progress as a fraction or a percentage', () => {
    assert.equal(parseProgress('0.4'), 0.4);
    assert.equal(parseProgress('40%'), 0.4);
    assert.equal(parseProgress('0'), 0);
    assert.equal(parseProgress('100%'), 1);
    assert.equal(parseProgress(undefined), undefined);
    for (const bad of ['', '%', '1.2', '-0.1', '140%', 'half', 'NaN', 'Infinity']) assert.throws(() => parseProgress(bad), UsageError, bad);
  });

  it('reads an ETA in seconds > 0, never 0 for unknown', () => {
    assert.equal(parseEta('90'), 90);
    assert.equal(parseEta('2.5'), 2.5);
    for (const bad of ['0', '-1', '', 'soon']) assert.throws(() => parseEta(bad), /leave it out when unknown/, bad);
  });

  it('reads a result as JSON when it parses, else as text', () => {
    assert.deepEqual(parseResult('{"url":"https://cdn.example/v.mp4"}'), { url: 'https://cdn.example/v.mp4' });
    assert.equal(parseResult('42'), 42);
    assert.equal(parseResult('"42"'), '42');
    assert.equal(parseResult('null'), null);
    assert.equal(parseResult('https://cdn.example/v.mp4'), 'https://cdn.example/v.mp4');
    assert.equal(parseResult(undefined), undefined);
  });

  it('checks a message against the server\'s 1000 characters', () => {
    assert.equal(parseMessage('x'.repeat(1000))?.length, 1000);
    assert.throws(() => parseMessage('x'.repeat(1001)), /at most 1000/);
  });

  it('reads an error code, JOB_FAILED by default', () => {
    assert.equal(parseErrorCode(undefined), 'JOB_FAILED');
    assert.equal(parseErrorCode('ASR_TIMEOUT'), 'ASR_TIMEOUT');
    assert.throws(() => parseErrorCode('has space'), UsageError);
    assert.throws(() => parseErrorCode(''), UsageError);
  });
});
