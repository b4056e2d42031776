/**
 * `GET /v1/jobs/counts`: the key's jobs by status, counted by the store (kept as jobs change, not
 * counted row by row), so the answer costs the same with ten jobs or ten million. A dashboard
 * shows these instead of counting the rows it happens to hold.
 */
import type { FastifyInstance } from 'fastify';
import type { JobService } from '../jobs/job-service.js';
import { countSet, setProgress } from '../jobs/job-set.js';
import { CountsQuery } from './job-set-schemas.js';
import { JobCountsSchema, ProblemSchema } from './schemas.js';
import { tenantOf } from './tenant.js';

/** Options of {@link jobCountRoutes}. */
export interface JobCountRoutesOptions {
  service: JobService;
}

/** Registers `GET /v1/jobs/counts`. */
export async function jobCountRoutes(app: FastifyInstance, options: JobCountRoutesOptions): Promise<void> {
  const { service } = options;
  app.get<{ Querystring: CountsQuery }>(
    '/v1/jobs/counts',
    {
      schema: {
        summary: "Count this key's jobs by status (as reads show them: a job past its due time counts as its outcome); with ?tag= or ?batch=, that set's, with its progress",
        querystring: CountsQuery,
        response: { 200: JobCountsSchema, 400: ProblemSchema },
      },
    },
    async (request, reply) => {
      const now = service.now();
      reply.header('cache-control', 'no-store');
      const { tag, batch } = request.query;
      if (tag !== undefined && batch !== undefined) {
        // A batch's jobs with a tag: a batch holds at most 1,000 jobs, read and counted here.
        const members = await service.members(tenantOf(request), { batch });
        const { total, progress, ...counts } = countSet(members.filter((job) => job.tags?.includes(tag)), now);
        return { counts, total, progress, at: new Date(now).toISOString() };
      }
      if (tag !== undefined || batch !== undefined) {
        const counts = await service.countGroup(tenantOf(request), batch !== undefined ? { batch } : { tag: tag! }, now);
        const total = counts.pending + counts.completed + counts.error + counts.canceled;
        return { counts, total, progress: setProgress(total, counts.pending), at: new Date(now).toISOString() };
      }
      const counts = await service.countByStatus(tenantOf(request), now);
      return { counts, total: counts.pending + counts.completed + counts.error + counts.canceled, at: new Date(now).toISOString() };
    },
  );
}
