/**
 * CORS for end users' browsers, on the routes a read token may call (reading one job and its event
 * stream) and for the exact origins of `--cors-origin` only. Everything else stays same-origin:
 * no route that creates, cancels, lists or mints answers another origin, so a page elsewhere
 * cannot even send those with a token. Never `*`, and no `Allow-Credentials`: the token travels in
 * the `Authorization` header, not in cookies, so no ambient credential rides along.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Request headers a page may send: the token, resuming a stream, a long-poll, a conditional read. */
export const CORS_ALLOW_HEADERS = 'Authorization, Last-Event-ID, Prefer, If-None-Match, Content-Type';
/** Answer headers a page may read besides the safelisted ones. */
export const CORS_EXPOSE_HEADERS = 'Retry-After, ETag, X-Request-Id, RateLimit, RateLimit-Policy, Preference-Applied, WWW-Authenticate';
/** How long a browser may keep a preflight's answer, in seconds (Chromium caps it at 7200). */
export const CORS_MAX_AGE_SECONDS = 600;
/** Methods of the routes CORS covers. */
const ALLOW_METHODS = 'GET, HEAD';

/** Where a preflight is answered: the routes marked `readToken` (auth/access-control.ts). */
export const CORS_PATHS = ['/v1/jobs/:id', '/v1/jobs/:id/events'] as const;

/** The origin of `request` when it is one of `allowed`. */
function allowedOrigin(request: FastifyRequest, allowed: ReadonlySet<string>): string | undefined {
  const origin = request.headers.origin;
  return typeof origin === 'string' && allowed.has(origin) ? origin : undefined;
}

/** Adds `Origin` to the reply's `Vary` (routes set their own Vary after the hook ran). */
function varyOnOrigin(reply: FastifyReply): void {
  const vary = reply.getHeader('vary');
  const text = Array.isArray(vary) ? vary.join(', ') : vary === undefined ? '' : String(vary);
  if (!/(^|,)\s*origin\s*(,|$)/i.test(text)) reply.header('vary', text === '' ? 'Origin' : `${text}, Origin`);
}

/**
 * The hooks of the CORS routes; call on the root instance before the routes. With no origin it
 * adds nothing (an `OPTIONS` then gets the ordinary 404, as before).
 */
export function registerCorsHooks(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  // onRequest: before the access check, so a refusal (401 expired, 403 scope) is readable by the page too.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config.readToken && request.method !== 'OPTIONS') {
      reply.header('vary', 'Origin');
      const origin = allowedOrigin(request, allowed);
      if (origin !== undefined) reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', CORS_EXPOSE_HEADERS);
    }
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.routeOptions.config.readToken) varyOnOrigin(reply);
    done(null, payload);
  });
}

/**
 * The preflight routes of {@link CORS_PATHS}. Register where no access check runs: a browser's
 * preflight carries no `Authorization`. A disallowed origin gets an answer without any CORS
 * header, which the browser takes as a refusal.
 */
export async function corsPreflightRoutes(app: FastifyInstance, options: { origins: readonly string[] }): Promise<void> {
  if (options.origins.length === 0) return;
  const allowed = new Set(options.origins);
  for (const path of CORS_PATHS) {
    app.options(path, { schema: { hide: true }, config: { readToken: true, public: true } }, async (request, reply) => {
      reply.header('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers').header('allow', `${ALLOW_METHODS}, OPTIONS`);
      const origin = allowedOrigin(request, allowed);
      const method = request.headers['access-control-request-method'];
      if (origin !== undefined && (method === 'GET' || method === 'HEAD')) {
        reply
          .header('access-control-allow-origin', origin)
          .header('access-control-allow-methods', ALLOW_METHODS)
          .header('access-control-allow-headers', CORS_ALLOW_HEADERS)
          .header('access-control-max-age', String(CORS_MAX_AGE_SECONDS));
      }
      return reply.code(204).send();
    });
  }
}
