/**
 * The long-poll: one GET that asks the server to hold it until the resource
 * changes (`Prefer: wait=N`, RFC 7240), and the loop that follows such looks.
 * `waitForJob` (on `/v1/jobs/{id}`) and `TimerClient` (on the seed's `/status`)
 * both wait through it. A server that ignores the preference answers at once
 * without `Preference-Applied`, and the loop falls back to the server's hints,
 * else the schedule — so the same code waits on the seed's own server.
 */
import { AttemptsExhaustedError, HttpError, TimeoutError } from '../errors/errors.js';
import type { HttpAnswer, Transport } from '../http/transport.js';
import { isHoldRefusal, parseRetryAfter } from '../retry/retry-policy.js';
import type { Deadline } from './deadline.js';
import { poll, type PollContext, type PollOptions } from './poll.js';

/** Seconds a long-poll asks the server to hold, unless told otherwise: below common proxy idle timeouts. */
export const LONG_POLL_SECONDS = 30;

/** One GET of a resource, held by the server for up to `holdSeconds` when it applies `Prefer: wait`. */
export interface LongPollRequest {
  path: string;
  /** Seconds to ask the server to hold the request; 0 sends a plain GET. */
  holdSeconds: number;
  /** With a hold: wait for a change from the version this ETag names (`If-None-Match`); the answer is 304 if none came. */
  etag?: string | undefined;
  /**
   * With a hold: ask to be answered only at a final state (or the hold's end), not at every new
   * version (`Prefer: until=final`), so a job reporting progress 50 times a second costs a waiter
   * one request per hold. A server that does not know the preference ignores it.
   */
  untilFinal?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Transport retries stop at this deadline. */
  deadline?: Deadline | undefined;
}

/** The answer to a {@link LongPollRequest}. */
export interface LongPollAnswer extends HttpAnswer<unknown> {
  /** Seconds the server agreed to hold the request (`Preference-Applied: wait=N`); 0 when it answered a plain GET. */
  heldSeconds: number;
  /** `Retry-After` of the answer in milliseconds, when it carried a readable one (after a refused hold, the sooner of the two answers'). */
  retryAfterMs: number | undefined;
  /** The server refused to hold the request (the key or the server holds as many as it may), so it was read without holding. */
  holdRefused: boolean;
}

/** True when `error` is a jobwait server refusing to hold a request. */
function refusedHold(error: unknown): error is HttpError {
  return error instanceof HttpError && isHoldRefusal(error);
}

/**
 * Sends one long-poll GET; a held request may take its hold time on top of the per-request timeout.
 * When the server refuses to hold it (the key holds as many as it may), the resource is read at once
 * without holding, and the answer says so: the caller looks again later instead of failing.
 */
export async function longPoll(transport: Transport, request: LongPollRequest): Promise<LongPollAnswer> {
  if (request.holdSeconds <= 0) return lookOnce(transport, request);
  try {
    return await lookOnce(transport, request);
  } catch (error) {
    if (!refusedHold(error)) throw error;
    const plain = await lookOnce(transport, { ...request, holdSeconds: 0 });
    const refusalMs = error.retryAfter === undefined ? undefined : parseRetryAfter(error.retryAfter);
    const retryAfterMs = refusalMs === undefined ? plain.retryAfterMs : Math.min(refusalMs, plain.retryAfterMs ?? Number.POSITIVE_INFINITY);
    return { ...plain, retryAfterMs, holdRefused: true };
  }
}

async function lookOnce(transport: Transport, request: LongPollRequest): Promise<LongPollAnswer> {
  const hold = request.holdSeconds;
  const headers: Record<string, string> = {};
  const etag = hold > 0 ? request.etag : undefined;
  // A header, not a query parameter: 0.1.0 servers refuse unknown query parameters.
  if (hold > 0) headers.prefer = request.untilFinal ? `wait=${hold}, until=final` : `wait=${hold}`;
  if (etag !== undefined) headers['if-none-match'] = etag;
  const answer = await transport.request<unknown>({
    method: 'GET',
    path: request.path,
    headers,
    timeoutMs: transport.settings.requestTimeoutMs + hold * 1000,
    signal: request.signal,
    deadline: request.deadline,
    accept: etag !== undefined ? [304] : [],
    noRetry: hold > 0 ? refusedHold : undefined,
  });
  const retryAfter = answer.headers.get('retry-after');
  return {
    ...answer,
    heldSeconds: hold > 0 ? appliedWait(answer.headers) : 0,
    retryAfterMs: retryAfter === null ? undefined : parseRetryAfter(retryAfter),
    holdRefused: false,
  };
}

/**
 * Seconds to hold the next look: `seconds`, cut so the hold ends by the deadline (the server
 * answers at the end of a hold, so the final look is on time); 0 for the final look itself.
 */
export function holdSeconds(seconds: number, context: Pick<PollContext, 'deadline' | 'final'>): number {
  if (context.final) return 0;
  return Math.max(0, Math.min(seconds, Math.floor(context.deadline.remaining() / 1000)));
}

/** What one look found: the state, and what the server said about the next look. */
export interface Look<T> {
  value: T;
  /** Seconds the server held the request; a held answer still pending is followed at once. */
  heldSeconds: number;
  /** Milliseconds until the next look as the server hints it (an ETA, `Retry-After`), or undefined for none. */
  hintMs: number | undefined;
  /** The server applies holds but refused this one (the key holds as many as it may): the look was not held. */
  holdRefused?: boolean | undefined;
}

/** Options of {@link followLooks}: those of `poll`, about the state rather than the look. */
export interface FollowLooksOptions<T> extends Omit<PollOptions<Look<T>>, 'isDone' | 'hintMs' | 'onPoll'> {
  isDone: (value: T) => boolean;
  /**
   * Sleep as the server hints between plain looks; `false` keeps to the schedule.
   * @default true
   */
  useHints?: boolean | undefined;
  /** Called with every state seen. */
  onPoll?: ((value: T, attempt: number) => void) | undefined;
}

/**
 * Looks until the state is final: at once after a held answer, else as the server hints, else on
 * the schedule. Resolves with the final state; `TimeoutError` and `AttemptsExhaustedError` carry
 * the last state seen in `lastValue`.
 */
export async function followLooks<T>(look: (context: PollContext) => Promise<Look<T>>, options: FollowLooksOptions<T>): Promise<T> {
  const { isDone, useHints = true, onPoll, ...rest } = options;
  try {
    const last = await poll<Look<T>>(look, {
      ...rest,
      isDone: (l) => isDone(l.value),
      hintMs: (l) => (l.heldSeconds > 0 ? 0 : useHints ? l.hintMs : undefined),
      onPoll: onPoll && ((l, attempt) => onPoll(l.value, attempt)),
    });
    return last.value;
  } catch (error) {
    // poll() reports the last Look it saw; callers were promised the state itself.
    if (error instanceof TimeoutError && error.lastValue !== undefined) {
      throw new TimeoutError(error.timeoutMs, (error.lastValue as Look<T>).value, error.cause);
    }
    if (error instanceof AttemptsExhaustedError) throw new AttemptsExhaustedError(error.attempts, (error.lastValue as Look<T>).value);
    throw error;
  }
}

/** Seconds named in `Preference-Applied: wait=N`, or 0 when the server did not hold the request. */
function appliedWait(headers: Headers): number {
  const applied = headers.get('preference-applied');
  const match = applied ? /(?:^|[,;\s])wait=(\d+)/i.exec(applied) : null;
  return match ? Number(match[1]) : 0;
}
