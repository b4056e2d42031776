/**
 * API keys: `jw_<id>_<secret>`. The id is public (it names the tenant in
 * logs and stores); only a SHA-256 of the 256-bit random secret is stored.
 * A fast hash is right here: the secret is random, not a password, so there
 * is nothing to brute-force from the hash.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Shape of a full key. */
export const API_KEY_PATTERN = /^jw_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

/** A freshly made key: the secret string is shown once and never stored. */
export interface NewApiKey {
  id: string;
  key: string;
  hash: string;
}

/** Makes a new random key. */
export function generateApiKey(): NewApiKey {
  const id = randomId();
  const secret = randomBytes(32).toString('base64url');
  const key = `jw_${id}_${secret}`;
  return { id, key, hash: hashSecret(secret) };
}

/** Splits a full key into id and secret, or undefined when it is not one. */
export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const match = API_KEY_PATTERN.exec(key);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

/** SHA-256 of a key's secret, base64url. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A key shown in logs and listings: id only, secret masked. */
export function maskApiKey(key: string): string {
  const parsed = parseApiKey(key);
  return parsed ? `jw_${parsed.id}_…` : '…';
}

function randomId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(12), (b) => alphabet[b % alphabet.length]).join('');
}
