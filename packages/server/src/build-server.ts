/**
 * `buildServer(options)`: the whole jobwait HTTP server as a Fastify
 * instance, not yet listening (tests use `inject()` or `listen({port: 0})`).
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { normalizeServerOptions, type NormalizedServerOptions, type ServerOptions } from './config/server-options.js';
import { clientErrorHandler, frameworkErrorHandler, registerProblemHandlers } from './errors/problem-handler.js';
import { registerAccessControl } from './auth/access-control.js';
import { bootstrapKeys } from './auth/bootstrap-keys.js';
import { openEngine } from './engines/open-engine.js';
import { createHttpServer } from './http/http-server.js';
import { hotReads, type RequestListener } from './http/hot-reads.js';
import { requestIdOf } from './http/request-id.js';
import { SseHub } from './http/sse-hub.js';
import { JobService } from './jobs/job-service.js';
import { Notifications } from './notify/notifications.js';
import { jobwaitLoggerOptions } from './logging/log-options.js';
import { lazyChildLoggerFactory } from './logging/lazy-child-logger.js';
import { countErrors } from './metrics/count-errors.js';
import { registerHttpMetrics } from './metrics/http-metrics.js';
import { ServerMetrics } from './metrics/metrics.js';
import { metricsRoutes } from './routes/metrics-routes.js';
import { dashboardRoutes } from './routes/dashboard-routes.js';
import { eventRoutes } from './routes/event-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { notifyRoutes } from './routes/notify-routes.js';
import { opsRoutes } from './routes/ops-routes.js';
import { JobSchema } from './routes/schemas.js';
import { timerRoutes } from './routes/timer-routes.js';

/** Reconnect delay suggested to event-stream clients. */
const SSE_RETRY_MS = 1000;

declare module 'fastify' {
  interface FastifyInstance {
    /** The job service behind the routes. */
    jobs: JobService;
    /** This server's Prometheus metrics (`GET /metrics`). */
    metrics: ServerMetrics;
  }
}

/** Builds the server. Call `listen()` on the result to serve. */
export async function buildServer(options: ServerOptions = {}): Promise<FastifyInstance> {
  const opts = normalizeServerOptions(options);
  // Fastify's handler, and in front of it (below, once the service exists) the hot reads.
  let listener: RequestListener | undefined;
  const app = Fastify({
    serverFactory: (handler, fastifyOptions) => {
      listener = handler;
      return createHttpServer(fastifyOptions, (req, res) => listener!(req, res));
    },
    ...loggerOption(opts.logger),
    bodyLimit: opts.bodyLimit,
    trustProxy: opts.trustProxy.length > 0 ? [...opts.trustProxy] : false,
    // The id comes from X-Request-Id when it is sensible (see http/request-id.ts), else it is new.
    requestIdHeader: false,
    genReqId: (request) => requestIdOf(request.headers['x-request-id']),
    return503OnClosing: true,
    // Long-polls and streams would otherwise hold `close()` until they end on their own.
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Each request's pino child is made on its first line: pino's redaction of the bindings cost ~5% per request (bench/server).
    ...(opts.logger === false ? {} : { childLoggerFactory: lazyChildLoggerFactory }),
    // Undecodable URLs and bytes Node's parser refuses get problem+json too, not Fastify's own JSON.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  // Shared schemas first: a later addSchema() in a plugin would swap in Fastify's default validator.
  app.addSchema(JobSchema);
  app.setValidatorCompiler(validatorCompiler());
  const metrics = new ServerMetrics();

  // One engine holds everything stored: jobs, keys, deliveries, rate limits, the change feed.
  const engine = opts.engine ?? openEngine({ ...opts, log: app.log });
  const { keys, limiter } = engine;
  // Every failed store or feed call, from any path, counts once in jobwait_store_errors_total.
  const store = countErrors(engine.jobs, 'store', metrics);
  const feed = countErrors(engine.feed, 'feed', metrics);
  engine.onConnectionError(() => metrics.storeErrors.inc({ component: engine.kind, operation: 'connection' }));
  const service = new JobService(store, feed, app.log, { errorRate: opts.errorRate, seed: opts.seed }, opts.now);
  const stopDueHints = engine.dueTimes?.((dueAt) => service.expectDue(dueAt));
  const hub = new SseHub(opts.heartbeatMs);
  // Webhooks and email: enqueued when a job becomes final (once per job across a cluster), sent in the background.
  const notify = new Notifications({
    ...opts,
    deliveries: engine.deliveries,
    persistent: engine.persistent,
    log: app.log,
    onDeliveryAttempt: (kind, status) => metrics.deliveries.inc({ kind, result: status === 'pending' ? 'retrying' : status }),
  });
  service.onJobFinal(notify.jobFinal);
  await bootstrapKeys(keys, opts.apiKeys, opts.now());
  let draining = false;
  app.decorate('jobs', service);
  app.decorate('notify', notify);
  app.decorate('metrics', metrics);
  service.onJobCreated(() => metrics.jobsCreated.inc());
  service.onJobFinal(async (job) => void metrics.jobsFinished.inc({ outcome: job.state }));
  metrics.countWaiters({ longPoll: () => service.heldWaits(), sse: () => hub.size });
  metrics.countDeliveries(() => notify.dispatcher.stats());

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerHttpMetrics(app, metrics);
  registerProblemHandlers(app);
  const access = registerAccessControl(app, { keys, limiter, defaultPolicy: opts.rateLimit === false ? undefined : opts.rateLimit, now: opts.now, onRateLimited: (scope) => metrics.rateLimited.inc({ scope }) });
  if (opts.hotReads && opts.trustProxy.length === 0) {
    listener = hotReads({ now: service.now, store: engine.jobs, access, metrics, log: app.log, isClosing: () => draining }, listener!);
  }
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
  await app.register(jobRoutes, { ...limits, refuseCallbackUrl: (url: string) => notify.refuseCallbackUrl(url), waits: metrics });
  await app.register(eventRoutes, { service, hub, retryMs: SSE_RETRY_MS, waits: metrics });
  await app.register(notifyRoutes, { service, deliveries: notify.deliveries, secrets: notify.secrets });
  await app.register(opsRoutes, { store, feed, isDraining: () => draining });
  await app.register(metricsRoutes, { metrics, token: opts.metricsToken });
  await app.register(dashboardRoutes);

  app.addHook('onReady', async () => {
    await notify.start();
    await service.start();
    app.log.info({ store: engine.kind, ...engine.details }, 'store opened');
    // Not awaited: the key store may be a Redis that is down right now, which must not hold or fail the start.
    void access.isOpen().then(
      (open) => (open ? app.log.warn('no API keys configured: running open, all requests act as one tenant (create one with `jobwait keys create`)') : app.log.info('API keys required (Authorization: Bearer <key>)')),
      (error: unknown) => app.log.warn({ err: error }, 'could not read the API keys at start (store unreachable); requests need it'),
    );
    app.log.info(opts.rateLimit === false ? 'rate limits off' : { rateLimit: opts.rateLimit }, 'rate limits per key (per IP when open)');
  });
  app.addHook('preClose', async () => {
    // Drain: held long-polls answer with the current state, streams close with a reconnect hint.
    draining = true;
    stopDueHints?.();
    await service.close();
    hub.closeAll(SSE_RETRY_MS);
    // Webhooks in flight get a moment to finish; pending ones stay stored for the next start.
    await notify.stop();
  });
  app.addHook('onClose', () => engine.close());
  return app;
}

function loggerOption(logger: ServerOptions['logger']): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  if (logger === undefined || logger === true) return { logger: jobwaitLoggerOptions('info') };
  if (logger === false) return { logger: false };
  if (typeof (logger as FastifyBaseLogger).child === 'function') return { loggerInstance: logger as FastifyBaseLogger };
  const { level, stream } = logger as { level?: string; stream?: { write(line: string): unknown } };
  return { logger: { ...jobwaitLoggerOptions(level ?? 'info'), ...(stream ? { stream } : {}) } };
}

/** Bodies are validated strictly (no "10" for 10); query strings, params and headers are text, so they are coerced. */
function validatorCompiler() {
  const common = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false } as const;
  const strict = new Ajv({ ...common, coerceTypes: false });
  const coercing = new Ajv({ ...common, coerceTypes: 'array' });
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => (httpPart === 'body' ? strict : coercing).compile(schema);
}
