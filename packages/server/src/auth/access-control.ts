/**
 * Who is asking, and may they ask now: one `onRequest` hook that resolves the
 * tenant from `Authorization: Bearer <key>` (or runs open as one tenant when
 * no key exists) and takes a token from the caller's rate-limit bucket. Every
 * API answer carries the `RateLimit` headers; a long-poll or a stream costs
 * one token however long it is held.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problem, sendProblem } from '../errors/problem-handler.js';
import type { RateLimiter } from '../ratelimit/rate-limiter.js';
import { rateLimitHeaders } from '../ratelimit/token-bucket.js';
import type { ApiKeyRecord, KeyStore, RateLimitPolicy } from './key-store.js';
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
    /** No key and no rate limit: health, metrics, docs, the dashboard's files. */
    public?: boolean;
    /** The seed's routes answer `{"error": ...}` rather than problem+json. */
    seed?: boolean;
  }
}

/** Options of {@link registerAccessControl}. */
export interface AccessControlOptions {
  keys: KeyStore;
  limiter: RateLimiter;
  /** Limit of keys without their own, and of each IP when open; undefined turns limits off. */
  defaultPolicy: RateLimitPolicy | undefined;
  now: () => number;
  /** Told of every request refused with 429 (for `jobwait_rate_limited_total`): per key, or per IP when open. */
  onRateLimited?: ((scope: 'key' | 'ip') => void) | undefined;
}

/** Installs the hook. Call before registering routes. */
export function registerAccessControl(app: FastifyInstance, options: AccessControlOptions): { isOpen: () => Promise<boolean> } {
  const { keys, limiter, defaultPolicy, now } = options;
  let openCache: { open: boolean; until: number } | undefined;
  const isOpen = async (): Promise<boolean> => {
    const t = now();
    if (!openCache || t >= openCache.until) openCache = { open: !(await keys.hasActiveKeys()), until: t + OPEN_MODE_TTL_MS };
    return openCache.open;
  };

  app.decorateRequest('tenant', OPEN_TENANT);
  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.public || request.routeOptions.url === undefined || request.url.startsWith('/docs')) return;
    let key: ApiKeyRecord | undefined;
    if (!(await isOpen())) {
      key = await authenticate(request.headers.authorization, keys);
      if (!key) {
        reply.header('www-authenticate', 'Bearer realm="jobwait"');
        return deny(request, reply, 401, 'JOBWAIT_ERR_UNAUTHORIZED', request.headers.authorization ? 'the API key is not valid or was revoked' : 'send an API key as Authorization: Bearer <key>');
      }
      request.tenant = key.id;
    }
    const policy = key?.rateLimit ?? defaultPolicy;
    if (!policy) return;
    const decision = await limiter.take(key ? `key:${key.id}` : `ip:${request.ip}`, policy);
    const headers = rateLimitHeaders(decision);
    reply.header('ratelimit-policy', headers['ratelimit-policy']).header('ratelimit', headers.ratelimit);
    if (!decision.allowed) {
      options.onRateLimited?.(key ? 'key' : 'ip');
      reply.header('retry-after', String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))));
      return deny(request, reply, 429, 'JOBWAIT_ERR_RATE_LIMITED', `rate limit of ${policy.perSecond}/s (burst ${policy.burst}) reached; retry after the Retry-After delay`);
    }
  });
  return { isOpen };
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
