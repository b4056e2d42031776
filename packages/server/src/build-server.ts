/**
 * `buildServer(options, deps)`: the whole jobwait HTTP server as a Fastify
 * instance, not yet listening (tests use `inject()` or `listen({port: 0})`).
 * `options` is plain configuration (declared in `config/server-options.ts`);
 * `deps` are objects to use instead of the ones the options would make.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { deprecationWarnings } from './config/option-schema.js';
import { resolveServerOptions, SERVER_SCHEMA, type ResolvedServerOptions, type ServerOptions } from './config/server-options.js';
import { clientErrorHandler, frameworkErrorHandler, registerProblemHandlers } from './errors/problem-handler.js';
import { AccessControl, accessHook, OPEN_TENANT } from './auth/access-control.js';
import { logAccessMode } from './auth/access-mode-log.js';
import { generateReadSecret, storedReadTokens } from './auth/read-token.js';
import { bootstrapKeys, readKeysFile } from './auth/bootstrap-keys.js';
import type { AccessMode } from './auth/key-store.js';
import type { Engine } from './engines/engine.js';
import { openEngine } from './engines/open-engine.js';
import { corsPreflightRoutes, registerCorsHooks } from './http/cors.js';
import { earlyReads, earlyReadServer, type EarlyRead } from './http/early-reads.js';
import { answerRecorder, registerRequestHooks } from './http/request-hooks.js';
import { requestIdOf } from './http/request-id.js';
import { routeValidatorCompiler } from './http/route-validators.js';
import { SseHub } from './http/sse-hub.js';
import { IngestApplier } from './ingest/ingest-applier.js';
import { IngestSources } from './ingest/ingest-sources.js';
import { JobService } from './jobs/job-service.js';
import { RetentionSweeper } from './jobs/retention-sweeper.js';
import { watchConnectionErrors } from './limits/connection-errors.js';
import { fdBudget, readFdLimit } from './limits/fd-limit.js';
import { HeldConnections } from './limits/held-connections.js';
import { Notifications } from './notify/notifications.js';
import type { DefaultEndpointLookup } from './notify/webhook-secrets.js';
import { prettyDestination, resolveLogFormat } from './logging/log-format.js';
import { jobwaitLoggerOptions } from './logging/log-options.js';
import { RequestLog } from './logging/request-log.js';
import { lazyChildLoggerFactory } from './logging/lazy-child-logger.js';
import { countErrors } from './metrics/count-errors.js';
import { ServerMetrics } from './metrics/metrics.js';
import { metricsRoutes } from './routes/metrics-routes.js';
import { dashboardRoutes } from './routes/dashboard-routes.js';
import { batchRoutes } from './routes/batch-routes.js';
import { eventRoutes } from './routes/event-routes.js';
import { setWaitRoutes } from './routes/set-wait-routes.js';
import { jobCountRoutes } from './routes/job-count-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { reportRoutes } from './routes/report-routes.js';
import { OverdueWatch } from './predict/overdue-watch.js';
import { Predictor } from './predict/predictor.js';
import { generateReportSecret, ReportTokens } from './auth/report-token.js';
import { notifyRoutes } from './routes/notify-routes.js';
import { opsRoutes } from './routes/ops-routes.js';
import { readTokenRoutes } from './routes/read-token-routes.js';
import { JobSchema } from './routes/schemas.js';
import { timerRoutes } from './routes/timer-routes.js';

/** Key of the generated read-token secret in the engine's settings: stored once (insert-if-absent), shared by every instance. */
const READ_TOKEN_SECRET_SETTING = 'read-token-secret';
/** Key of the generated report secret in the engine's settings (kept once, shared by every instance). */
const REPORT_SECRET_SETTING = 'report-secret';

/** Reconnect delay suggested to event-stream clients. */
const SSE_RETRY_MS = 1000;
/** Holds one key may have at once unless configured (or half the server's ceiling, when that is lower). */
const DEFAULT_MAX_HELD_PER_KEY = 1000;
/** Connections kept beyond an explicit ceiling on holds, for plain requests. */
const PLAIN_REQUEST_ROOM = 96;

declare module 'fastify' {
  interface FastifyInstance {
    /** The job service behind the routes. */
    jobs: JobService;
    /** This server's Prometheus metrics (`GET /metrics`). */
    metrics: ServerMetrics;
    /** Deletes finished jobs past `--retention` in the background; `sweep()` runs a pass now. */
    retention: RetentionSweeper;
    /** Long-polls and event streams held now, with their limits. */
    held: HeldConnections;
    /** The queues job events come from (`--ingest-sources`; none by default). */
    ingest: IngestSources;
  }
}

/** Objects `buildServer()` uses instead of the ones its options would make (tests, embedding). */
export interface ServerDeps {
  /**
   * An engine the caller opened (`openEngine()`, e.g. a test's with a part swapped), used instead of
   * opening the one `store` names. The server closes it when it closes.
   */
  engine?: Engine;
  /** The tenant's default webhook endpoint and its secret, for jobs without a `callbackUrl`. */
  webhookDefaultEndpoint?: DefaultEndpointLookup;
  /** Clock, for tests. */
  now?: () => number;
  /** A pino logger used as it is (its own level and redaction); `logLevel` then does not apply. */
  logger?: FastifyBaseLogger;
  /**
   * Where the server's own logger writes its lines (stdout by default); with `logFormat: 'auto'`,
   * lines are pretty when it says it is a terminal (`isTTY`).
   */
  logStream?: { write(line: string): unknown; isTTY?: boolean };
}

/** Builds the server. Call `listen()` on the result to serve. */
export async function buildServer(options: ServerOptions = {}, deps: ServerDeps = {}): Promise<FastifyInstance> {
  const opts = resolveServerOptions(options);
  const now = deps.now ?? Date.now;
  const rateLimit = opts.rateLimit > 0 ? { perSecond: opts.rateLimit, burst: opts.rateBurst } : undefined;
  const apiKeys = [...opts.apiKeys, ...(opts.apiKeysFile === undefined ? [] : readKeysFile(opts.apiKeysFile))];
  const logging = await loggerOption(opts, deps);
  // The hot reads' early path, made below once the parts it shares exist (http/early-reads.ts).
  let early: EarlyRead | undefined;
  const app = Fastify({
    serverFactory: earlyReadServer(() => early),
    ...logging.fastify,
    // One line per request at most, written by the request log (logging/request-log.ts), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
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
    ...(opts.logLevel === 'silent' && !deps.logger ? {} : { childLoggerFactory: lazyChildLoggerFactory }),
    // Undecodable URLs and bytes Node's parser refuses get problem+json too, not Fastify's own JSON.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  // Shared schemas first: a later addSchema() in a plugin would swap in Fastify's default validator.
  app.addSchema(JobSchema);
  app.setValidatorCompiler(routeValidatorCompiler());
  for (const warning of deprecationWarnings(SERVER_SCHEMA, options)) app.log.warn(warning);
  const metrics = new ServerMetrics();

  // One engine holds everything stored: jobs, keys, deliveries, rate limits, the change feed.
  const engine = deps.engine ?? openEngine({ ...opts, log: app.log, now });
  const { keys, limiter } = engine;
  // Every failed store or feed call, from any path, counts once in jobwait_store_errors_total.
  const store = countErrors(engine.jobs, 'store', metrics);
  const feed = countErrors(engine.feed, 'feed', metrics);
  engine.onConnectionError(() => metrics.storeErrors.inc({ component: engine.kind, operation: 'connection' }));
  const service = new JobService(store, feed, app.log, { errorRate: opts.errorRate, seed: opts.seed, jobTimeoutSeconds: opts.jobTimeoutSeconds }, now);
  // Every completed reported job of a kind teaches the kind's model in the engine (docs/predicted-waits.md).
  const predictor = new Predictor(engine.models, app.log, now, {
    halfLifeSamples: opts.predictHalfLife,
    minSamples: opts.predictMinSamples,
    overdueFactor: opts.overdueFactor,
    overdueMinSamples: opts.overdueMinSamples,
  });
  service.onReportedEnd((job) => void predictor.learn(job));
  // One secret per engine (or the operator's): every instance and every replayed create mints the same
  // tokens. Read on first use, not at build: a server must start (and say it is not ready) while its engine is down.
  let tokensLoading: Promise<ReportTokens> | undefined;
  const reportTokens = (): Promise<ReportTokens> =>
    (tokensLoading ??= (async () => new ReportTokens(opts.reportSecret ?? (await engine.deliveries.ensureSetting(REPORT_SECRET_SETTING, generateReportSecret()))))().catch(
      (error: unknown) => {
        tokensLoading = undefined;
        throw error;
      },
    ));
  const stopDueHints = engine.dueTimes?.((dueAt) => service.expectDue(dueAt));
  const hub = new SseHub(opts.heartbeatMs);
  // Webhooks and email: enqueued when a job becomes final (once per job across a cluster), sent in the background.
  const notify = new Notifications({
    ...opts,
    webhookDefaultEndpoint: deps.webhookDefaultEndpoint,
    now,
    currentJob: (job) => service.get(job.tenant, job.id).catch(() => undefined),
    deliveries: engine.deliveries,
    persistent: engine.persistent,
    log: app.log,
    onDeliveryAttempt: (kind, status) => metrics.deliveries.inc({ kind, result: status === 'pending' ? 'retrying' : status }),
  });
  service.onJobFinal(notify.jobFinal);
  service.onJobChanged(notify.jobChanged);
  // Finished jobs past retention go in the background, on every engine; /metrics counts them and sizes the file.
  const retention = new RetentionSweeper({ engine, retentionSeconds: opts.retentionSeconds, log: app.log, now, onPruned: (counts) => metrics.pruned(counts) });
  if (engine.size) metrics.countStorage(engine.size);
  await bootstrapKeys(keys, apiKeys, now());
  // Read when first needed (the store may be down at start); instances racing on a fresh store all end up with the first secret stored.
  const readTokens = storedReadTokens(() => engine.deliveries.ensureSetting(READ_TOKEN_SECRET_SETTING, generateReadSecret()));
  let draining = false;
  app.decorate('jobs', service);
  app.decorate('notify', notify);
  app.decorate('metrics', metrics);
  app.decorate('retention', retention);
  service.onJobCreated(() => metrics.jobsCreated.inc());
  service.onJobFinal(async (job) => void metrics.jobsFinished.inc({ outcome: job.state }));
  // Jobs of a known kind running past p99 × the overdue factor: counted, and announced to those who asked.
  const overdue = new OverdueWatch(service, predictor, (job, view) => {
    metrics.jobsOverdue.inc();
    return notify.jobOverdue(job, view);
  }, app.log);
  service.onJobCreated(overdue.jobCreated);
  metrics.countWaiters({ longPoll: () => service.heldWaits(), sse: () => hub.size });
  metrics.countDeliveries(() => notify.dispatcher.stats());
  // Held long-polls and streams, per key and in total, within what the process's descriptors allow.
  const fdLimit = readFdLimit();
  const budget = fdBudget(fdLimit?.soft);
  const maxHeld = opts.maxHeldConnections ?? budget.maxHeld;
  const maxHeldPerKey = opts.maxHeldPerKey ?? Math.min(DEFAULT_MAX_HELD_PER_KEY, Math.max(1, Math.floor(maxHeld / 2)));
  const held = new HeldConnections({ perHolder: maxHeldPerKey, total: maxHeld }, (reason) => metrics.holdRefusals.inc({ reason: reason === 'holder-cap' ? 'key_cap' : 'server_ceiling' }));
  metrics.countHeld((kind) => held.count(kind), { perKey: maxHeldPerKey, server: maxHeld });
  // Past this, Node closes a new connection at once: never an accept() that fails with EMFILE.
  app.server.maxConnections = Math.max(budget.maxConnections, maxHeld + PLAIN_REQUEST_ROOM);
  const stopWatchingConnections = watchConnectionErrors(app.server, app.log, (trouble) => metrics.connectionErrors.inc({ kind: trouble === 'accept-error' ? 'accept_error' : 'dropped' }));
  app.decorate('held', held);
  // Queue messages are reports like the HTTP route's: the same JobService.report, the same result limit.
  const applier = new IngestApplier({
    service,
    maxResultBytes: opts.maxResultBytes,
    retentionSeconds: opts.retentionSeconds,
    refuseCallbackUrl: (url) => notify.refuseCallbackUrl(url),
  });
  const ingest = new IngestSources(opts.ingestSources, applier, app.log, (source, result) => metrics.ingested(source, result));
  metrics.countIngest(() => ingest.status());
  app.decorate('ingest', ingest);

  const requestLog = new RequestLog(app.log, { lineLevel: logging.pretty ? 'info' : 'debug' });
  const record = answerRecorder(metrics, requestLog);
  registerRequestHooks(app, metrics, record);
  registerProblemHandlers(app);
  // Before the access check: a refused read (401 expired, 403 scope) still tells the page why.
  registerCorsHooks(app, opts.corsOrigin);
  const accessOptions = {
    keys,
    limiter,
    defaultPolicy: rateLimit,
    now,
    readTokens,
    onRateLimited: (scope: 'key' | 'ip') => metrics.rateLimited.inc({ scope }),
    // The first read (at start, or the first request if the store was down then) and every change.
    onAccessMode: (mode: AccessMode, previous: AccessMode | undefined) => logAccessMode(app.log, mode, previous, createKeyHint(engine)),
  };
  const access = new AccessControl(accessOptions);
  early = earlyReads({ service, passesUnchecked: () => access.passesUnchecked(), enabled: () => !draining && opts.corsOrigin.length === 0, record });
  app.decorateRequest('tenant', OPEN_TENANT);
  app.decorateRequest('keyId', undefined);
  app.decorateRequest('readScope', undefined);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'jobwait', version: '0.1.0', description: 'Start long-running jobs and learn the moment they finish: long-poll, server-sent events, ETA hints.' },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: "an API key (jw_…); not needed while the server runs open (no key was ever created)" },
          reportToken: { type: 'http', scheme: 'bearer', description: "a job's report token (jwr_…), from the answer of the create of a job without duration: the worker's capability for that one job" },
        },
      },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const limits = { service, maxDurationSeconds: opts.maxDurationSeconds, maxWaitSeconds: opts.maxWaitSeconds };
  // The API (the seed's routes and /v1) in one scope behind the key and rate-limit check; the public routes below pay nothing for it.
  await app.register(async (api) => {
    api.addHook('onRequest', accessHook(access, accessOptions));
    await api.register(timerRoutes, { ...limits, held });
    await api.register(jobRoutes, { ...limits, predictor, reportTokens, refuseCallbackUrl: (url: string) => notify.refuseCallbackUrl(url), waits: metrics, held });
    await api.register(jobCountRoutes, { service });
    await api.register(eventRoutes, { service, hub, retryMs: SSE_RETRY_MS, waits: metrics, held, predictor });
    await api.register(batchRoutes, { ...limits, batchBodyLimit: opts.batchBodyLimit, reportTokens, refuseCallbackUrl: (url: string) => notify.refuseCallbackUrl(url) });
    await api.register(setWaitRoutes, { ...limits, hub, retryMs: SSE_RETRY_MS, waits: metrics, held });
    await api.register(notifyRoutes, { service, deliveries: notify.deliveries, secrets: notify.secrets });
    await api.register(readTokenRoutes, { service, tokens: readTokens, defaultTtlSeconds: opts.readTokenTtlSeconds, maxTtlSeconds: opts.readTokenMaxTtlSeconds });
  });
  // Outside the API's scope: a browser's preflight carries no credentials.
  await app.register(corsPreflightRoutes, { origins: opts.corsOrigin });
  // A worker's report is authorized by its job's token, not an API key: outside the API scope's key check.
  await app.register(reportRoutes, {
    service,
    tokens: reportTokens,
    maxResultBytes: opts.maxResultBytes,
    limiter,
    policy: rateLimit,
  });
  await app.register(opsRoutes, { store, feed, isDraining: () => draining, ingest: ingest.configured ? () => ingest.status() : undefined });
  await app.register(metricsRoutes, { metrics, token: opts.metricsToken });
  await app.register(dashboardRoutes);

  app.addHook('onReady', async () => {
    await notify.start();
    await service.start();
    retention.start();
    app.log.info({ store: engine.kind, ...engine.details }, 'store opened');
    if (ingest.configured) {
      ingest.start();
      app.log.info({ sources: opts.ingestSources.map(({ name, kind, tenants }) => ({ name, kind, tenants })) }, 'ingest: taking job events from the configured queues');
    }
    // Not awaited: the key store may be a Redis that is down right now, which must not hold or fail the start.
    void access.accessMode().catch((error: unknown) =>
      app.log.warn({ err: error }, 'could not read the access mode at start (store unreachable): API requests get 503 until it can be read'),
    );
    app.log.info(rateLimit === undefined ? 'rate limits off' : { rateLimit }, 'rate limits per key (per IP when open)');
    app.log.info({ fdLimit: fdLimit?.soft, maxConnections: app.server.maxConnections, maxHeld, maxHeldPerKey }, 'held connections: long-polls and event streams, per key (per IP when open) and in total');
    if (maxHeld > budget.maxHeld) app.log.warn({ maxHeld, fromFdLimit: budget.maxHeld, fdLimit: fdLimit?.soft }, 'max-held-connections is above what the file-descriptor limit leaves room for: the process may run out of descriptors (raise ulimit -n)');
  });
  app.addHook('preClose', async () => {
    // Drain: held long-polls answer with the current state, streams close with a reconnect hint.
    draining = true;
    stopDueHints?.();
    // First: a message being applied finishes and is acknowledged while the store is still open.
    await ingest.stop();
    await retention.stop();
    await service.close();
    hub.closeAll(SSE_RETRY_MS);
    // Webhooks in flight get a moment to finish; pending ones stay stored for the next start.
    await notify.stop();
  });
  app.addHook('onClose', async () => {
    overdue.close();
    requestLog.close();
    stopWatchingConnections();
    await engine.close();
  });
  return app;
}

/** How to make the first key for this server's data, as a command that runs as written. */
export function createKeyHint(engine: Pick<Engine, 'kind' | 'details'>): string {
  const arg = (value: unknown): string => (/^[\w./:@-]+$/.test(String(value)) ? String(value) : `'${String(value).replace(/'/g, `'\\''`)}'`);
  const { dataDir, redisUrl, redisPrefix } = engine.details;
  if (engine.kind === 'sqlite' && typeof dataDir === 'string') return `create one with: npx jobwait keys create --name me --data-dir ${arg(dataDir)}`;
  if (engine.kind === 'redis') return `create one with: npx jobwait keys create --name me --store redis --redis-url ${arg(redisUrl)} --redis-prefix ${arg(redisPrefix)}`;
  return 'this store keeps no keys: pass them with --api-keys-file or JOBWAIT_API_KEYS';
}

/** Fastify's logger options, and whether lines are pretty (for a person) rather than JSON. */
async function loggerOption(opts: ResolvedServerOptions, deps: ServerDeps): Promise<{ fastify: Pick<FastifyServerOptions, 'logger' | 'loggerInstance'>; pretty: boolean }> {
  if (deps.logger) return { fastify: { loggerInstance: deps.logger }, pretty: false };
  if (opts.logLevel === 'silent') return { fastify: { logger: false }, pretty: false };
  const pretty = resolveLogFormat(opts.logFormat, deps.logStream) === 'pretty';
  const destination = pretty ? await prettyDestination(deps.logStream) : deps.logStream;
  return { fastify: { logger: { ...jobwaitLoggerOptions(opts.logLevel), ...(destination ? { stream: destination } : {}) } }, pretty };
}
