/**
 * Every failure the server reports, one class per failure with a stable
 * `code`; {@link STATUS_BY_CODE} is the one table from code to HTTP status
 * (after fastify's `lib/errors.js`). `problem-handler.ts` turns them into
 * RFC 9457 problem+json in one place.
 */

/** Stable codes of the errors the API answers with. */
export type ServerErrorCode =
  | 'JOBWAIT_ERR_VALIDATION'
  | 'JOBWAIT_ERR_MALFORMED_JSON'
  | 'JOBWAIT_ERR_BODY_TOO_LARGE'
  | 'JOBWAIT_ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'JOBWAIT_ERR_JOB_NOT_FOUND'
  | 'JOBWAIT_ERR_BATCH_NOT_FOUND'
  | 'JOBWAIT_ERR_WATCH_NOT_FOUND'
  | 'JOBWAIT_ERR_ROUTE_NOT_FOUND'
  | 'JOBWAIT_ERR_METHOD_NOT_ALLOWED'
  | 'JOBWAIT_ERR_JOB_FINISHED'
  | 'JOBWAIT_ERR_JOB_CANCELED'
  | 'JOBWAIT_ERR_JOB_SIMULATED'
  | 'JOBWAIT_ERR_REPORT_TOKEN'
  | 'JOBWAIT_ERR_RESULT_TOO_LARGE'
  | 'JOBWAIT_ERR_IDEMPOTENCY_MISMATCH'
  | 'JOBWAIT_ERR_IDEMPOTENCY_IN_FLIGHT'
  | 'JOBWAIT_ERR_BAD_REQUEST'
  | 'JOBWAIT_ERR_UNAUTHORIZED'
  | 'JOBWAIT_ERR_TOKEN_EXPIRED'
  | 'JOBWAIT_ERR_TOKEN_SCOPE'
  | 'JOBWAIT_ERR_OPEN_SERVER'
  | 'JOBWAIT_ERR_RATE_LIMITED'
  | 'JOBWAIT_ERR_TOO_MANY_HELD'
  | 'JOBWAIT_ERR_UNAVAILABLE'
  | 'JOBWAIT_ERR_SERVER_AT_CAPACITY'
  | 'JOBWAIT_ERR_INTERNAL';

/** HTTP status of every error code. */
export const STATUS_BY_CODE: Readonly<Record<ServerErrorCode, number>> = Object.freeze({
  JOBWAIT_ERR_VALIDATION: 400,
  JOBWAIT_ERR_MALFORMED_JSON: 400,
  JOBWAIT_ERR_BAD_REQUEST: 400,
  JOBWAIT_ERR_BODY_TOO_LARGE: 413,
  JOBWAIT_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  JOBWAIT_ERR_JOB_NOT_FOUND: 404,
  JOBWAIT_ERR_BATCH_NOT_FOUND: 404,
  JOBWAIT_ERR_WATCH_NOT_FOUND: 404,
  JOBWAIT_ERR_ROUTE_NOT_FOUND: 404,
  JOBWAIT_ERR_METHOD_NOT_ALLOWED: 405,
  JOBWAIT_ERR_JOB_FINISHED: 409,
  JOBWAIT_ERR_JOB_CANCELED: 409,
  JOBWAIT_ERR_JOB_SIMULATED: 409,
  JOBWAIT_ERR_REPORT_TOKEN: 403,
  JOBWAIT_ERR_RESULT_TOO_LARGE: 413,
  JOBWAIT_ERR_IDEMPOTENCY_IN_FLIGHT: 409,
  JOBWAIT_ERR_IDEMPOTENCY_MISMATCH: 422,
  JOBWAIT_ERR_UNAUTHORIZED: 401,
  JOBWAIT_ERR_TOKEN_EXPIRED: 401,
  JOBWAIT_ERR_TOKEN_SCOPE: 403,
  JOBWAIT_ERR_OPEN_SERVER: 409,
  JOBWAIT_ERR_RATE_LIMITED: 429,
  JOBWAIT_ERR_TOO_MANY_HELD: 429,
  JOBWAIT_ERR_UNAVAILABLE: 503,
  JOBWAIT_ERR_SERVER_AT_CAPACITY: 503,
  JOBWAIT_ERR_INTERNAL: 500,
});

/** Base of every error the API reports; `message` is safe to show to the caller. */
export class ServerError extends Error {
  readonly code: ServerErrorCode;
  /** Extra members of the problem body. */
  readonly extensions: Record<string, unknown>;
  /** Seconds for the `Retry-After` header of the answer, when the caller should come back later. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ServerErrorCode, message: string, extensions: Record<string, unknown> = {}, retryAfterSeconds?: number) {
    super(message);
    this.name = 'ServerError';
    this.code = code;
    this.extensions = extensions;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** HTTP status from {@link STATUS_BY_CODE}. */
  get statusCode(): number {
    return STATUS_BY_CODE[this.code];
  }
}

/** No job with this id for this key (another key's job is also "not found", never "forbidden"). */
export class JobNotFoundError extends ServerError {
  constructor(id: string) {
    super('JOBWAIT_ERR_JOB_NOT_FOUND', `no job with id ${JSON.stringify(id)}`);
    this.name = 'JobNotFoundError';
  }
}

/** No batch with this id for this key (another key's batch too). */
export class BatchNotFoundError extends ServerError {
  constructor(id: string) {
    super('JOBWAIT_ERR_BATCH_NOT_FOUND', `no batch with id ${JSON.stringify(id)}`);
    this.name = 'BatchNotFoundError';
  }
}

/** No watch with this id for this key, or it expired. */
export class WatchNotFoundError extends ServerError {
  constructor(id: string) {
    super('JOBWAIT_ERR_WATCH_NOT_FOUND', `no watch with id ${JSON.stringify(id)} (watches expire; make another with POST /v1/watches)`);
    this.name = 'WatchNotFoundError';
  }
}

/** Items of a batch that fit the schema but ask for something invalid, each named by its index: the batch creates nothing. */
export class BatchItemsError extends ServerError {
  constructor(errors: readonly { index: number; message: string }[]) {
    super('JOBWAIT_ERR_VALIDATION', `${errors.length} of the batch's jobs are invalid (the first: jobs[${errors[0]!.index}] ${errors[0]!.message}); nothing was created`, { errors });
    this.name = 'BatchItemsError';
  }
}

/** The job already reached a final state and cannot be canceled. */
export class JobFinishedError extends ServerError {
  constructor(id: string, status: string) {
    // Not `status`: that member of a problem body is the HTTP status (RFC 9457).
    super('JOBWAIT_ERR_JOB_FINISHED', `job ${id} already finished with status ${status}`, { jobStatus: status });
    this.name = 'JobFinishedError';
  }
}

/** A worker reported on a job that already ended otherwise; the problem carries the job as it ended. */
export class ReportConflictError extends ServerError {
  constructor(code: 'JOBWAIT_ERR_JOB_FINISHED' | 'JOBWAIT_ERR_JOB_CANCELED' | 'JOBWAIT_ERR_JOB_SIMULATED', id: string, job: unknown) {
    const message =
      code === 'JOBWAIT_ERR_JOB_CANCELED'
        ? `job ${id} was canceled: stop working on it`
        : code === 'JOBWAIT_ERR_JOB_SIMULATED'
          ? `job ${id} is a simulated timer (created with duration): the server ends it, not a worker`
          : `job ${id} already ended otherwise; a final report may only be repeated with the same content`;
    super(code, message, { job });
    this.name = 'ReportConflictError';
  }
}

/** The report token is missing from a report. */
export class ReportTokenMissingError extends ServerError {
  constructor() {
    super('JOBWAIT_ERR_UNAUTHORIZED', "send the job's report token as Authorization: Bearer jwr_… (the reportToken its create answered)");
    this.name = 'ReportTokenMissingError';
  }
}

/** The report token is not this job's (or not a token at all). Said before any lookup, so it tells nothing of which jobs exist. */
export class ReportTokenError extends ServerError {
  constructor() {
    super('JOBWAIT_ERR_REPORT_TOKEN', "the report token is not this job's");
    this.name = 'ReportTokenError';
  }
}

/** A worker's result over `--max-result-bytes`. */
export class ResultTooLargeError extends ServerError {
  constructor(bytes: number, limit: number) {
    super('JOBWAIT_ERR_RESULT_TOO_LARGE', `the result is ${bytes} bytes of JSON; at most ${limit} are accepted (--max-result-bytes)`, { limit });
    this.name = 'ResultTooLargeError';
  }
}

/** The Idempotency-Key was used before with another body. */
export class IdempotencyMismatchError extends ServerError {
  constructor() {
    super('JOBWAIT_ERR_IDEMPOTENCY_MISMATCH', 'this Idempotency-Key was already used with a different request body');
    this.name = 'IdempotencyMismatchError';
  }
}

/** The first request with this Idempotency-Key is still being processed. */
export class IdempotencyInFlightError extends ServerError {
  constructor() {
    super('JOBWAIT_ERR_IDEMPOTENCY_IN_FLIGHT', 'a request with this Idempotency-Key is still in progress; retry shortly');
    this.name = 'IdempotencyInFlightError';
  }
}

/** A request that fits the schema but asks for something invalid. */
export class BadRequestError extends ServerError {
  constructor(message: string, code: 'JOBWAIT_ERR_VALIDATION' | 'JOBWAIT_ERR_BAD_REQUEST' = 'JOBWAIT_ERR_VALIDATION') {
    super(code, message);
    this.name = 'BadRequestError';
  }
}

/** A read token asked for something it does not cover: another job, or anything but reading (create, cancel, list, mint…). */
export class TokenScopeError extends ServerError {
  constructor(detail: string) {
    super('JOBWAIT_ERR_TOKEN_SCOPE', detail);
    this.name = 'TokenScopeError';
  }
}

/** Read tokens are scoped to an API key, and a server running open has none: it mints no tokens. */
export class OpenServerError extends ServerError {
  constructor() {
    super('JOBWAIT_ERR_OPEN_SERVER', 'this server runs open, without API keys, so there is no key to scope a read token to: create an API key (jobwait keys create) and mint with it');
    this.name = 'OpenServerError';
  }
}

/** The server is shutting down or its store does not answer. */
export class UnavailableError extends ServerError {
  constructor(message: string) {
    super('JOBWAIT_ERR_UNAVAILABLE', message);
    this.name = 'UnavailableError';
  }
}

/** The store (or the Redis behind it) does not answer: the API says so as `/readyz` does, 503 with `Retry-After`. */
export class StoreUnavailableError extends UnavailableError {
  constructor(cause: unknown) {
    super('the store does not answer right now; retry shortly');
    this.name = 'StoreUnavailableError';
    this.cause = cause;
  }
}

/** System error codes of a connection that is down or refused, as opposed to a command that failed. */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN', 'EAI_AGAIN']);

/**
 * True when `error` says the store cannot be reached (a refused or lost connection, or a Redis
 * client that gave up on a command while reconnecting), not that the request or the data was wrong.
 */
export function isStoreUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof StoreUnavailableError) return true;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && CONNECTION_ERROR_CODES.has(code)) return true;
  // ioredis's errors while it reconnects: its retry limit per command, a closed connection, no offline queue.
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return error.message === 'Connection is closed.' || error.message.startsWith("Stream isn't writeable");
}

/** The key (or, on an open server, the IP) already holds as many long-polls and event streams as it may. */
export class TooManyHeldError extends ServerError {
  constructor(limit: number, scope: 'key' | 'ip', retryAfterSeconds: number) {
    super(
      'JOBWAIT_ERR_TOO_MANY_HELD',
      `this ${scope === 'key' ? 'API key' : 'address'} already holds ${limit} long-polls and event streams, its limit: close one, or read without waiting, and retry after ${retryAfterSeconds} s`,
      { limit, scope },
      retryAfterSeconds,
    );
    this.name = 'TooManyHeldError';
  }
}

/** The server holds as many long-polls and event streams as its descriptors allow; plain requests still work. */
export class ServerAtCapacityError extends ServerError {
  constructor(limit: number, retryAfterSeconds: number) {
    super(
      'JOBWAIT_ERR_SERVER_AT_CAPACITY',
      `this server holds ${limit} long-polls and event streams, as many as it may: read without waiting, or retry after ${retryAfterSeconds} s`,
      { limit },
      retryAfterSeconds,
    );
    this.name = 'ServerAtCapacityError';
  }
}
