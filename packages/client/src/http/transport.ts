/**
 * One HTTP exchange with retries: the transport loop of DESIGN.md. It knows
 * nothing of jobs; waits sit on top of it and share its deadline.
 */
import { AbortError, BadResponseError, HttpError, InvalidOptionError, NetworkError, RequestTimeoutError, isJobwaitError, type ProblemBody } from '../errors/errors.js';
import { decideRetry, type NormalizedRetryOptions } from '../retry/retry-policy.js';
import type { Deadline } from '../wait/deadline.js';
import { sleep, throwIfAborted } from '../wait/sleep.js';

/** A `fetch`-compatible function (the global one by default). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Settings the transport is built with. */
export interface TransportSettings {
  baseUrl: string;
  apiKey: string | undefined;
  /** A read token sent instead of the API key. */
  token?: string | undefined;
  /** Fetches a fresh read token (the first one, and after each expiry). */
  getToken?: (() => string | Promise<string>) | undefined;
  fetch: FetchLike;
  requestTimeoutMs: number;
  retry: NormalizedRetryOptions;
  headers: Record<string, string>;
}

/** One request as the higher layers describe it. */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Replaces `requestTimeoutMs` for this request (long-polls add their hold time). */
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  /** Retries stop at this deadline. */
  deadline?: Deadline | undefined;
  /** Statuses other than 2xx that are answers, not failures (e.g. 304). */
  accept?: readonly number[];
  /** Failures thrown at once rather than retried: the caller handles them (e.g. a refused hold, read without holding). */
  noRetry?: ((error: unknown) => boolean) | undefined;
  /** Called before each retry, e.g. to count or log them. */
  onRetry?: ((info: { attempt: number; delayMs: number; error: unknown }) => void) | undefined;
}

/** An answer whose body is still unread. */
export interface OpenedResponse {
  response: Response;
  /** Aborts when the caller aborts or the request times out. */
  signal: AbortSignal;
  /** Detaches from the caller's signal and clears the timer; call when done with the body. */
  dispose: () => void;
  /** Stops the per-request timer (a stream that has started lives on its own heartbeats). */
  disarmTimeout: () => void;
  /** Aborts the underlying request (closes a stream). */
  abort: (reason?: unknown) => void;
  /** Which read token the request carried (for {@link Transport.renewToken}). */
  tokenGeneration: number;
}

/** The credential header of one request, and which read token it is. */
interface Authorization {
  header: string | undefined;
  generation: number;
}

/** A decoded answer. */
export interface HttpAnswer<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** The server's code for a read token past its end: a fresh one from `getToken` carries on. */
export const TOKEN_EXPIRED = 'JOBWAIT_ERR_TOKEN_EXPIRED';

/** Fresh tokens fetched in a row for one request before its 401 is given up (a backend minting dead tokens). */
const MAX_TOKEN_RENEWALS = 3;

/** Sends requests, decodes JSON and retries transport failures under the retry policy. */
export class Transport {
  readonly settings: TransportSettings;
  /** The read token in use, or its fetch in flight (shared by every request that needs it). */
  #token: Promise<string> | undefined;
  /** The read token once known, so requests need not wait a tick for it. */
  #tokenValue: string | undefined;
  /** Counts token renewals, so requests that failed on one token share one renewal. */
  #tokenGeneration = 0;

  constructor(settings: TransportSettings) {
    let url: URL;
    try {
      url = new URL(settings.baseUrl);
    } catch {
      throw new InvalidOptionError(`baseUrl must be an absolute http(s) URL, got ${JSON.stringify(settings.baseUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidOptionError(`baseUrl must use http or https, got ${url.protocol}`);
    this.settings = { ...settings, baseUrl: url.href.replace(/\/+$/, '') };
    if (settings.token !== undefined) {
      this.#token = Promise.resolve(settings.token);
      this.#tokenValue = settings.token;
    }
  }

  /**
   * The `Authorization` value of the next request (the API key, the read token, or none) and the
   * token's generation; a promise only while a token is being fetched, so a request with a key
   * goes out in the same tick it was made.
   */
  private authorization(): Authorization | Promise<Authorization> {
    const generation = this.#tokenGeneration;
    if (this.settings.apiKey) return { header: `Bearer ${this.settings.apiKey}`, generation };
    if (this.#tokenValue !== undefined) return { header: `Bearer ${this.#tokenValue}`, generation };
    if (this.#token === undefined && this.settings.getToken) this.#token = this.fetchToken();
    const pending = this.#token;
    return pending === undefined ? { header: undefined, generation } : pending.then((token) => ({ header: `Bearer ${token}`, generation }));
  }

  private fetchToken(): Promise<string> {
    this.#tokenValue = undefined;
    const fetching = Promise.resolve()
      .then(() => this.settings.getToken!())
      .then((token) => {
        if (typeof token !== 'string' || token === '') throw new InvalidOptionError('getToken must resolve to a non-empty token');
        if (this.#token === fetching) this.#tokenValue = token;
        return token;
      });
    // A failed fetch is not kept: the next request asks again.
    fetching.catch(() => {
      if (this.#token === fetching) this.#token = undefined;
    });
    return fetching;
  }

  /**
   * After `error`: true when it says the read token expired and a fresh one is now in use (the
   * caller then repeats at once). Requests that failed together on one token share one renewal.
   */
  async renewToken(error: unknown, renewals: number, generation: number): Promise<boolean> {
    if (!(error instanceof HttpError) || error.status !== 401 || error.serverCode !== TOKEN_EXPIRED) return false;
    if (!this.settings.getToken || renewals >= MAX_TOKEN_RENEWALS) return false;
    // Another request renewed it since this one was sent: use that token rather than asking again.
    if (generation === this.#tokenGeneration) {
      this.#tokenGeneration++;
      this.#token = this.fetchToken();
    }
    try {
      await this.#token;
    } catch (cause) {
      throw isJobwaitError(cause) ? cause : new NetworkError('GET', 'getToken()', cause);
    }
    return true;
  }

  /** Full URL of `path` with `query`. */
  url(path: string, query?: RequestSpec['query']): string {
    const url = `${this.settings.baseUrl}${path}`;
    if (!query) return url;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const qs = params.toString();
    return qs ? `${url}?${qs}` : url;
  }

  /** Sends `spec`, retrying retryable failures; returns the decoded answer or throws a typed error. */
  async request<T>(spec: RequestSpec): Promise<HttpAnswer<T>> {
    for (let retries = 0, renewals = 0; ; retries++) {
      throwIfAborted(spec.signal);
      const generation = this.#tokenGeneration;
      try {
        return await this.attempt<T>(spec);
      } catch (error) {
        if (await this.renewToken(error, renewals, generation)) {
          renewals++;
          retries--;
          continue;
        }
        if (spec.noRetry?.(error)) throw error;
        const delayMs = this.retryDelay(error, retries, spec.deadline);
        if (delayMs === undefined) throw error;
        spec.onRetry?.({ attempt: retries + 1, delayMs, error });
        await sleep(delayMs, spec.signal);
      }
    }
  }

  /**
   * Milliseconds to wait before retrying after `error`, or undefined to give up:
   * not retryable, out of retries, or the deadline would pass first.
   */
  retryDelay(error: unknown, retries: number, deadline: Deadline | undefined): number | undefined {
    if (error instanceof AbortError) return undefined;
    const failure = error instanceof HttpError ? { error, status: error.status, serverCode: error.serverCode, retryAfter: error.retryAfter ?? null } : { error };
    const decision = decideRetry(failure, retries, this.settings.retry);
    if (!decision.retry) return undefined;
    if (deadline && deadline.remaining() <= decision.delayMs) return undefined;
    return decision.delayMs;
  }

  /** Earliest time the next request may go out, when the server said the rate limit is used up. */
  private notBefore = 0;

  /** One attempt, no retries. Returns the raw `Response` with its body unread (for streams). */
  async open(spec: RequestSpec): Promise<OpenedResponse> {
    const url = this.url(spec.path, spec.query);
    const pause = this.notBefore - Date.now();
    if (pause > 0) await sleep(Math.min(pause, spec.deadline ? spec.deadline.remaining() : pause), spec.signal);
    const controller = new AbortController();
    const timeoutMs = spec.timeoutMs ?? this.settings.requestTimeoutMs;
    let timedOut = false;
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => {
          timedOut = true;
          controller.abort(new RequestTimeoutError(spec.method, url, timeoutMs));
        }, timeoutMs)
      : undefined;
    const onAbort = (): void => controller.abort(spec.signal?.reason);
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    const dispose = (): void => {
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
    };
    const headers: Record<string, string> = { accept: 'application/json', ...this.settings.headers };
    let authorization = this.authorization();
    if (authorization instanceof Promise) {
      try {
        authorization = await authorization;
      } catch (error) {
        dispose();
        throw isJobwaitError(error) ? error : new NetworkError(spec.method, url, error);
      }
    }
    if (authorization.header !== undefined) headers.authorization = authorization.header;
    // Last, so a request with its own credentials (a worker's report token) sends those, not the key.
    Object.assign(headers, spec.headers);
    const init: RequestInit = { method: spec.method, headers, signal: controller.signal };
    if (spec.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(spec.body);
    }
    try {
      const response = await this.settings.fetch(url, init);
      this.pace(response.headers);
      return {
        response,
        signal: controller.signal,
        dispose,
        disarmTimeout: () => clearTimeout(timer),
        abort: (reason) => controller.abort(reason),
        tokenGeneration: authorization.generation,
      };
    } catch (error) {
      dispose();
      throw this.mapFetchError(error, spec, url, timedOut, timeoutMs);
    }
  }

  /** One attempt, no retries: send, read and decode the body. */
  async attempt<T>(spec: RequestSpec): Promise<HttpAnswer<T>> {
    const url = this.url(spec.path, spec.query);
    const timeoutMs = spec.timeoutMs ?? this.settings.requestTimeoutMs;
    const { response, signal, dispose } = await this.open(spec);
    try {
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw this.mapFetchError(error, spec, url, signal.reason instanceof RequestTimeoutError, timeoutMs);
      }
      const ok = response.ok || (spec.accept?.includes(response.status) ?? false);
      const body = decodeBody(text, response, spec.method, url, ok);
      if (!ok) {
        throw new HttpError(response.status, body as ProblemBody | undefined, spec.method, url, response.headers.get('retry-after') ?? undefined);
      }
      return { status: response.status, headers: response.headers, body: body as T };
    } finally {
      dispose();
    }
  }

  /**
   * Slows down instead of failing: when the server's `RateLimit` header says no request is
   * left (`r=0`), the next request waits `t` seconds (clamped like Retry-After).
   */
  private pace(headers: Headers): void {
    const header = headers.get('ratelimit');
    if (!header) return;
    const remaining = /(?:^|;)\s*r=(\d+)/.exec(header);
    const reset = /(?:^|;)\s*t=(\d+)/.exec(header);
    if (remaining?.[1] === '0' && reset) {
      this.notBefore = Math.max(this.notBefore, Date.now() + Math.min(Number(reset[1]) * 1000, this.settings.retry.maxRetryAfterMs));
    }
  }

  private mapFetchError(error: unknown, spec: RequestSpec, url: string, timedOut: boolean, timeoutMs: number): Error {
    if (spec.signal?.aborted) return new AbortError(spec.signal.reason);
    if (timedOut) return new RequestTimeoutError(spec.method, url, timeoutMs);
    if (error instanceof BadResponseError) return error;
    return new NetworkError(spec.method, url, error);
  }
}

function decodeBody(text: string, response: Response, method: string, url: string, ok: boolean): unknown {
  if (response.status === 204 || response.status === 304 || text === '') {
    if (ok && response.status !== 204 && response.status !== 304 && method !== 'DELETE') {
      throw new BadResponseError(method, url, 'empty body');
    }
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // An error page from a proxy is still an HTTP error, not a broken body.
    if (!ok) return { detail: text.slice(0, 200) };
    throw new BadResponseError(method, url, 'body is not JSON', error);
  }
}
