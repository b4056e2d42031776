/**
 * Turns every error into an RFC 9457 `application/problem+json` answer with
 * a stable `code`, in one place. Internal messages and stacks never leave the server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isStoreUnreachable, STATUS_BY_CODE, ServerError, StoreUnavailableError, type ServerErrorCode } from './errors.js';

/** A problem body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ServerErrorCode;
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The problem an error stands for. Unknown errors become a bare 500. */
export function toProblem(error: unknown): Problem {
  if (error instanceof ServerError) return problem(error.code, error.message, error.extensions);
  if (isStoreUnreachable(error)) return toProblem(new StoreUnavailableError(error));
  const fastifyError = error as Partial<FastifyError> & { validation?: unknown[]; validationContext?: string };
  if (fastifyError.validation) {
    return problem('JOBWAIT_ERR_VALIDATION', fastifyError.message ?? 'the request does not match the schema', {
      errors: fastifyError.validation.map((v) => {
        const { instancePath, message, keyword, params } = v as { instancePath?: string; message?: string; keyword?: string; params?: unknown };
        return { in: fastifyError.validationContext, path: instancePath, message, keyword, params };
      }),
    });
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      // Fastify raises this one error for bad syntax and for a prototype-poisoning key alike.
      return problem('JOBWAIT_ERR_MALFORMED_JSON', 'the body is not valid JSON, or it has a "__proto__" or "constructor.prototype" key');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem('JOBWAIT_ERR_MALFORMED_JSON', fastifyError.message ?? 'the body is empty');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('JOBWAIT_ERR_BODY_TOO_LARGE', 'the request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('JOBWAIT_ERR_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problem('JOBWAIT_ERR_BAD_REQUEST', 'the body is not as long as its Content-Length says');
    default:
      break;
  }
  if (error instanceof SyntaxError) return problem('JOBWAIT_ERR_MALFORMED_JSON', `the body is not valid JSON: ${error.message}`);
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const problemBody = problem('JOBWAIT_ERR_BAD_REQUEST', fastifyError.message ?? 'bad request');
    return { ...problemBody, status, title: TITLES[status] ?? 'Bad Request' };
  }
  return problem('JOBWAIT_ERR_INTERNAL', 'the server failed to handle this request');
}

/** Builds a problem for `code`. */
export function problem(code: ServerErrorCode, detail: string, extensions: Record<string, unknown> = {}): Problem {
  const status = STATUS_BY_CODE[code];
  // Extensions first: they must never override the standard members (a string `status` made every 409 a 500).
  return { ...extensions, type: `https://jobwait.dev/problems/${code.slice('JOBWAIT_ERR_'.length).toLowerCase().replaceAll('_', '-')}`, title: TITLES[status] ?? 'Error', status, detail, code };
}

/** Sends `body` as problem+json. */
export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type('application/problem+json').serializer(JSON.stringify).send(body);
}

/**
 * Fastify's `frameworkErrors`: a URL its router cannot decode (bad percent-encoding) or a path
 * segment longer than `maxParamLength` would otherwise get Fastify's own JSON with an internal
 * `FST_ERR_*` code instead of a problem.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const detail = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a segment of the URL path is too long' : 'the URL is not valid: check its percent-encoding';
  request.log.info({ code: error.code, status }, detail);
  reply.header('x-request-id', request.id);
  return sendProblem(reply, { ...problem('JOBWAIT_ERR_BAD_REQUEST', detail), status, title: TITLES[status] ?? 'Bad Request', instance: request.url });
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the bytes (bad header characters,
 * broken framing, an oversized head) before any route saw them. Fastify's default answers
 * non-problem JSON, and answers at once: behind a valid request still being handled on the same
 * connection (pipelining), its 400 then arrived first and read as the answer to that request,
 * which had in fact been carried out (a DELETE canceled the job, the client saw 400). This answers
 * a problem, in request order, then closes the connection as Node itself would.
 */
export function clientErrorHandler(error: Error & { code?: string; reason?: unknown; rawPacket?: unknown }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || refusedSockets.has(socket)) return;
  refusedSockets.add(socket);
  const [status, detail]: [number, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'the request line and headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request was not received in time']
        : [400, `the request is not valid HTTP/1.1${typeof error.reason === 'string' && error.reason !== '' ? ` (${error.reason})` : ''}`];
  // An answer to HEAD has no body: a client reading one would take it for the start of the next answer.
  const head = Buffer.isBuffer(error.rawPacket) && error.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
  const answer = (): void => {
    if (socket.destroyed) return;
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    // Wait only for an earlier request received whole; an incomplete one is the broken request itself.
    if (inFlight && !inFlight.writableFinished && inFlight.req.complete) {
      // Node hands the socket to the next queued answer on 'finish': look again after that.
      inFlight.once('finish', () => setImmediate(answer));
      return;
    }
    if (socket.writable) {
      const body = JSON.stringify({ ...problem('JOBWAIT_ERR_BAD_REQUEST', detail), status, title: TITLES[status] ?? 'Bad Request' });
      socket.write(`HTTP/1.1 ${status} ${TITLES[status] ?? 'Bad Request'}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`);
    }
    socket.destroy(error);
  };
  answer();
}

/** Sockets already refused: Node may report further errors for the rest of their bytes. */
const refusedSockets = new WeakSet<Socket>();

/** Installs the error and not-found handlers of the jobs API. */
export function registerProblemHandlers(app: FastifyInstance): void {
  // Node answers an `Expect` it cannot meet with a bare 417 unless someone listens.
  app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const body = JSON.stringify({ ...problem('JOBWAIT_ERR_BAD_REQUEST', 'only "Expect: 100-continue" is supported'), status: 417, title: TITLES[417], instance: request.url });
    response.writeHead(417, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  app.setErrorHandler((error, request: FastifyRequest, reply) => {
    const body = toProblem(error);
    if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code, status: body.status }, body.detail);
    const retryAfter = error instanceof ServerError ? error.retryAfterSeconds : undefined;
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    else if (body.status === 503) reply.header('retry-after', '1');
    return sendProblem(reply, { ...body, instance: request.url });
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, { ...problem('JOBWAIT_ERR_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`), instance: request.url }),
  );
}
