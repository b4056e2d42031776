/**
 * Many jobs in one request: `POST /v1/batches` creates up to 1,000 jobs in one
 * transaction, all or none, each invalid item named by its index; `GET /v1/batches/{id}` reads a
 * batch with its counts; `POST /v1/jobs/lookup` reads up to 1,000 jobs by id in one request.
 */
import type { FastifyInstance } from 'fastify';
import type { ReportTokens } from '../auth/report-token.js';
import { BatchItemsError } from '../errors/errors.js';
import { jobView, type JobRecord } from '../jobs/job-record.js';
import type { JobService, NewJob } from '../jobs/job-service.js';
import { countSet, type SetCounts } from '../jobs/job-set.js';
import { isReported } from '../jobs/transition.js';
import type { BatchRecord } from '../store/job-store.js';
import { createJobProblem, type CreateJobLimits } from './create-job-checks.js';
import { BatchParams, BatchSchema, CreateBatchBody, CreatedBatchSchema, LookupBody, LookupSchema } from './job-set-schemas.js';
import { IdempotencyHeaders, MAX_TAGS, ProblemSchema } from './schemas.js';
import { tenantOf } from './tenant.js';

/** Options of {@link batchRoutes}. */
export interface BatchRoutesOptions extends CreateJobLimits {
  service: JobService;
  /** Largest body of `POST /v1/batches`, in bytes (`--batch-body-limit`). */
  batchBodyLimit: number;
  /** Mints the report tokens of a batch's reported jobs. */
  reportTokens: () => Promise<ReportTokens>;
}

const problems = { 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 413: ProblemSchema, 422: ProblemSchema };

/** A batch as the API shows it. */
export function batchView(batch: BatchRecord, counts: SetCounts): Record<string, unknown> {
  const view: Record<string, unknown> = { id: batch.id, createdAt: new Date(batch.createdAt).toISOString(), total: batch.total };
  if (batch.tags !== undefined) view.tags = [...batch.tags];
  view.counts = counts;
  return view;
}

/** Registers the batch and lookup routes. */
export async function batchRoutes(app: FastifyInstance, options: BatchRoutesOptions): Promise<void> {
  const { service } = options;
  app.removeContentTypeParser('text/plain');

  app.post<{ Body: CreateBatchBody; Headers: { 'idempotency-key'?: string } }>(
    '/v1/batches',
    {
      // 1,000 jobs do not fit the 64 KiB of other routes.
      bodyLimit: options.batchBodyLimit,
      schema: {
        summary: 'Start up to 1,000 jobs in one transaction (all or none); Idempotency-Key covers the whole batch',
        body: CreateBatchBody,
        headers: IdempotencyHeaders,
        response: { 201: CreatedBatchSchema, ...problems },
      },
    },
    async (request, reply) => {
      const { jobs, tags } = request.body;
      const problemsFound = await Promise.all(
        jobs.map(async (job, index) => {
          const merged = new Set([...(tags ?? []), ...(job.tags ?? [])]);
          if (merged.size > MAX_TAGS) return { index, message: `has ${merged.size} tags with the batch's: at most ${MAX_TAGS}` };
          const message = await createJobProblem(job, options);
          return message === undefined ? undefined : { index, message };
        }),
      );
      const errors = problemsFound.filter((found) => found !== undefined);
      if (errors.length > 0) throw new BatchItemsError(errors);
      const created = await service.createBatch(tenantOf(request), jobs as NewJob[], { tags }, request.headers['idempotency-key']);
      const now = service.now();
      const tokens = created.jobs.some(isReported) ? await options.reportTokens() : undefined;
      const views = created.jobs.map((job) => {
        const view = jobView(job, now);
        return tokens && isReported(job) ? { ...view, reportToken: tokens.mint(job.id) } : view;
      });
      reply.header('location', `/v1/batches/${created.batch.id}`);
      reply.header('cache-control', 'no-store');
      if (created.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send({ batch: batchView(created.batch, countSet(created.jobs, now)), jobs: views });
    },
  );

  app.get<{ Params: BatchParams }>(
    '/v1/batches/:id',
    { schema: { summary: 'A batch with its counts', params: BatchParams, response: { 200: BatchSchema, ...problems } } },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const batch = await service.getBatch(tenant, request.params.id);
      const jobs = await service.members(tenant, { batch: batch.id });
      reply.header('cache-control', 'no-store');
      return batchView(batch, countSet(jobs, service.now()));
    },
  );

  app.post<{ Body: LookupBody }>(
    '/v1/jobs/lookup',
    {
      schema: {
        summary: "Read up to 1,000 jobs by id in one request (another key's and unknown ids are simply absent)",
        body: LookupBody,
        response: { 200: LookupSchema, ...problems },
      },
    },
    async (request, reply) => {
      const jobs: JobRecord[] = await service.getMany(tenantOf(request), request.body.ids);
      const now = service.now();
      reply.header('cache-control', 'no-store');
      return { jobs: jobs.map((job) => jobView(job, now)) };
    },
  );
}
