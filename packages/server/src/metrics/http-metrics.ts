/** Counts every answer by route pattern, method and status, and times the ones that were not held. */
import type { FastifyInstance } from 'fastify';
import type { ServerMetrics } from './metrics.js';

/** Label of requests that matched no route (404s): raw URLs would make one series per probe of a scanner. */
const UNMATCHED = 'unmatched';

/** Adds the `onResponse` hook. Register on the root instance so it sees every route. */
export function registerHttpMetrics(app: FastifyInstance, metrics: ServerMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const labels = { route: request.routeOptions.url ?? UNMATCHED, method: request.method, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    if (!metrics.isHeld(request)) metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
}
