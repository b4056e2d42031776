/** Liveness and readiness for load balancers and orchestrators. */
import type { FastifyInstance } from 'fastify';
import type { JobStore } from '../store/job-store.js';

/** Options of {@link opsRoutes}. */
export interface OpsRoutesOptions {
  store: JobStore;
  /** True once shutdown began: readiness turns false so the balancer stops sending work. */
  isDraining: () => boolean;
}

/** Registers `/healthz` and `/readyz`. */
export async function opsRoutes(app: FastifyInstance, options: OpsRoutesOptions): Promise<void> {
  app.get('/healthz', { schema: { hide: true }, config: { public: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true }, config: { public: true } }, async (request, reply) => {
    if (options.isDraining()) return reply.code(503).send({ status: 'draining' });
    try {
      await options.store.ping();
    } catch (error) {
      request.log.warn({ err: error }, 'store is not answering');
      return reply.code(503).send({ status: 'store unavailable' });
    }
    return { status: 'ready' };
  });
}
