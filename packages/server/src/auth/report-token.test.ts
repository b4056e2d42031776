/** Report tokens: one job's capability, checked without storing anything. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { JobIdFactory } from '../jobs/job-id.js';
import { MIN_REPORT_SECRET_BYTES, REPORT_TOKEN_PATTERN, ReportTokens, WeakReportSecretError, generateReportSecret } from './report-token.js';

const ids = new JobIdFactory();
const secret = generateReportSecret();

describe('ReportTokens', () => {
  it('mints a jwr_ token that verifies for its job', () => {
    const tokens = new ReportTokens(secret);
    const id = ids.next();
    const token = tokens.mint(id);
    assert.match(token, REPORT_TOKEN_PATTERN);
    assert.equal(tokens.verify(id, token), true);
  });

  it('is the documented HMAC, so any implementation can mint the same token', () => {
    const id = 'job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2';
    const expected = 'jwr_' + createHmac('sha256', Buffer.from(secret)).update(`jobwait-report-v1:${id}`).digest('base64url');
    assert.equal(new ReportTokens(secret).mint(id), expected);
  });

  it('mints the same token on every instance that shares the secret (a replayed create hands back a working one)', () => {
    const id = ids.next();
    assert.equal(new ReportTokens(secret).mint(id), new ReportTokens(secret).mint(id));
    assert.equal(new ReportTokens(Buffer.from(secret)).verify(id, new ReportTokens(secret).mint(id)), true);
  });

  it('refuses another job\'s token', () => {
    const tokens = new ReportTokens(secret);
    const [a, b] = [ids.next(), ids.next()];
    assert.equal(tokens.verify(b, tokens.mint(a)), false);
  });

  it('refuses a token of another secret', () => {
    const id = ids.next();
    assert.equal(new ReportTokens(secret).verify(id, new ReportTokens(generateReportSecret()).mint(id)), false);
  });

  it('refuses malformed tokens without throwing', () => {
    const tokens = new ReportTokens(secret);
    const id = ids.next();
    const good = tokens.mint(id);
    for (const bad of ['', 'jwr_', good.slice(4), good + 'A', good.slice(0, -1), `jw_${good.slice(4)}`, good.replace('jwr_', 'JWR_'), `${good.slice(0, -1)}*`, ' ' + good]) {
      assert.equal(tokens.verify(id, bad), false, JSON.stringify(bad));
    }
  });

  it('refuses every single-character change of a good token (property)', () => {
    const tokens = new ReportTokens(secret);
    const id = ids.next();
    const good = tokens.mint(id);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    fc.assert(
      fc.property(fc.integer({ min: 0, max: good.length - 1 }), fc.constantFrom(...alphabet), (at, ch) => {
        fc.pre(good[at] !== ch);
        const changed = good.slice(0, at) + ch + good.slice(at + 1);
        assert.equal(tokens.verify(id, changed), false);
      }),
    );
  });

  it('refuses a secret shorter than 32 bytes', () => {
    assert.throws(() => new ReportTokens('x'.repeat(MIN_REPORT_SECRET_BYTES - 1)), WeakReportSecretError);
    assert.throws(() => new ReportTokens(new Uint8Array(16)), /at least 32 bytes, got 16/);
    assert.doesNotThrow(() => new ReportTokens('x'.repeat(MIN_REPORT_SECRET_BYTES)));
  });

  it('never shows its secret when serialized or inspected', () => {
    const tokens = new ReportTokens(secret);
    assert.equal(JSON.stringify({ tokens }).includes(secret), false);
    assert.equal(String(Object.values(tokens)).includes(secret), false);
  });

  it('generates distinct secrets of 43 base64url characters', () => {
    const a = generateReportSecret();
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, generateReportSecret());
  });
});
