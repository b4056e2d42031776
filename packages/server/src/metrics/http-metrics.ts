/** Counts every answer by route pattern, method and status, and times the ones that were not held. */
import type { FastifyInstance } from 'fastify';
import type { ServerMetrics } from './metrics.js';

/** Label of requests that matched no route (404s): raw URLs would make one series per probe of a scanner. */
const UNMATCHED = 'unmatched';

/** Adds the `onResponse` hook. Register on the root instance so it sees every route. */
export function registerHttpMetrics(app: FastifyInstance, metrics: ServerMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.of(request.routeOptions.url ?? UNMATCHED, request.method, reply.statusCode).add(metrics.isHeld(request) ? undefined : reply.elapsedTime / 1000);
  });
}
