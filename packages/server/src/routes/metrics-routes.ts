/** `GET /metrics`: Prometheus text exposition, optionally behind a bearer token of its own. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { problem, sendProblem } from '../errors/problem-handler.js';
import type { ServerMetrics } from '../metrics/metrics.js';

/** Options of {@link metricsRoutes}. */
export interface MetricsRoutesOptions {
  metrics: ServerMetrics;
  /** When set, scrapes must send `Authorization: Bearer <token>`; API keys do not open it. */
  token?: string | undefined;
}

/** Registers `/metrics`. It is outside the API keys' scope: scrapers hold a metrics token, not a tenant's key. */
export async function metricsRoutes(app: FastifyInstance, options: MetricsRoutesOptions): Promise<void> {
  const { metrics, token } = options;
  const expected = token === undefined ? undefined : digest(token);
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (expected) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
      // Compare digests: equal lengths for timingSafeEqual, and no early exit on the first differing byte.
      if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
        reply.header('www-authenticate', 'Bearer realm="jobwait-metrics"');
        return sendProblem(reply, { ...problem('JOBWAIT_ERR_UNAUTHORIZED', 'send the metrics token as Authorization: Bearer <token>'), instance: request.url });
      }
    }
    const { contentType, body } = await metrics.render();
    return reply.header('cache-control', 'no-store').type(contentType).send(body);
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
