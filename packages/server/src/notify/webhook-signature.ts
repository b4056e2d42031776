/**
 * Standard Webhooks signing (https://www.standardwebhooks.com, "Signature
 * scheme"): `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
 * keyed by the base64 part of a `whsec_<base64>` secret.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix of every signing secret. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** Standard Webhooks recommends keys of 24 to 64 bytes. */
const KEY_BYTES = { min: 24, max: 64 } as const;

/** Receivers should refuse timestamps further than this from their clock (spec default: 5 minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The three headers of a signed webhook. */
export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** A fresh secret: `whsec_` + 32 random bytes in base64. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64');
}

/**
 * The HMAC key inside `secret`; throws `TypeError` unless it is `whsec_` followed by standard
 * base64 of 24 to 64 bytes.
 */
export function webhookKey(secret: string): Buffer {
  if (typeof secret !== 'string' || !secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new TypeError(`must start with ${WEBHOOK_SECRET_PREFIX}`);
  const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(encoded)) throw new TypeError(`must be ${WEBHOOK_SECRET_PREFIX} followed by standard base64`);
  const key = Buffer.from(encoded, 'base64');
  if (key.length < KEY_BYTES.min || key.length > KEY_BYTES.max) throw new TypeError(`must encode ${KEY_BYTES.min} to ${KEY_BYTES.max} bytes, got ${key.length}`);
  return key;
}

/** True when `secret` is usable (see {@link webhookKey}). */
export function isWebhookSecret(secret: string): boolean {
  try {
    webhookKey(secret);
    return true;
  } catch {
    return false;
  }
}

/**
 * `v1,<signature>` of one message.
 * @example signWebhook('whsec_…', 'msg_job_01…_completed', 1700000000, '{"type":"job.completed",…}')
 */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', webhookKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The headers to send `body` as message `id` at `now` (ms since the epoch). */
export function webhookHeaders(secret: string, id: string, body: string, now: number = Date.now()): WebhookHeaders {
  const timestamp = Math.floor(now / 1000);
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(secret, id, timestamp, body) };
}

/**
 * Receiver side: true when one of the space-separated `v1,` signatures matches and the timestamp is
 * within `toleranceSeconds` of `now`. Constant-time comparison.
 */
export function verifyWebhook(secret: string, headers: Partial<WebhookHeaders>, body: string, options: { now?: number; toleranceSeconds?: number } = {}): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures || !/^\d+$/.test(timestamp)) return false;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(signWebhook(secret, id, Number(timestamp), body));
  return signatures.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** `whsec_AbCd…` — enough to tell secrets apart in a log, not to use one. */
export function maskSecret(secret: string): string {
  return `${secret.slice(0, WEBHOOK_SECRET_PREFIX.length + 4)}…`;
}
