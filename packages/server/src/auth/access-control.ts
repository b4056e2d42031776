/**
 * Who is asking, and may they ask now: an `onRequest` hook of the API routes
 * that resolves the tenant from `Authorization: Bearer <key>` (or runs open as
 * one tenant while the key store's access mode says so: data that never held
 * a key, or reopened by an operator) and takes a token from the caller's
 * rate-limit bucket. Every API answer carries the `RateLimit` headers; a
 * long-poll or a stream costs one token however long it is held. Public routes
 * (health, metrics, docs, the dashboard) are registered outside its scope.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { StoreUnavailableError } from '../errors/errors.js';
import { problem, sendProblem } from '../errors/problem-handler.js';
import type { RateLimiter, RateLimitPolicy } from '../ratelimit/rate-limiter.js';
import { rateLimitHeaders, type RateDecision } from '../ratelimit/token-bucket.js';
import type { AccessMode, ApiKeyRecord, KeyStore } from './key-store.js';
import { parseApiKey, secretMatches } from './api-key.js';

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
  }
  interface FastifyContextConfig {
    /** The seed's routes answer `{"error": ...}` rather than problem+json. */
    seed?: boolean;
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
  /** Told of the access mode when it is first read, and each time a read finds it changed (for the log). */
  onAccessMode?: ((mode: AccessMode, previous: AccessMode | undefined) => void) | undefined;
}

/** Who a request acts for: the API key, or none while the server runs open. */
export interface Caller {
  tenant: string;
  key?: ApiKeyRecord | undefined;
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

  /** The caller an `Authorization` header stands for; undefined when keys are required and it holds no valid one. */
  async identify(authorization: string | undefined): Promise<Caller | undefined> {
    if (!(await this.accessMode()).keysRequired) return { tenant: OPEN_TENANT };
    const key = await authenticate(authorization, this.options.keys);
    return key ? { tenant: key.id, key } : undefined;
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
    const caller = await access.identify(request.headers.authorization);
    if (!caller) {
      reply.header('www-authenticate', 'Bearer realm="jobwait"');
      deny(request, reply, 401, 'JOBWAIT_ERR_UNAUTHORIZED', request.headers.authorization ? 'the API key is not valid or was revoked' : 'send an API key as Authorization: Bearer <key>');
      return false;
    }
    request.tenant = caller.tenant;
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
    if (options.defaultPolicy === undefined && access.openNow() === true) return done();
    admit(request, reply).then((allowed) => void (allowed && done()), done);
  };
}

async function authenticate(header: string | undefined, keys: KeyStore): Promise<ApiKeyRecord | undefined> {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  const parsed = match ? parseApiKey(match[1]!) : undefined;
  if (!parsed) return undefined;
  const record = await keys.get(parsed.id);
  if (!record || record.revokedAt !== undefined || !secretMatches(parsed.secret, record.hash)) return undefined;
  return record;
}

function deny(request: FastifyRequest, reply: FastifyReply, status: 401 | 429, code: 'JOBWAIT_ERR_UNAUTHORIZED' | 'JOBWAIT_ERR_RATE_LIMITED', detail: string): FastifyReply {
  if (request.routeOptions.config.seed) {
    return reply.code(status).type('application/json; charset=utf-8').send({ error: status === 401 ? 'Unauthorized: invalid or missing API key' : 'Too many requests' });
  }
  return sendProblem(reply, { ...problem(code, detail), instance: request.url });
}
