/**
 * The hooks every request passes, callback style (an `async` hook costs a
 * promise per request): the request id echoed on the answer, and once the
 * answer is out, its metrics and its request-log line in one hook. The early
 * path of the hot reads (http/early-reads.ts) records its answers through the
 * same {@link answerRecorder}.
 */
import type { FastifyInstance } from 'fastify';
import type { RequestLog } from '../logging/request-log.js';
import type { ServerMetrics } from '../metrics/metrics.js';

/** Route label of requests that matched no route (404s): raw URLs would make one series per probe of a scanner. */
const UNMATCHED = 'unmatched';

/**
 * Counts one answered request in the request metrics and writes its request-log line. `route` is
 * the route pattern; `ms` is undefined for a held request (long-poll, stream).
 */
export type AnswerRecorder = (route: string, method: string, status: number, ms: number | undefined, reqId: string, url: string) => void;

/** The {@link AnswerRecorder} of a server's metrics and request log. */
export function answerRecorder(metrics: ServerMetrics, requestLog: RequestLog): AnswerRecorder {
  return (route, method, status, ms, reqId, url) => {
    metrics.requests.of(route, method, status).add(ms === undefined ? undefined : ms / 1000);
    requestLog.record(reqId, method, url, status, ms);
  };
}

/** Adds the hooks. Register on the root instance, before the routes, so every route has them. */
export function registerRequestHooks(app: FastifyInstance, metrics: ServerMetrics, record: AnswerRecorder): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const ms = metrics.isHeld(request) ? undefined : reply.elapsedTime;
    record(request.routeOptions.url ?? UNMATCHED, request.method, reply.statusCode, ms, request.id, request.url);
    done();
  });
}
