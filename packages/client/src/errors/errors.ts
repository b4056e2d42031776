/**
 * Every failure the client can report, one class per failure with a stable
 * `code` (after undici's `lib/core/errors.js`). Match on `code` or use
 * {@link isJobwaitError}: `instanceof` breaks across realms and duplicate installs.
 */
import type { Job } from '../jobs/job.js';

/** Stable machine-readable codes of every error the client throws. */
export type JobwaitErrorCode =
  | 'JOBWAIT_ERR_HTTP'
  | 'JOBWAIT_ERR_NETWORK'
  | 'JOBWAIT_ERR_REQUEST_TIMEOUT'
  | 'JOBWAIT_ERR_BAD_RESPONSE'
  | 'JOBWAIT_ERR_TIMEOUT'
  | 'JOBWAIT_ERR_ABORTED'
  | 'JOBWAIT_ERR_ATTEMPTS_EXHAUSTED'
  | 'JOBWAIT_ERR_INVALID_OPTION'
  | 'JOBWAIT_ERR_JOB_CANCELED';

const BRAND = Symbol.for('jobwait.error');

/** Base class of every error thrown by `@jobwait/client`. */
export class JobwaitError extends Error {
  /** Stable code; safe to switch on. */
  readonly code: JobwaitErrorCode;
  readonly [BRAND] = true;

  constructor(code: JobwaitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'JobwaitError';
  }
}

/** Body of an RFC 9457 problem, or the seed's `{"error": "..."}`. */
export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  error?: string;
  [key: string]: unknown;
}

/** The server answered with a status that is not a success and will not be retried (or retries ran out). */
export class HttpError extends JobwaitError {
  /** HTTP status of the answer. */
  readonly status: number;
  /** Parsed JSON body of the answer, when it had one. */
  readonly body: ProblemBody | undefined;
  /** The server's own error code (`code` of a problem+json body), when given. */
  readonly serverCode: string | undefined;
  /** Raw `Retry-After` header of the answer, when sent. */
  readonly retryAfter: string | undefined;

  constructor(status: number, body: ProblemBody | undefined, method: string, url: string, retryAfter?: string) {
    const reason = body?.detail ?? body?.error ?? body?.title ?? '';
    super('JOBWAIT_ERR_HTTP', `${method} ${url} answered ${status}${reason ? `: ${reason}` : ''}`);
    this.name = 'HttpError';
    this.status = status;
    this.body = body;
    this.serverCode = typeof body?.code === 'string' ? body.code : undefined;
    this.retryAfter = retryAfter;
  }
}

/** The server has no event stream for jobs (a seed-only or older server): an `HttpError` whose status says so. */
export class StreamUnsupportedError extends HttpError {
  constructor(status: number, url: string) {
    super(status, { detail: 'the server offers no job event stream' }, 'GET', url);
    this.name = 'StreamUnsupportedError';
  }
}

/** The request never got an answer: connection refused, reset, DNS failure… */
export class NetworkError extends JobwaitError {
  constructor(method: string, url: string, cause: unknown) {
    super('JOBWAIT_ERR_NETWORK', `${method} ${url} failed: ${describe(cause)}`, { cause });
    this.name = 'NetworkError';
  }
}

/** One request took longer than `requestTimeoutMs`. */
export class RequestTimeoutError extends JobwaitError {
  /** The per-request limit that was hit. */
  readonly timeoutMs: number;

  constructor(method: string, url: string, timeoutMs: number) {
    super('JOBWAIT_ERR_REQUEST_TIMEOUT', `${method} ${url} got no answer within ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** The server answered 2xx with a body that is not what the API promises (not JSON, wrong shape, cut short). */
export class BadResponseError extends JobwaitError {
  constructor(method: string, url: string, why: string, cause?: unknown) {
    super('JOBWAIT_ERR_BAD_RESPONSE', `${method} ${url} gave an unreadable answer: ${why}`, { cause });
    this.name = 'BadResponseError';
  }
}

/** A wait reached its deadline (after one final look) without a terminal state. */
export class TimeoutError extends JobwaitError {
  /** The deadline that passed, in milliseconds from the start of the wait. */
  readonly timeoutMs: number;
  /** The last state seen before giving up, if any. */
  readonly lastValue: unknown;

  constructor(timeoutMs: number, lastValue: unknown, cause?: unknown) {
    super('JOBWAIT_ERR_TIMEOUT', `still not finished after ${timeoutMs} ms`, { cause });
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
    this.lastValue = lastValue;
  }
}

/** The caller's `AbortSignal` fired. The job itself is left alone on the server. */
export class AbortError extends JobwaitError {
  constructor(reason?: unknown) {
    super('JOBWAIT_ERR_ABORTED', 'the operation was aborted', { cause: reason });
    this.name = 'AbortError';
  }
}

/** A poll ran out of its `maxAttempts` while still pending. */
export class AttemptsExhaustedError extends JobwaitError {
  /** How many looks were taken. */
  readonly attempts: number;
  /** The last state seen. */
  readonly lastValue: unknown;

  constructor(attempts: number, lastValue: unknown) {
    super('JOBWAIT_ERR_ATTEMPTS_EXHAUSTED', `still pending after ${attempts} attempts`);
    this.name = 'AttemptsExhaustedError';
    this.attempts = attempts;
    this.lastValue = lastValue;
  }
}

/** An option passed to the client is out of range or of the wrong type. */
export class InvalidOptionError extends JobwaitError {
  constructor(message: string) {
    super('JOBWAIT_ERR_INVALID_OPTION', message);
    this.name = 'InvalidOptionError';
  }
}

/** A worker reported on a job that was canceled: stop working on it. */
export class JobCanceledError extends JobwaitError {
  /** The job as the server answered it (status `canceled`), when it sent one. */
  readonly job: Job | undefined;

  constructor(jobId: string, job: Job | undefined) {
    super('JOBWAIT_ERR_JOB_CANCELED', `job ${jobId} was canceled; stop working on it`);
    this.name = 'JobCanceledError';
    this.job = job;
  }
}

/** True for any error thrown by `@jobwait/client`, across realms and duplicate installs. */
export function isJobwaitError(error: unknown): error is JobwaitError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

/** The error class behind each code, so {@link hasErrorCode} narrows to it. */
interface ErrorsByCode {
  JOBWAIT_ERR_HTTP: HttpError;
  JOBWAIT_ERR_NETWORK: NetworkError;
  JOBWAIT_ERR_REQUEST_TIMEOUT: RequestTimeoutError;
  JOBWAIT_ERR_BAD_RESPONSE: BadResponseError;
  JOBWAIT_ERR_TIMEOUT: TimeoutError;
  JOBWAIT_ERR_ABORTED: AbortError;
  JOBWAIT_ERR_ATTEMPTS_EXHAUSTED: AttemptsExhaustedError;
  JOBWAIT_ERR_INVALID_OPTION: InvalidOptionError;
  JOBWAIT_ERR_JOB_CANCELED: JobCanceledError;
}

/**
 * True when `error` is a jobwait error with the given code, narrowed to its class.
 * @example if (hasErrorCode(error, 'JOBWAIT_ERR_HTTP') && error.status === 404) …
 */
export function hasErrorCode<C extends JobwaitErrorCode>(error: unknown, code: C): error is ErrorsByCode[C] {
  return isJobwaitError(error) && error.code === code;
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as Error & { cause?: unknown }).cause;
    const innerCode = inner && typeof inner === 'object' && 'code' in inner ? String((inner as { code: unknown }).code) : '';
    return innerCode ? `${cause.message} (${innerCode})` : cause.message;
  }
  return String(cause);
}
