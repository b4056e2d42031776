/**
 * The two reads clients repeat most, `GET /v1/jobs/{id}` and the seed's
 * `GET /status`, answered straight from node:http ahead of Fastify's request
 * pipeline (issue 8: through the pipeline a read cost ~2.5x a bare handler's
 * CPU). Only the plain, successful case is answered here: the same access
 * control, store read, headers (in the same order), body bytes, metrics and
 * request log lines as the Fastify routes, which `test/hot-reads.test.ts`
 * compares answer by answer. Everything else — a long-poll, a query string,
 * a body, an unknown job, a refused key, an empty bucket, a failed store read,
 * a closing server — goes to Fastify untouched, and Fastify answers it as it
 * always did.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import type { AccessControl, Caller } from '../auth/access-control.js';
import { effectiveState, jobEtag, type JobRecord } from '../jobs/job-record.js';
import { isJobId } from '../jobs/job-id.js';
import type { ServerMetrics } from '../metrics/metrics.js';
import type { JobStore } from '../store/job-store.js';
import { seedStatus } from '../routes/timer-routes.js';
import { jobBody, jobHeaders, knownVersion, READ_VARY } from './job-answer.js';
import { requestIdOf } from './request-id.js';

/** A node:http request listener. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** What {@link hotReads} answers with. */
export interface HotReadsOptions {
  /** The service's clock. */
  now: () => number;
  /**
   * The store itself, not the error-counting wrapper the service reads through: a failed read here
   * is handed to Fastify, which reads again, fails, counts and answers it, so it is counted once.
   */
  store: JobStore;
  access: AccessControl;
  metrics: ServerMetrics;
  /** The server's logger: request lines at `info`, as Fastify writes them. */
  log: FastifyBaseLogger;
  /** True once the server closes: Fastify then answers 503 and `Connection: close`. */
  isClosing: () => boolean;
}

/** `/v1/jobs/` followed by an id of the characters ids are made of: nothing to decode, no trailing slash. */
const JOB_PATH = /^\/v1\/jobs\/([\w-]{1,200})$/;
const JSON_TYPE = 'application/json; charset=utf-8';

type Route = { kind: 'job'; id: string } | { kind: 'status' };

/** True when `log` writes `info` lines (pino's check; Fastify's logger-less stand-in writes none). */
function infoEnabled(log: FastifyBaseLogger): boolean {
  const { isLevelEnabled } = log as Partial<{ isLevelEnabled(level: string): boolean }>;
  return typeof isLevelEnabled === 'function' && isLevelEnabled.call(log, 'info');
}

/** Which hot read `req` is, or undefined when Fastify must answer it. */
function hotRoute(req: IncomingMessage): Route | undefined {
  if (req.method !== 'GET' || req.headers.prefer !== undefined) return undefined;
  // A GET with a body is odd enough to leave to Fastify (which reads or refuses it).
  if (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0')) return undefined;
  const url = req.url ?? '';
  if (url === '/status') return { kind: 'status' };
  const match = JOB_PATH.exec(url);
  return match ? { kind: 'job', id: match[1]! } : undefined;
}

/**
 * `fallback` (Fastify's handler) behind the hot reads. Pass it to Fastify's `serverFactory`; use
 * it only without `trustProxy`, where the client address is the socket's.
 */
export function hotReads(options: HotReadsOptions, fallback: RequestListener): RequestListener {
  const { now: clock, store, access, metrics, log, isClosing } = options;
  // The metric series of the three answers given here, under the labels the Fastify routes count them with.
  const jobRead = metrics.requests.of('/v1/jobs/:id', 'GET', 200);
  const jobUnchanged = metrics.requests.of('/v1/jobs/:id', 'GET', 304);
  const statusRead = metrics.requests.of('/status', 'GET', 200);

  /** The answer, or undefined to leave the request to Fastify (nothing has been written or counted). */
  async function answer(route: Route, req: IncomingMessage): Promise<{ status: number; headers: string[]; body: string } | undefined> {
    const caller = await access.identify(req.headers.authorization);
    if (!caller) return undefined;
    const job = await read(route, caller);
    if (!job) return undefined;
    // The token is taken last, so a request handed to Fastify has not been charged.
    const admission = await access.take(caller, req.socket.remoteAddress ?? '');
    if (admission && !admission.decision.allowed) return undefined;
    const headers = ['x-request-id', requestIdOf(req.headers['x-request-id'])];
    if (admission) for (const [name, value] of admission.headers) headers.push(name, value);
    const now = clock();
    if (route.kind === 'status') {
      const { result, retryAfter } = seedStatus(job, now);
      if (retryAfter !== undefined) headers.push('retry-after', retryAfter);
      return { status: 200, headers, body: `{"result":"${result}"}` };
    }
    headers.push('vary', READ_VARY);
    const { status, version } = effectiveState(job, now);
    const known = knownVersion(req.headers['if-none-match'], route.id);
    if (known !== undefined && version === known) {
      headers.push('etag', jobEtag(route.id, known));
      return { status: 304, headers, body: '' };
    }
    const etaMs = status === 'pending' ? Math.max(0, job.dueAt - now) : 0;
    for (const [name, value] of jobHeaders({ id: job.id, status, version, etaMs })) headers.push(name, value);
    return { status: 200, headers, body: jobBody(job, now) };
  }

  /** The job, or undefined when there is none (a 404 problem, Fastify's to answer). A store failure rejects. */
  async function read(route: Route, caller: Caller): Promise<JobRecord | undefined> {
    if (route.kind === 'status') return store.getCurrentTimer(caller.tenant);
    return isJobId(route.id) ? store.get(caller.tenant, route.id) : undefined;
  }

  function send(req: IncomingMessage, res: ServerResponse, started: number, route: Route, result: { status: number; headers: string[]; body: string }): void {
    const { status, headers, body } = result;
    if (status === 200) headers.push('content-type', JSON_TYPE, 'content-length', String(Buffer.byteLength(body)));
    res.writeHead(status, headers);
    res.end(status === 304 ? undefined : body);
    const seconds = (performance.now() - started) / 1000;
    (route.kind === 'status' ? statusRead : status === 304 ? jobUnchanged : jobRead).add(seconds);
    if (infoEnabled(log)) logRequest(req, res, headers[1]!, seconds * 1000);
  }

  /** The two lines Fastify writes per request, with the fields its serializers give them. */
  function logRequest(req: IncomingMessage, res: ServerResponse, reqId: string, responseTime: number): void {
    const child = log.child({ reqId });
    child.info({ req: { method: req.method, url: req.url, headers: req.headers, host: req.headers.host, ip: req.socket.remoteAddress, socket: req.socket } }, 'incoming request');
    child.info({ res: { statusCode: res.statusCode }, responseTime }, 'request completed');
  }

  return (req, res) => {
    const route = isClosing() ? undefined : hotRoute(req);
    if (!route) return fallback(req, res);
    const started = performance.now();
    answer(route, req)
      .then(
        (result) => (result ? send(req, res, started, route, result) : fallback(req, res)),
        () => fallback(req, res),
      )
      .catch((error: unknown) => {
        log.error({ err: error }, 'hot read failed');
        if (!res.headersSent) fallback(req, res);
        else res.destroy();
      });
  };
}
