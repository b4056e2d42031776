/**
 * The jobs API: create (idempotent; a reported job's answer carries its report token), read
 * (with ETag, ETA hints and long-poll), list, cancel.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequestError } from '../errors/errors.js';
import { prefersUntilFinal, requestedWait } from '../http/prefer.js';
import { jobBody, jobHeaders, knownVersion } from '../http/job-answer.js';
import { answerJobRead } from '../http/read-answer.js';
import { whileConnected } from '../http/while-connected.js';
import { effectiveState, isFinal, jobView, type JobRecord } from '../jobs/job-record.js';
import type { JobService, NewJob } from '../jobs/job-service.js';
import { isReported } from '../jobs/transition.js';
import { createJobProblem } from './create-job-checks.js';
import type { ReportTokens } from '../auth/report-token.js';
import type { WaitObserver } from '../metrics/metrics.js';
import { CreatedJobSchema, CreateJobBody, GetJobQuery, IdempotencyHeaders, JobPageSchema, JobParams, ListJobsQuery, ProblemSchema } from './schemas.js';
import type { HeldConnections } from '../limits/held-connections.js';
import { holdFor } from '../limits/hold-request.js';
import { tenantOf } from './tenant.js';
import type { Predictor } from '../predict/predictor.js';

/** Options of {@link jobRoutes}. */
export interface JobRoutesOptions {
  service: JobService;
  maxDurationSeconds: number;
  maxWaitSeconds: number;
  /** Mints the report token a reported job's create answers with (loaded from the engine on first use). */
  reportTokens: () => Promise<ReportTokens>;
  /** Told of held long-polls and of how late they learnt of a final state (metrics). */
  waits?: WaitObserver | undefined;
  /** Why a `callbackUrl` may not be called (scheme, loopback/private targets after DNS), or `undefined` when it may. */
  refuseCallbackUrl?: ((url: string) => Promise<string | undefined>) | undefined;
  /** Long-polls held at once, per key and in total: past a limit a long-poll is refused (429/503). */
  held?: HeldConnections | undefined;
  /** Attaches what the server knows of a job's kind, for its expected end (absent: none shown). */
  predictor?: Predictor | undefined;
}

const problems = { 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema };

/** Registers the `/v1/jobs` routes. */
export async function jobRoutes(app: FastifyInstance, options: JobRoutesOptions): Promise<void> {
  const { service, maxDurationSeconds, maxWaitSeconds, predictor } = options;
  /** `job` with its kind's history attached, for a view and `Retry-After` that show its expected end. */
  const withHistory = (job: JobRecord): Promise<JobRecord> | JobRecord => (predictor && job.kind !== undefined ? predictor.attach(job) : job);
  // Bodies here are JSON only: Fastify's built-in text/plain parser would turn a JSON body sent as
  // text/plain into a string and answer a misleading "body must be object" instead of 415.
  app.removeContentTypeParser('text/plain');

  /**
   * Sends a job with its ETag, and `Retry-After` while pending: the body is a string made once
   * per stored record (`jobBody`; every waiter of a job is handed the same published record), so
   * Fastify sends it as it is, without running the response serializer.
   */
  function sendJob(reply: FastifyReply, job: JobRecord, status = 200): FastifyReply {
    const now = service.now();
    return reply.code(status).headers(jobHeaders(job, now)).send(jobBody(job, now));
  }

  app.post<{ Body: CreateJobBody; Headers: { 'idempotency-key'?: string } }>(
    '/v1/jobs',
    {
      schema: {
        summary: 'Start a job',
        body: CreateJobBody,
        headers: IdempotencyHeaders,
        response: { 201: CreatedJobSchema, ...problems },
      },
    },
    async (request, reply) => {
      const problem = await createJobProblem(request.body, options);
      if (problem !== undefined) throw new BadRequestError(problem);
      const body = request.body;
      const created = await service.create(tenantOf(request), body as NewJob, request.headers['idempotency-key']);
      const { replayed } = created;
      const job = await withHistory(created.job);
      reply.header('location', `/v1/jobs/${job.id}`);
      if (replayed) reply.header('idempotent-replayed', 'true');
      const now = service.now();
      const view = jobView(job, now);
      reply.headers(jobHeaders(job, now));
      // Derived from the job id, so a replay (the first answer lost) hands back the same working token.
      return reply.code(201).send(isReported(job) ? { ...view, reportToken: (await options.reportTokens()).mint(job.id) } : view);
    },
  );

  app.get<{ Params: JobParams; Querystring: GetJobQuery }>(
    '/v1/jobs/:id',
    {
      config: { readToken: true },
      schema: {
        summary: 'Read a job; with Prefer: wait=N (or ?wait=N) hold until it changes',
        params: JobParams,
        querystring: GetJobQuery,
        response: { 200: { $ref: 'Job#' }, 304: { type: 'null', description: 'unchanged since If-None-Match' }, ...problems },
      },
    },
    (request, reply) => {
      const wait = requestedWait(request.headers.prefer, request.query.wait);
      // The common read (no wait, a job without a kind's history, in the store's memory) answers without a promise.
      if (wait === undefined || wait <= 0) {
        const job = service.peek(tenantOf(request), request.params.id);
        if (job !== undefined && job.kind === undefined) return void answerRead(request, reply, job);
      }
      return readJob(request, reply, wait);
    },
  );

  /** Answers a read of `job` (the early path sends the same: http/read-answer.ts). */
  function answerRead(request: FastifyRequest<{ Params: JobParams }>, reply: FastifyReply, job: JobRecord): FastifyReply {
    const { status, headers, body } = answerJobRead(job, request.headers['if-none-match'], service.now());
    return reply.code(status).headers(headers).send(body);
  }

  /**
   * A read that waits for the store, a kind's history or a change (long-poll). It resolves to nothing
   * once the answer is sent: resolving to the reply, a thenable, would cost Fastify two more ticks per answer.
   */
  async function readJob(request: FastifyRequest<{ Params: JobParams }>, reply: FastifyReply, wait: number | undefined): Promise<void> {
    const tenant = tenantOf(request);
    const { id } = request.params;
    const known = knownVersion(request.headers['if-none-match'], id);
    let job: JobRecord;
    if (wait === undefined || wait <= 0) {
      job = await service.get(tenant, id);
    } else {
      // A read token's wait ends with the token: no answer is given past its end.
      const tokenLeft = request.readScope ? Math.max(1, Math.ceil((request.readScope.expiresAt - service.now()) / 1000)) : Infinity;
      const hold = Math.min(wait, maxWaitSeconds, tokenLeft);
      const untilFinal = prefersUntilFinal(request.headers.prefer);
      const slot = options.held ? holdFor(options.held, request, 'long-poll') : undefined;
      options.waits?.holding(request);
      const heldSince = service.now();
      try {
        job = (await whileConnected(request.raw, (signal) => service.waitForChange(tenant, id, hold * 1000, known, signal, untilFinal))).job;
      } finally {
        slot?.release();
      }
      reply.header('preference-applied', untilFinal ? `wait=${hold}, until=final` : `wait=${hold}`);
      const state = effectiveState(job, service.now());
      // Wake delay counts only waiters that were there before the job finished.
      if (isFinal(state.status) && state.updatedAt >= heldSince) options.waits?.woke('long-poll', service.now() - state.updatedAt);
    }
    // Only a job of a kind waits for its history: no promise for the others.
    answerRead(request, reply, job.kind === undefined ? job : await withHistory(job));
  }

  app.get<{ Querystring: ListJobsQuery }>(
    '/v1/jobs',
    { schema: { summary: "List this key's jobs, newest first", querystring: ListJobsQuery, response: { 200: JobPageSchema, ...problems } } },
    async (request, reply) => {
      const { status, cursor, limit, tag, batch } = request.query;
      const page = await service.list(tenantOf(request), { status, cursor, limit, tag, batch });
      const now = service.now();
      reply.header('cache-control', 'no-store');
      const jobs = await Promise.all(page.jobs.map(withHistory));
      return { jobs: jobs.map((job) => jobView(job, now)), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },
  );

  app.delete<{ Params: JobParams }>(
    '/v1/jobs/:id',
    { schema: { summary: 'Cancel a pending job', params: JobParams, response: { 200: { $ref: 'Job#' }, ...problems } } },
    async (request, reply) => sendJob(reply, await service.cancel(tenantOf(request), request.params.id)),
  );
}
