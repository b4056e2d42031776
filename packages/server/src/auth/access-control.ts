/**
 * Who is asking, and may they ask now: an `onRequest` hook of the API routes
 * that resolves the tenant from `Authorization: Bearer <key>` (or runs open as
 * one tenant while the key store's access mode says so: data that never held
 * a key, or reopened by an operator) and takes a token from the caller's
 * rate-limit bucket. Every API answer carries the `RateLimit` headers; a
 * long-poll or a stream costs one token however long it is held. Public routes
 * (health, metrics, docs, the dashboard) are registered outside its scope.
 * A read token (`jwb_`, auth/read-token.ts) acts for the key that minted it,
 * on the routes marked `readToken` and the jobs it names only; its requests
 * count against that key's limits.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { StoreUnavailableError } from '../errors/errors.js';
import { problem, sendProblem } from '../errors/problem-handler.js';
import type { RateLimiter, RateLimitPolicy } from '../ratelimit/rate-limiter.js';
import { rateLimitHeaders, type RateDecision } from '../ratelimit/token-bucket.js';
import type { AccessMode, ApiKeyRecord, KeyStore } from './key-store.js';
import { parseApiKey, secretMatches } from './api-key.js';
import { isReadToken, type ReadTokens } from './read-token.js';

/** Tenant of every request while the server runs open, without API keys. */
export const OPEN_TENANT = 'public';

/**
 * How long the access mode is cached: the first key created by `jobwait keys` (or an open-access)
 * takes effect within this. Revoking keys does not change the mode, so no cache can open the server.
 */
export const ACCESS_MODE_TTL_MS = 1000;

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant (API key id, or `public` when open) this request acts for. */
    tenant: string;
    /** Id of the API key the request carries, or that minted its read token; undefined while the server runs open. */
    keyId: string | undefined;
    /** What the request's read token allows, when it carries one instead of an API key. */
    readScope: ReadScope | undefined;
  }
  interface FastifyContextConfig {
    /** The seed's routes answer `{"error": ...}` rather than problem+json. */
    seed?: boolean;
    /** A read token may call this route (it reads the job of its `:id`), and CORS applies to it (http/cors.ts). */
    readToken?: boolean;
  }
}

/** Options of {@link AccessControl} and {@link accessHook}. */
export interface AccessControlOptions {
  keys: KeyStore;
  limiter: RateLimiter;
  /** Limit of keys without their own, and of each IP when open; undefined turns limits off. */
  defaultPolicy: RateLimitPolicy | undefined;
  now: () => number;
  /** Told of every request refused with 429 (for `jobwait_rate_limited_total`): per key, or per IP when open. */
  onRateLimited?: ((scope: 'key' | 'ip') => void) | undefined;
  /** Verifies read tokens (its secret may come from the store); without it every `jwb_` token is refused. */
  readTokens?: (() => Promise<ReadTokens>) | undefined;
  /** Told of the access mode when it is first read, and each time a read finds it changed (for the log). */
  onAccessMode?: ((mode: AccessMode, previous: AccessMode | undefined) => void) | undefined;
}

/** What a read token allows: reading these jobs until then. */
export interface ReadScope {
  jobs: ReadonlySet<string>;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** Who an `Authorization` header stands for, or why it is refused. */
export type Identity = { caller: Caller } | { refused: 'missing' | 'invalid' | 'expired' };

/** Who a request acts for: the API key, or none while the server runs open. */
export interface Caller {
  tenant: string;
  key?: ApiKeyRecord | undefined;
  /** Set when the caller holds a read token (minted by `key`) rather than the key itself. */
  readScope?: ReadScope | undefined;
}

/** A token taken (or refused) from a caller's bucket, with the `RateLimit` headers it answers with. */
export interface Admission {
  decision: RateDecision;
  policy: RateLimitPolicy;
  /** `RateLimit-Policy` and `RateLimit`, in that order. */
  headers: [name: string, value: string][];
  /** Which bucket was charged: the key's, or the client IP's when open. */
  scope: 'key' | 'ip';
}

/** The two questions every API request answers: who is calling, and may they call now. */
export class AccessControl {
  private cached: { mode: AccessMode; until: number } | undefined;
  private reading: Promise<AccessMode> | undefined;

  constructor(private readonly options: AccessControlOptions) {}

  /**
   * True when any request may pass without a look at its credentials or a token from a bucket: the
   * server runs open (a fresh cached mode says so) and no default rate limit applies. Fails closed:
   * false whenever the mode is stale, keys are required or a limit is on.
   */
  passesUnchecked(): boolean {
    return this.options.defaultPolicy === undefined && this.openNow() === true;
  }

  /** True while a fresh cached access mode says open; undefined when the cache is stale (ask {@link accessMode}). */
  openNow(): boolean | undefined {
    const cache = this.cached;
    return cache && this.options.now() < cache.until ? !cache.mode.keysRequired : undefined;
  }

  /**
   * The key store's access mode, cached for {@link ACCESS_MODE_TTL_MS}. When it cannot be read this
   * rejects with a {@link StoreUnavailableError} (a 503): requests are refused, never let in open.
   */
  async accessMode(): Promise<AccessMode> {
    const t = this.options.now();
    if (this.cached && t < this.cached.until) return this.cached.mode;
    // One read at a time: the requests arriving meanwhile share it.
    this.reading ??= this.readMode(t).finally(() => (this.reading = undefined));
    return this.reading;
  }

  /**
   * The caller an `Authorization` header stands for (an API key, or a read token whose key is still
   * active), or why it is refused. Keys are read from the store on every call: revoking a key
   * refuses it, and every token it minted, from the next request on.
   */
  async check(authorization: string | undefined): Promise<Identity> {
    if (!(await this.accessMode()).keysRequired) return { caller: { tenant: OPEN_TENANT } };
    const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    const bearer = match?.[1];
    if (bearer === undefined) return { refused: authorization ? 'invalid' : 'missing' };
    if (isReadToken(bearer)) return this.checkReadToken(bearer);
    const key = await authenticate(bearer, this.options.keys);
    return key ? { caller: { tenant: key.id, key } } : { refused: 'invalid' };
  }

  /** The API-key caller an `Authorization` header stands for; undefined when keys are required and it holds no valid key (a read token included). */
  async identify(authorization: string | undefined): Promise<Caller | undefined> {
    const identity = await this.check(authorization);
    return 'caller' in identity && identity.caller.readScope === undefined ? identity.caller : undefined;
  }

  private async checkReadToken(token: string): Promise<Identity> {
    if (!this.options.readTokens) return { refused: 'invalid' };
    const verified = (await this.options.readTokens()).verify(token, this.options.now());
    if (!verified.ok) return { refused: verified.reason };
    const { claims } = verified;
    const key = await this.options.keys.get(claims.keyId);
    // The minting key must still be active, and still be the tenant the token reads.
    if (!key || key.revokedAt !== undefined || key.id !== claims.tenant) return { refused: 'invalid' };
    return { caller: { tenant: claims.tenant, key, readScope: { jobs: new Set(claims.jobs), expiresAt: claims.expiresAt } } };
  }

  private async readMode(t: number): Promise<AccessMode> {
    let mode: AccessMode;
    try {
      mode = await this.options.keys.accessMode();
    } catch (error) {
      throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error);
    }
    const previous = this.cached?.mode;
    this.cached = { mode, until: t + ACCESS_MODE_TTL_MS };
    if (previous?.keysRequired !== mode.keysRequired) this.options.onAccessMode?.(mode, previous);
    return mode;
  }

  /** Takes one token from the caller's bucket (the IP's when open); undefined when limits are off for them. */
  async take(caller: Caller, ip: string): Promise<Admission | undefined> {
    const policy = caller.key?.rateLimit ?? this.options.defaultPolicy;
    if (!policy) return undefined;
    const scope = caller.key ? 'key' : 'ip';
    const decision = await this.options.limiter.take(caller.key ? `key:${caller.key.id}` : `ip:${ip}`, policy);
    const headers = rateLimitHeaders(decision);
    return { decision, policy, scope, headers: [['ratelimit-policy', headers['ratelimit-policy']], ['ratelimit', headers.ratelimit]] };
  }
}

/**
 * The `onRequest` hook of the API routes (the seed's and `/v1`): add it in their scope only, so
 * that health, metrics, docs and the dashboard's files pay nothing for it. Callback style: a read
 * of an open server without rate limits (the cached "no keys" answer) passes without a promise.
 * @example api.addHook('onRequest', accessHook(new AccessControl(options), options));
 */
export function accessHook(access: AccessControl, options: Pick<AccessControlOptions, 'defaultPolicy' | 'onRateLimited'>): onRequestHookHandler {
  const admit = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    const identity = await access.check(request.headers.authorization);
    if ('refused' in identity) {
      refuse(request, reply, identity.refused);
      return false;
    }
    const { caller } = identity;
    if (caller.readScope) {
      const outside = outsideScope(request, caller.readScope);
      if (outside !== undefined) {
        deny(request, reply, 403, 'JOBWAIT_ERR_TOKEN_SCOPE', outside);
        return false;
      }
    }
    request.tenant = caller.tenant;
    request.keyId = caller.key?.id;
    request.readScope = caller.readScope;
    const admission = await access.take(caller, request.ip);
    if (!admission) return true;
    for (const [name, value] of admission.headers) reply.header(name, value);
    const { decision, policy } = admission;
    if (decision.allowed) return true;
    options.onRateLimited?.(admission.scope);
    reply.header('retry-after', String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))));
    deny(request, reply, 429, 'JOBWAIT_ERR_RATE_LIMITED', `rate limit of ${policy.perSecond}/s (burst ${policy.burst}) reached; retry after the Retry-After delay`);
    return false;
  };
  return (request, reply, done) => {
    // Open (a fresh cached mode), no limits: every request acts as the one tenant, which `request.tenant` holds from the start.
    if (access.passesUnchecked()) return done();
    admit(request, reply).then((allowed) => void (allowed && done()), done);
  };
}

/** Why a read token may not make `request`, or undefined when it may (a route marked `readToken`, on a job it names). */
function outsideScope(request: FastifyRequest, scope: ReadScope): string | undefined {
  if (!request.routeOptions.config.readToken) return 'a read token only reads the jobs it names (GET /v1/jobs/{id}, with or without a wait, and GET /v1/jobs/{id}/events); use an API key for anything else';
  // Decided from the token alone, before any lookup: the same answer whether the job exists, is this tenant's or another's.
  const id = (request.params as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' && scope.jobs.has(id) ? undefined : `this read token does not name job ${JSON.stringify(String(id))}`;
}

/** The 401 of a missing, invalid or expired credential (RFC 6750's `invalid_token` error for an expired one, which a client renews). */
function refuse(request: FastifyRequest, reply: FastifyReply, reason: 'missing' | 'invalid' | 'expired'): FastifyReply {
  if (reason === 'expired') {
    reply.header('www-authenticate', 'Bearer realm="jobwait", error="invalid_token", error_description="the token expired"');
    return deny(request, reply, 401, 'JOBWAIT_ERR_TOKEN_EXPIRED', 'the read token expired: ask the app that minted it for a fresh one');
  }
  reply.header('www-authenticate', 'Bearer realm="jobwait"');
  if (reason === 'missing') return deny(request, reply, 401, 'JOBWAIT_ERR_UNAUTHORIZED', 'send an API key (or a read token) as Authorization: Bearer <key>');
  return deny(request, reply, 401, 'JOBWAIT_ERR_UNAUTHORIZED', 'the API key or read token is not valid, or its key was revoked');
}

async function authenticate(bearer: string, keys: KeyStore): Promise<ApiKeyRecord | undefined> {
  const parsed = parseApiKey(bearer);
  if (!parsed) return undefined;
  const record = await keys.get(parsed.id);
  if (!record || record.revokedAt !== undefined || !secretMatches(parsed.secret, record.hash)) return undefined;
  return record;
}

/** Seed-route bodies of each refusal. */
const SEED_ERRORS: Record<number, string> = { 401: 'Unauthorized: invalid or missing API key', 403: 'Forbidden: a read token cannot call this route', 429: 'Too many requests' };

function deny(
  request: FastifyRequest,
  reply: FastifyReply,
  status: 401 | 403 | 429,
  code: 'JOBWAIT_ERR_UNAUTHORIZED' | 'JOBWAIT_ERR_TOKEN_EXPIRED' | 'JOBWAIT_ERR_TOKEN_SCOPE' | 'JOBWAIT_ERR_RATE_LIMITED',
  detail: string,
): FastifyReply {
  if (request.routeOptions.config.seed) {
    return reply.code(status).type('application/json; charset=utf-8').send({ error: SEED_ERRORS[status] });
  }
  return sendProblem(reply, { ...problem(code, detail), instance: request.url });
}
