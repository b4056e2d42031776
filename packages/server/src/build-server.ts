/**
 * `buildServer(options)`: the whole jobwait HTTP server as a Fastify
 * instance, not yet listening (tests use `inject()` or `listen({port: 0})`).
 */
import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { normalizeServerOptions, type ServerOptions } from './config/server-options.js';
import { registerProblemHandlers } from './errors/problem-handler.js';
import { registerAccessControl } from './auth/access-control.js';
import { bootstrapKeys } from './auth/bootstrap-keys.js';
import type { KeyStore } from './auth/key-store.js';
import { MemoryKeyStore } from './auth/memory-key-store.js';
import { SqliteKeyStore } from './auth/sqlite-key-store.js';
import { MemoryRateLimiter } from './ratelimit/memory-rate-limiter.js';
import type { RateLimiter } from './ratelimit/rate-limiter.js';
import { LocalFeed } from './feed/local-feed.js';
import { SseHub } from './http/sse-hub.js';
import { JobService } from './jobs/job-service.js';
import { eventRoutes } from './routes/event-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { opsRoutes } from './routes/ops-routes.js';
import { JobSchema } from './routes/schemas.js';
import { timerRoutes } from './routes/timer-routes.js';
import type { JobStore } from './store/job-store.js';
import { MemoryStore } from './store/memory-store.js';
import { SqliteStore } from './store/sqlite-store.js';

/** Reconnect delay suggested to event-stream clients. */
const SSE_RETRY_MS = 1000;

declare module 'fastify' {
  interface FastifyInstance {
    /** The job service behind the routes. */
    jobs: JobService;
  }
}

/** Builds the server. Call `listen()` on the result to serve. */
export async function buildServer(options: ServerOptions = {}): Promise<FastifyInstance> {
  const opts = normalizeServerOptions(options);
  const app = Fastify({
    ...loggerOption(opts.logger),
    bodyLimit: opts.bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    // Long-polls and streams would otherwise hold `close()` until they end on their own.
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });
  // Shared schemas first: a later addSchema() in a plugin would swap in Fastify's default validator.
  app.addSchema(JobSchema);
  app.setValidatorCompiler(validatorCompiler());

  const store: JobStore = typeof opts.store === 'object' ? opts.store : opts.store === 'memory' ? new MemoryStore() : new SqliteStore({ dataDir: opts.dataDir });
  const feed = opts.feed ?? new LocalFeed();
  const service = new JobService(store, feed, app.log, { errorRate: opts.errorRate, seed: opts.seed }, opts.now);
  const hub = new SseHub(opts.heartbeatMs);
  const keys: KeyStore = opts.keyStore ?? (opts.store === 'sqlite' ? new SqliteKeyStore(opts.dataDir) : new MemoryKeyStore());
  const limiter: RateLimiter = opts.rateLimiter ?? new MemoryRateLimiter(opts.now);
  await bootstrapKeys(keys, opts.apiKeys, opts.now());
  let draining = false;
  app.decorate('jobs', service);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerProblemHandlers(app);
  const access = registerAccessControl(app, { keys, limiter, defaultPolicy: opts.rateLimit === false ? undefined : opts.rateLimit, now: opts.now });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'jobwait', version: '0.1.0', description: 'Start long-running jobs and learn the moment they finish: long-poll, server-sent events, ETA hints.' },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());

  const limits = { service, maxDurationSeconds: opts.maxDurationSeconds, maxWaitSeconds: opts.maxWaitSeconds };
  await app.register(timerRoutes, limits);
  await app.register(jobRoutes, limits);
  await app.register(eventRoutes, { service, hub, retryMs: SSE_RETRY_MS });
  await app.register(opsRoutes, { store, isDraining: () => draining });

  app.addHook('onReady', async () => {
    await service.start();
    if (typeof opts.store === 'string') app.log.info({ store: opts.store, ...(opts.store === 'sqlite' ? { dataDir: opts.dataDir } : {}) }, 'store opened');
    if (await access.isOpen()) app.log.warn('no API keys configured: running open, all requests act as one tenant (create one with `jobwait keys create`)');
    else app.log.info('API keys required (Authorization: Bearer <key>)');
    app.log.info(opts.rateLimit === false ? 'rate limits off' : { rateLimit: opts.rateLimit }, 'rate limits per key (per IP when open)');
  });
  app.addHook('preClose', async () => {
    // Drain: held long-polls answer with the current state, streams close with a reconnect hint.
    draining = true;
    await service.close();
    hub.closeAll(SSE_RETRY_MS);
  });
  app.addHook('onClose', async () => {
    await feed.close();
    await store.close();
    await keys.close();
    await limiter.close();
  });
  return app;
}

function loggerOption(logger: ServerOptions['logger']): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  if (logger === undefined || logger === true) return { logger: { level: 'info' } };
  if (logger === false) return { logger: false };
  if (typeof (logger as FastifyBaseLogger).child === 'function') return { loggerInstance: logger as FastifyBaseLogger };
  return { logger: logger as { level?: string } };
}

/** Bodies are validated strictly (no "10" for 10); query strings, params and headers are text, so they are coerced. */
function validatorCompiler() {
  const common = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false } as const;
  const strict = new Ajv({ ...common, coerceTypes: false });
  const coercing = new Ajv({ ...common, coerceTypes: 'array' });
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => (httpPart === 'body' ? strict : coercing).compile(schema);
}
