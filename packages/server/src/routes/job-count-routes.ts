/**
 * `GET /v1/jobs/counts`: the key's jobs by status, counted by the store (kept as jobs change, not
 * counted row by row), so the answer costs the same with ten jobs or ten million. A dashboard
 * shows these instead of counting the rows it happens to hold.
 */
import type { FastifyInstance } from 'fastify';
import type { JobService } from '../jobs/job-service.js';
import { JobCountsSchema } from './schemas.js';
import { tenantOf } from './tenant.js';

/** Options of {@link jobCountRoutes}. */
export interface JobCountRoutesOptions {
  service: JobService;
}

/** Registers `GET /v1/jobs/counts`. */
export async function jobCountRoutes(app: FastifyInstance, options: JobCountRoutesOptions): Promise<void> {
  const { service } = options;
  app.get(
    '/v1/jobs/counts',
    {
      schema: {
        summary: "Count this key's jobs by status (as reads show them: a job past its due time counts as its outcome)",
        response: { 200: JobCountsSchema },
      },
    },
    async (request, reply) => {
      const now = service.now();
      const counts = await service.countByStatus(tenantOf(request), now);
      reply.header('cache-control', 'no-store');
      return { counts, total: counts.pending + counts.completed + counts.error + counts.canceled, at: new Date(now).toISOString() };
    },
  );
}
