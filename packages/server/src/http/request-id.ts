/**
 * The request id: the client's (or the proxy's) `X-Request-Id` when it is a
 * sensible token, else a fresh UUID. It is echoed on the answer and written as
 * `reqId` on every log line of the request, so an overlong or odd header
 * (a fuzzer's 8 KB of bytes) is replaced rather than copied into every line.
 */
import { randomUUID } from 'node:crypto';

/** What is taken from a client: up to 128 of the characters ids are made of (UUIDs, ULIDs, nginx's hex, `trace-1f2e`). */
const ACCEPTED = /^[\w.:/+=@-]{1,128}$/;

/** The id of a request whose `X-Request-Id` header is `header`. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && ACCEPTED.test(header) ? header : freshId();
}

/**
 * A UUID as one flat string. Node builds `randomUUID()` by concatenation, a tree of ~14 cons
 * strings (~450 B) that a held long-poll or stream keeps for as long as it is open (heap
 * snapshots, bench/server, issue 8); reading a character flattens it in place.
 */
function freshId(): string {
  const id = randomUUID();
  id.charCodeAt(0);
  return id;
}
