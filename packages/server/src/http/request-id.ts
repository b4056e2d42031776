/**
 * The request id: the client's (or the proxy's) `X-Request-Id` when it is a
 * sensible token, else a fresh random UUID. It is echoed on the answer and written as
 * `reqId` on every log line of the request, so an overlong or odd header
 * (a fuzzer's 8 KB of bytes) is replaced rather than copied into every line.
 */
import { randomFillSync } from 'node:crypto';

/** What is taken from a client: up to 128 of the characters ids are made of (UUIDs, ULIDs, nginx's hex, `trace-1f2e`). */
const ACCEPTED = /^[\w.:/+=@-]{1,128}$/;

/** The id of a request whose `X-Request-Id` header is `header`. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && ACCEPTED.test(header) ? header : freshId();
}

/** Random bytes drawn ahead for {@link freshId}, 16 per id: one `randomFillSync` per 256 ids. */
const pool = Buffer.alloc(16 * 256);
let taken = pool.length;
/** One id's text, written byte by byte and read as one flat string. */
const text = Buffer.alloc(36);
const HEX_DIGITS = Buffer.from('0123456789abcdef');

/**
 * A random (version 4) UUID. Written into a buffer and read out as one flat string:
 * `randomUUID()` builds its string by concatenation, a tree of ~14 cons strings (~450 B) that a
 * held long-poll or stream keeps for as long as it is open, and that costs a copy to flatten.
 */
function freshId(): string {
  if (taken === pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  const at = taken;
  taken += 16;
  // RFC 9562: version 4 in the high nibble of byte 6, variant 10 in the top bits of byte 8.
  pool[at + 6] = (pool[at + 6]! & 0x0f) | 0x40;
  pool[at + 8] = (pool[at + 8]! & 0x3f) | 0x80;
  let out = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[out++] = 0x2d;
    const byte = pool[at + i]!;
    text[out++] = HEX_DIGITS[byte >> 4]!;
    text[out++] = HEX_DIGITS[byte & 15]!;
  }
  return text.toString('latin1', 0, 36);
}
