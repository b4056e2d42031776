/**
 * The hooks every request passes, callback style (an `async` hook costs a
 * promise per request): the request id echoed on the answer, and once the
 * answer is out, its metrics and its request-log line in one hook.
 */
import type { FastifyInstance } from 'fastify';
import type { RequestLog } from '../logging/request-log.js';
import type { ServerMetrics } from '../metrics/metrics.js';

/** Route label of requests that matched no route (404s): raw URLs would make one series per probe of a scanner. */
const UNMATCHED = 'unmatched';

/** Adds the hooks. Register on the root instance, before the routes, so every route has them. */
export function registerRequestHooks(app: FastifyInstance, metrics: ServerMetrics, requestLog: RequestLog): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const held = metrics.isHeld(request);
    const ms = held ? undefined : reply.elapsedTime;
    const status = reply.statusCode;
    metrics.requests.of(request.routeOptions.url ?? UNMATCHED, request.method, status).add(ms === undefined ? undefined : ms / 1000);
    requestLog.record(request.id, request.method, request.url, status, ms);
    done();
  });
}
