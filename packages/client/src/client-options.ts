/** Options shared by `JobwaitClient` and `TimerClient`, with their defaults in one place. */
import { InvalidOptionError } from './errors/errors.js';
import { Transport, type FetchLike } from './http/transport.js';
import { normalizeRetryOptions, type RetryOptions } from './retry/retry-policy.js';

/** Options of `new JobwaitClient()` and `new TimerClient()`. */
export interface ClientOptions {
  /**
   * Where the server is.
   * @example 'http://127.0.0.1:8080'
   */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` when set. Server-side only: an API key must never ship to a browser. */
  apiKey?: string | undefined;
  /**
   * A read token (`jwb_…`) your backend minted for this page (`POST /v1/read-tokens`), sent as
   * `Authorization: Bearer <token>` instead of an API key: it reads, waits on and streams the
   * jobs it names, and nothing else.
   */
  token?: string | undefined;
  /**
   * Asks your backend for a fresh read token: called for the first one when `token` is not given,
   * and again whenever the server says the token expired (`JOBWAIT_ERR_TOKEN_EXPIRED`); the
   * request or stream then goes on with the new one (a stream resumes after its last event).
   */
  getToken?: (() => string | Promise<string>) | undefined;
  /**
   * The `fetch` to use, e.g. one with a proxy agent or a test double.
   * @default globalThis.fetch
   */
  fetch?: FetchLike | undefined;
  /**
   * Limit of one request, from sending to the end of its body. Long-polls add the time they ask the server to hold.
   * @default 30000
   */
  requestTimeoutMs?: number | undefined;
  /**
   * Transport retries; a number is shorthand for `{limit}`, `false` turns them off.
   * @default {limit: 10, baseDelayMs: 200, maxDelayMs: 10000, maxRetryAfterMs: 60000}
   */
  retry?: RetryOptions | number | false | undefined;
  /** Extra headers sent with every request. */
  headers?: Record<string, string> | undefined;
}

/** Defaults of {@link ClientOptions}. */
export const CLIENT_DEFAULTS = Object.freeze({
  requestTimeoutMs: 30_000,
});

/** Validates `options` and builds the transport they describe. */
export function createTransport(options: ClientOptions): Transport {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('client options must be an object with a baseUrl');
  const requestTimeoutMs = options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs;
  if (typeof requestTimeoutMs !== 'number' || !(requestTimeoutMs > 0)) {
    throw new InvalidOptionError(`requestTimeoutMs must be a number > 0, got ${String(options.requestTimeoutMs)}`);
  }
  const fetchImpl = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
  if (typeof fetchImpl !== 'function') throw new InvalidOptionError('no fetch available: pass options.fetch');
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || options.apiKey === '')) {
    throw new InvalidOptionError('apiKey must be a non-empty string');
  }
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '')) {
    throw new InvalidOptionError('token must be a non-empty string');
  }
  if (options.getToken !== undefined && typeof options.getToken !== 'function') throw new InvalidOptionError('getToken must be a function');
  if (options.apiKey !== undefined && (options.token !== undefined || options.getToken !== undefined)) {
    throw new InvalidOptionError('pass either apiKey (server side) or token/getToken (browser), not both');
  }
  return new Transport({
    baseUrl: options.baseUrl,
    apiKey: options.apiKey,
    token: options.token,
    getToken: options.getToken,
    // Unbound global fetch throws "Illegal invocation" in browsers.
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    requestTimeoutMs,
    retry: normalizeRetryOptions(options.retry),
    headers: { ...options.headers },
  });
}
