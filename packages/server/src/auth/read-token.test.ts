/** Read tokens: signed claims, checked without a store, refused when altered, forged or expired. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { generateReadSecret, isReadToken, ReadTokens, type ReadTokenClaims } from './read-token.js';

const secret = generateReadSecret();
const NOW = 1_800_000_000_000;
const claims: ReadTokenClaims = { tenant: 'abcdefghijkl', keyId: 'abcdefghijkl', jobs: ['job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2'], expiresAt: NOW + 600_000 };

describe('ReadTokens', () => {
  it('mints a jwb_ token whose claims verify on any instance sharing the secret', () => {
    const token = new ReadTokens(secret).mint(claims);
    assert.ok(isReadToken(token));
    assert.deepEqual(new ReadTokens(Buffer.from(secret)).verify(token, NOW), { ok: true, claims });
  });

  it('is the documented HMAC over the base64url claims', () => {
    const token = new ReadTokens(secret).mint(claims);
    const [body, signature] = token.slice('jwb_'.length).split('.') as [string, string];
    assert.equal(signature, createHmac('sha256', Buffer.from(secret)).update(`jobwait-read-v1:${body}`).digest('base64url'));
    assert.deepEqual(JSON.parse(Buffer.from(body, 'base64url').toString()), { v: 1, t: claims.tenant, k: claims.keyId, j: claims.jobs, e: claims.expiresAt / 1000 });
  });

  it('is expired from its expiresAt on, and only then', () => {
    const tokens = new ReadTokens(secret);
    const token = tokens.mint(claims);
    assert.equal(tokens.verify(token, claims.expiresAt - 1).ok, true);
    assert.deepEqual(tokens.verify(token, claims.expiresAt), { ok: false, reason: 'expired' });
  });

  it('refuses a token with other claims under the old signature (another job, tenant or a later end)', () => {
    const tokens = new ReadTokens(secret);
    const [, signature] = tokens.mint(claims).split('.');
    for (const altered of [
      { ...claims, jobs: ['job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q3'] },
      { ...claims, tenant: 'zzzzzzzzzzzz' },
      { ...claims, expiresAt: claims.expiresAt + 3_600_000 },
    ]) {
      const [body] = tokens.mint(altered).split('.');
      assert.deepEqual(tokens.verify(`${body}.${signature}`, NOW), { ok: false, reason: 'invalid' });
    }
  });

  it('refuses a token of another secret, even an expired one (invalid, not expired: nothing is read unsigned)', () => {
    const foreign = new ReadTokens(generateReadSecret()).mint({ ...claims, expiresAt: NOW - 1000 });
    assert.deepEqual(new ReadTokens(secret).verify(foreign, NOW), { ok: false, reason: 'invalid' });
  });

  it('refuses a correctly signed body that is not a claims object', () => {
    const sign = (text: string) => {
      const body = Buffer.from(text).toString('base64url');
      return `jwb_${body}.${createHmac('sha256', Buffer.from(secret)).update(`jobwait-read-v1:${body}`).digest('base64url')}`;
    };
    const tokens = new ReadTokens(secret);
    for (const text of ['null', '[]', '{"v":2,"t":"a","k":"a","j":["x"],"e":2000000000}', '{"v":1,"t":"a","k":"a","j":[],"e":2000000000}', '{"v":1,"t":"a","k":"a","j":["x"],"e":"2000000000"}', 'not json']) {
      assert.deepEqual(tokens.verify(sign(text), NOW), { ok: false, reason: 'invalid' }, text);
    }
    assert.equal(tokens.verify(sign('{"v":1,"t":"a","k":"a","j":["x"],"e":2000000000}'), NOW).ok, true);
  });

  it('refuses every single-character change of a token', () => {
    const tokens = new ReadTokens(secret);
    const token = tokens.mint(claims);
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(...'ABCXYZabcxyz0189-_.'), (at, char) => {
        fc.pre(token[at] !== char);
        const altered = token.slice(0, at) + char + token.slice(at + 1);
        assert.equal(tokens.verify(altered, NOW).ok, false);
      }),
    );
  });

  it('refuses a secret shorter than 32 bytes and never shows its secret', () => {
    assert.throws(() => new ReadTokens('short'), RangeError);
    assert.equal(JSON.stringify({ tokens: new ReadTokens(secret) }).includes(secret), false);
  });
});
