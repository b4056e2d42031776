/**
 * Who is asking, and may they ask now: an `onRequest` hook of the API routes
 * that resolves the tenant from `Authorization: Bearer <key>` (or runs open as
 * one tenant when no key exists) and takes a token from the caller's
 * rate-limit bucket. Every API answer carries the `RateLimit` headers; a
 * long-poll or a stream costs one token however long it is held. Public routes
 * (health, metrics, docs, the dashboard) are registered outside its scope.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { problem, sendProblem } from '../errors/problem-handler.js';
import type { RateLimiter, RateLimitPolicy } from '../ratelimit/rate-limiter.js';
import { rateLimitHeaders, type RateDecision } from '../ratelimit/token-bucket.js';
import type { ApiKeyRecord, KeyStore } from './key-store.js';
import { parseApiKey, secretMatches } from './api-key.js';

/** Tenant of every request while the server runs open, without API keys. */
export const OPEN_TENANT = 'public';

/** How long "are there any keys?" is cached: a key created by `jobwait keys` takes effect within this. */
const OPEN_MODE_TTL_MS = 1000;

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
  private openCache: { open: boolean; until: number } | undefined;

  constructor(private readonly options: AccessControlOptions) {}

  /** The cached answer of {@link isOpen} while it is fresh, else undefined (ask {@link isOpen}). */
  openNow(): boolean | undefined {
    const cache = this.openCache;
    return cache && this.options.now() < cache.until ? cache.open : undefined;
  }

  /** True while no API key exists (cached for a second: a key created by `jobwait keys` takes effect within it). */
  async isOpen(): Promise<boolean> {
    const t = this.options.now();
    if (!this.openCache || t >= this.openCache.until) this.openCache = { open: !(await this.options.keys.hasActiveKeys()), until: t + OPEN_MODE_TTL_MS };
    return this.openCache.open;
  }

  /** The caller an `Authorization` header stands for; undefined when keys are required and it holds no valid one. */
  async identify(authorization: string | undefined): Promise<Caller | undefined> {
    if (await this.isOpen()) return { tenant: OPEN_TENANT };
    const key = await authenticate(authorization, this.options.keys);
    return key ? { tenant: key.id, key } : undefined;
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
    // Open, no limits: every request acts as the one tenant, which `request.tenant` holds from the start.
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
