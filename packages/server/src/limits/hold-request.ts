/**
 * The routes' side of {@link HeldConnections}: who holds (the request's API
 * key, or its IP on an open server) and what a refusal answers.
 */
import type { FastifyRequest } from 'fastify';
import { OPEN_TENANT } from '../auth/access-control.js';
import { ServerAtCapacityError, TooManyHeldError } from '../errors/errors.js';
import type { HeldConnections, HeldKind, Hold } from './held-connections.js';

/** `Retry-After` of a refusal: the holder waits for one of its holds to end (most end within a minute). */
const HOLDER_RETRY_AFTER_S = 5;
/** `Retry-After` when the server is at its ceiling: longer, to shed load. */
const SERVER_RETRY_AFTER_S = 10;

/**
 * Who a request holds for: its tenant (API key id; a browser read token counts against the key
 * that minted it), or its IP when the server runs open and every caller is the one tenant.
 */
export function holderOf(request: FastifyRequest): { holder: string; scope: 'key' | 'ip' } {
  return request.tenant === OPEN_TENANT ? { holder: `ip ${request.ip}`, scope: 'ip' } : { holder: `key ${request.tenant}`, scope: 'key' };
}

/**
 * Takes a hold of `kind` for `request`, or throws the refusal: `TooManyHeldError` (429) past the
 * holder's cap, `ServerAtCapacityError` (503) past the server's ceiling.
 */
export function holdFor(held: HeldConnections, request: FastifyRequest, kind: HeldKind): Hold {
  const { holder, scope } = holderOf(request);
  const attempt = held.take(holder, kind);
  if (attempt.ok) return attempt.hold;
  if (attempt.reason === 'holder-cap') throw new TooManyHeldError(attempt.limit, scope, HOLDER_RETRY_AFTER_S);
  throw new ServerAtCapacityError(attempt.limit, SERVER_RETRY_AFTER_S);
}

/** Takes a hold of `kind` for `request` if one is free, else `undefined` (for answers that can skip holding, like the seed's `/status`). */
export function holdIfFree(held: HeldConnections, request: FastifyRequest, kind: HeldKind): Hold | undefined {
  const attempt = held.take(holderOf(request).holder, kind);
  return attempt.ok ? attempt.hold : undefined;
}
