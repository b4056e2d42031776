/**
 * Job ids: `job_` + a ULID (48-bit millisecond time, 80 random bits, Crockford
 * base32). Ids sort by creation time, so a page cursor is just the last id seen.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Shape every job id has; anything else is not a job of ours. */
export const JOB_ID_PATTERN = /^job_[0-9A-HJKMNP-TV-Z]{26}$/;

/** Makes ids that increase strictly, even within one millisecond. */
export class JobIdFactory {
  private lastTime = -1;
  private lastRandom = new Uint8Array(10);

  /** `prefix` names the kind of thing (`job_`, a batch's `bat_`, a watch's `wch_`). */
  constructor(private readonly prefix = 'job_') {}

  /** A new id, greater than every id this factory made before. */
  next(now: number = Date.now()): string {
    if (now <= this.lastTime) {
      increment(this.lastRandom);
    } else {
      this.lastTime = now;
      this.lastRandom = new Uint8Array(randomBytes(10));
      // Keep headroom so increments within one millisecond never overflow.
      this.lastRandom[0]! &= 0x7f;
    }
    return `${this.prefix}${encodeTime(this.lastTime)}${encodeRandom(this.lastRandom)}`;
  }
}

/** Shape of a batch id (`bat_` + a ULID). */
export const BATCH_ID_PATTERN = /^bat_[0-9A-HJKMNP-TV-Z]{26}$/;
/** Shape of a watch id (`wch_` + a ULID). */
export const WATCH_ID_PATTERN = /^wch_[0-9A-HJKMNP-TV-Z]{26}$/;

/** True when `id` has the shape of a job id. */
export function isJobId(id: string): boolean {
  return JOB_ID_PATTERN.test(id);
}

function encodeTime(time: number): string {
  let out = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < 16; i++) {
    out = ALPHABET[Number(bits & 31n)]! + out;
    bits >>= 5n;
  }
  return out;
}

function increment(bytes: Uint8Array): void {
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 255) {
      bytes[i]!++;
      return;
    }
    bytes[i] = 0;
  }
}
