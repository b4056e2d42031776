import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, isWebhookSecret, maskSecret, signWebhook, verifyWebhook, webhookHeaders, webhookKey } from './webhook-signature.js';

const body = JSON.stringify({ type: 'job.completed', timestamp: '2024-01-01T00:00:00.000Z', data: { id: 'job_1', status: 'completed' } });

describe('webhook signatures (Standard Webhooks)', () => {
  it('produces headers the standardwebhooks package verifies', () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders(secret, 'msg_job_1_completed', body);
    assert.deepEqual(new Webhook(secret).verify(body, { ...headers }), JSON.parse(body));
  });

  it('signs exactly what the reference implementation signs', () => {
    const secret = generateWebhookSecret();
    const at = new Date(1_700_000_000_000);
    assert.equal(signWebhook(secret, 'msg_x', 1_700_000_000, body), new Webhook(secret).sign('msg_x', at, body));
  });

  it('is refused by the reference verifier when the body, id or secret differ', () => {
    const secret = generateWebhookSecret();
    const headers = { ...webhookHeaders(secret, 'msg_a', body) };
    assert.throws(() => new Webhook(secret).verify(`${body} `, headers));
    assert.throws(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_b' }));
    assert.throws(() => new Webhook(generateWebhookSecret()).verify(body, headers));
  });

  it('verifies its own signatures within the tolerance only, and among several', () => {
    const secret = generateWebhookSecret();
    const now = 1_700_000_000_000;
    const headers = webhookHeaders(secret, 'msg_a', body, now);
    assert.equal(verifyWebhook(secret, headers, body, { now }), true);
    assert.equal(verifyWebhook(secret, headers, body, { now: now + 301_000 }), false);
    assert.equal(verifyWebhook(secret, { ...headers, 'webhook-signature': `v1,bogus ${headers['webhook-signature']}` }, body, { now }), true);
    assert.equal(verifyWebhook(secret, { ...headers, 'webhook-signature': 'v1,bogus' }, body, { now }), false);
    assert.equal(verifyWebhook(secret, { 'webhook-id': 'msg_a' }, body, { now }), false);
  });

  it('accepts whsec_ secrets of 24 to 64 bytes and refuses the rest', () => {
    assert.equal(webhookKey(generateWebhookSecret()).length, 32);
    assert.equal(isWebhookSecret(`whsec_${Buffer.alloc(24, 1).toString('base64')}`), true);
    assert.equal(isWebhookSecret(`whsec_${Buffer.alloc(64, 1).toString('base64')}`), true);
    for (const bad of ['', 'whsec_', `whsec_${Buffer.alloc(16).toString('base64')}`, `whsec_${Buffer.alloc(65).toString('base64')}`, Buffer.alloc(32).toString('base64'), 'whsec_not base64!!', 'whsec_abc']) {
      assert.equal(isWebhookSecret(bad), false, bad);
    }
  });

  it('masks a secret down to its prefix and four characters', () => {
    const secret = generateWebhookSecret();
    const masked = maskSecret(secret);
    assert.ok(secret.startsWith(masked.slice(0, -1)));
    assert.equal(masked.length, 'whsec_'.length + 5);
  });
});
