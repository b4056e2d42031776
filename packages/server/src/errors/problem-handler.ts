/**
 * Turns every error into an RFC 9457 `application/problem+json` answer with
 * a stable `code`, in one place. Internal messages and stacks never leave the server.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_BY_CODE, ServerError, type ServerErrorCode } from './errors.js';

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
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The problem an error stands for. Unknown errors become a bare 500. */
export function toProblem(error: unknown): Problem {
  if (error instanceof ServerError) return problem(error.code, error.message, error.extensions);
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
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem('JOBWAIT_ERR_MALFORMED_JSON', fastifyError.message ?? 'the body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('JOBWAIT_ERR_BODY_TOO_LARGE', 'the request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problem('JOBWAIT_ERR_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
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

/** Installs the error and not-found handlers of the jobs API. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request: FastifyRequest, reply) => {
    const body = toProblem(error);
    if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code, status: body.status }, body.detail);
    if (body.status === 503) reply.header('retry-after', '1');
    return sendProblem(reply, { ...body, instance: request.url });
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, { ...problem('JOBWAIT_ERR_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`), instance: request.url }),
  );
}
