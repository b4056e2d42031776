/**
 * Read tokens: what an API-key holder hands an end user's browser so it can read (get, long-poll,
 * stream) the jobs the token names, for a few minutes, and nothing else. A token is
 * `jwb_` + base64url(JSON claims) + `.` + base64url(HMAC-SHA256(secret, "jobwait-read-v1:" + claims)).
 * Signed, not stored: any instance holding the secret verifies it without a store round trip
 * (minting one per page view writes nothing), and revoking the minting key revokes every token it
 * minted, because verification also looks the key up (see access-control.ts).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix of every read token (`b` for browser): tells it apart from an API key (`jw_`) and a report token (`jwr_`). */
export const READ_TOKEN_PREFIX = 'jwb_';
/** Fewest bytes a read-token secret has. */
export const MIN_READ_SECRET_BYTES = 32;
/** Most jobs one token names. */
export const MAX_READ_TOKEN_JOBS = 100;

/** Domain separation: a secret reused elsewhere still cannot mint these. */
const CONTEXT = 'jobwait-read-v1:';
/** Shape of a token: prefix, base64url claims, a dot, 32 bytes of base64url. */
const TOKEN_PATTERN = /^jwb_([A-Za-z0-9_-]{1,8000})\.([A-Za-z0-9_-]{43})$/;

/** What a token says. */
export interface ReadTokenClaims {
  /** Tenant whose jobs it reads (the minting key's id). */
  tenant: string;
  /** Id of the API key that minted it: revoking that key revokes the token. */
  keyId: string;
  /** Ids of the jobs it may read. */
  jobs: readonly string[];
  /** End of its life, milliseconds since the epoch (whole seconds on the wire). */
  expiresAt: number;
}

/** Outcome of {@link ReadTokens.verify}. */
export type ReadTokenCheck = { ok: true; claims: ReadTokenClaims } | { ok: false; reason: 'invalid' | 'expired' };

/** Mints and verifies read tokens under one secret. */
export class ReadTokens {
  readonly #key: Buffer;

  /** @param secret at least 32 bytes; see {@link generateReadSecret}. */
  constructor(secret: string | Uint8Array) {
    const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    if (key.length < MIN_READ_SECRET_BYTES) throw new RangeError(`the read-token secret must be at least ${MIN_READ_SECRET_BYTES} bytes, got ${key.length}`);
    this.#key = key;
  }

  /** A token for `claims` (its `expiresAt` is rounded up to a whole second). */
  mint(claims: ReadTokenClaims): string {
    const body = Buffer.from(JSON.stringify({ v: 1, t: claims.tenant, k: claims.keyId, j: claims.jobs, e: Math.ceil(claims.expiresAt / 1000) })).toString('base64url');
    return `${READ_TOKEN_PREFIX}${body}.${this.#mac(body)}`;
  }

  /**
   * The claims of `token` when this secret signed it and it has not expired at `now`. The signature
   * is checked (in constant time) before anything in the claims is read; an altered, truncated or
   * foreign token is `invalid`, a genuine one past its end is `expired`.
   */
  verify(token: string, now: number): ReadTokenCheck {
    const match = TOKEN_PATTERN.exec(token);
    if (!match) return { ok: false, reason: 'invalid' };
    const [, body, signature] = match as unknown as [string, string, string];
    // The texts, not decoded bytes: base64url's last character has spare bits, so decoding would let several spellings pass.
    const presented = Buffer.from(signature, 'latin1');
    const expected = Buffer.from(this.#mac(body), 'latin1');
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return { ok: false, reason: 'invalid' };
    const claims = parseClaims(body);
    if (!claims) return { ok: false, reason: 'invalid' };
    return now >= claims.expiresAt ? { ok: false, reason: 'expired' } : { ok: true, claims };
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#key).update(CONTEXT).update(body).digest('base64url');
  }

  /** Never shows the secret (e.g. when logged by accident). */
  toJSON(): string {
    return '[ReadTokens]';
  }
}

/** True when `bearer` is shaped like a read token (decides which check an Authorization header gets). */
export function isReadToken(bearer: string): boolean {
  return bearer.startsWith(READ_TOKEN_PREFIX);
}

/**
 * The {@link ReadTokens} of a secret the store keeps, read on first use (a server starts while its
 * Redis is down) and kept once read; a failed read is asked again next time.
 */
export function storedReadTokens(secret: () => Promise<string>): () => Promise<ReadTokens> {
  let tokens: Promise<ReadTokens> | undefined;
  return () => {
    if (!tokens) {
      const reading = secret().then((value) => new ReadTokens(value));
      reading.catch(() => {
        if (tokens === reading) tokens = undefined;
      });
      tokens = reading;
    }
    return tokens;
  };
}

/** A new random read-token secret: 32 random bytes, base64url. */
export function generateReadSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Claims of a signed body; undefined when they are not of the shape {@link ReadTokens.mint} writes (fails closed). */
function parseClaims(body: string): ReadTokenClaims | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { v, t, k, j, e } = value as Record<string, unknown>;
  if (v !== 1 || typeof t !== 'string' || typeof k !== 'string' || typeof e !== 'number' || !Number.isSafeInteger(e)) return undefined;
  if (!Array.isArray(j) || j.length === 0 || j.length > MAX_READ_TOKEN_JOBS || !j.every((id) => typeof id === 'string')) return undefined;
  return { tenant: t, keyId: k, jobs: j as string[], expiresAt: e * 1000 };
}
