/**
 * The two hot reads, `GET /status` and `GET /v1/jobs/{id}`, answered ahead of
 * Fastify's router when nothing of Fastify's is needed: a minimal Fastify
 * route alone already sits at or below the read target against a bare
 * node:http handler (bench:server's floors, docs/benchmarks.md), before
 * jobwait does anything.
 *
 * The early path answers only what it can answer exactly as the Fastify route
 * would, with the same parts: the answer from http/read-answer.ts, the request
 * id from http/request-id.ts, the access check of auth/access-control.ts (it
 * answers only while any request passes unchecked: open, no rate limit), the
 * metrics and the request-log line through the same recorder. Everything
 * else — another method or path, a query, a body, a wait, a conditional read,
 * keys or limits on, CORS, a job not in the store's memory or of a kind, a
 * draining server — goes to Fastify untouched.
 */
import { createServer, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import type { FastifyServerFactory } from 'fastify';
import { performance } from 'node:perf_hooks';
import { OPEN_TENANT } from '../auth/access-control.js';
import type { JobService } from '../jobs/job-service.js';
import { isJobId } from '../jobs/job-id.js';
import { answerJobRead, answerStatusRead, type ReadAnswer } from './read-answer.js';
import type { AnswerRecorder } from './request-hooks.js';
import { requestIdOf } from './request-id.js';

/** Answers `req` and returns true, or returns false having touched nothing (Fastify then answers it). */
export type EarlyRead = (req: IncomingMessage, res: ServerResponse) => boolean;

/** What the early path shares with the Fastify routes. */
export interface EarlyReadOptions {
  service: Pick<JobService, 'peek' | 'peekCurrentTimer' | 'now'>;
  /** True when any request may pass without a credential check or rate limit (`AccessControl.passesUnchecked`). */
  passesUnchecked: () => boolean;
  /** True when the early path may answer at all: false while draining, or when CORS is configured. */
  enabled: () => boolean;
  record: AnswerRecorder;
}

const JOB_PREFIX = '/v1/jobs/';

/** The early path of the hot reads. */
export function earlyReads(options: EarlyReadOptions): EarlyRead {
  const { service, record } = options;
  return (req, res) => {
    const started = performance.now();
    const { url, headers } = req;
    if (req.method !== 'GET' || url === undefined) return false;
    // A wait, a conditional read, a body or a CORS request are the Fastify route's.
    if (headers.prefer !== undefined || headers['if-none-match'] !== undefined || headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) return false;
    let route: string;
    let answer: ReadAnswer;
    try {
      if (url === '/status') {
        if (!options.enabled() || !options.passesUnchecked()) return false;
        const job = service.peekCurrentTimer(OPEN_TENANT);
        if (job === undefined) return false;
        route = '/status';
        answer = answerStatusRead(job, service.now());
      } else if (url.startsWith(JOB_PREFIX)) {
        const id = url.slice(JOB_PREFIX.length);
        if (!isJobId(id) || !options.enabled() || !options.passesUnchecked()) return false;
        const job = service.peek(OPEN_TENANT, id);
        if (job === undefined || job.kind !== undefined) return false;
        route = '/v1/jobs/:id';
        answer = answerJobRead(job, undefined, service.now());
      } else {
        return false;
      }
    } catch {
      // A store that fails here (counted in jobwait_store_errors_total) fails again in the route,
      // which answers it as every route does; thrown from a request listener it would end the process.
      return false;
    }
    const reqId = requestIdOf(headers['x-request-id']);
    const body = answer.body ?? '';
    // The header lines in Fastify's order: the request id (its onRequest hook), the answer's, then the length.
    res.writeHead(answer.status, { 'x-request-id': reqId, ...answer.headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
    record(route, 'GET', answer.status, performance.now() - started, reqId, url);
    return true;
  };
}

/**
 * Fastify's `serverFactory`: the HTTP server Fastify would make (with the timeouts Fastify sets on
 * its own), whose requests meet the early path first. `early()` is read per request: the early
 * path is made once the parts it shares exist, after Fastify is.
 */
export function earlyReadServer(early: () => EarlyRead | undefined): FastifyServerFactory {
  return (handler, opts) => {
    const options = opts as { http?: ServerOptions; keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number; maxRequestsPerSocket: number };
    const server = createServer(options.http ?? {}, (req, res) => {
      if (early()?.(req, res) !== true) handler(req, res);
    });
    server.keepAliveTimeout = options.keepAliveTimeout;
    server.requestTimeout = options.requestTimeout;
    server.setTimeout(options.connectionTimeout);
    if (options.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };
}
