/**
 * Report tokens: the capability a worker holds to report on one job, like Temporal's task
 * token. A token is `jwr_` + base64url(HMAC-SHA256(secret, "jobwait-report-v1:" + jobId)):
 * derived, not stored, so every instance sharing the secret mints and checks the same token,
 * and a create replayed by its Idempotency-Key hands back one that works. Job ids are unique
 * across tenants, so a token is useless for any other job or tenant.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix of every report token (tells it apart from an API key in a log or a leak scan). */
export const REPORT_TOKEN_PREFIX = 'jwr_';
/** Fewest bytes a report secret has: HMAC-SHA256's own block of strength. */
export const MIN_REPORT_SECRET_BYTES = 32;
/** Shape of a token: the prefix and 32 bytes of base64url. */
export const REPORT_TOKEN_PATTERN = /^jwr_[A-Za-z0-9_-]{43}$/;

/** The domain-separated message a token signs: a secret reused elsewhere still cannot mint these. */
const CONTEXT = 'jobwait-report-v1:';

/** The secret is shorter than {@link MIN_REPORT_SECRET_BYTES}. */
export class WeakReportSecretError extends Error {
  readonly code = 'JOBWAIT_ERR_WEAK_REPORT_SECRET';
  constructor(bytes: number) {
    super(`the report secret must be at least ${MIN_REPORT_SECRET_BYTES} bytes, got ${bytes}`);
    this.name = 'WeakReportSecretError';
  }
}

/** Mints and checks report tokens under one secret. */
export class ReportTokens {
  readonly #key: Buffer;

  /** @param secret at least 32 bytes (a string counts its UTF-8 bytes); see {@link generateReportSecret}. */
  constructor(secret: string | Uint8Array) {
    const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    if (key.length < MIN_REPORT_SECRET_BYTES) throw new WeakReportSecretError(key.length);
    this.#key = key;
  }

  /** The token of job `jobId`. */
  mint(jobId: string): string {
    return REPORT_TOKEN_PREFIX + this.#mac(jobId).toString('base64url');
  }

  /** True when `token` is job `jobId`'s token; compared in constant time. Any malformed token is false. */
  verify(jobId: string, token: string): boolean {
    if (!REPORT_TOKEN_PATTERN.test(token)) return false;
    // The texts, not the decoded bytes: base64url's last character has spare bits, so decoding
    // would let four spellings of one token pass.
    const presented = Buffer.from(token, 'latin1');
    const expected = Buffer.from(this.mint(jobId), 'latin1');
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  }

  #mac(jobId: string): Buffer {
    return createHmac('sha256', this.#key).update(CONTEXT).update(jobId).digest();
  }

  /** Never shows the secret (e.g. when logged by accident). */
  toJSON(): string {
    return '[ReportTokens]';
  }
}

/** A new random report secret: 32 random bytes, base64url (43 characters). */
export function generateReportSecret(): string {
  return randomBytes(32).toString('base64url');
}
