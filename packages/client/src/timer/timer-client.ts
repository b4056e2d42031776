/**
 * `TimerClient`: the seed's two client methods over its two endpoints
 * (`POST /start-timer`, `GET /status`). Works against the seed's own server;
 * against jobwait it also uses the long-poll and `Retry-After` hints that
 * jobwait adds to `/status` in headers, leaving the bodies exactly as the seed's.
 */
import { createTransport, type ClientOptions } from '../client-options.js';
import { BadResponseError, InvalidOptionError } from '../errors/errors.js';
import type { Transport } from '../http/transport.js';
import { appliedWait, LONG_POLL_SECONDS, unwrapLastValue } from '../jobs/wait-for-job.js';
import { parseRetryAfter } from '../retry/retry-policy.js';
import type { Deadline } from '../wait/deadline.js';
import { poll } from '../wait/poll.js';
import type { ScheduleOptions } from '../wait/schedule.js';

/** `result` of `GET /status`. */
export type TimerResult = 'pending' | 'completed' | 'error';

/** Body of `GET /status`. */
export interface TimerStatus {
  result: TimerResult;
}

/** Body of a successful `POST /start-timer`. */
export interface StartTimerResponse {
  message: string;
}

/** Options of {@link TimerClient.getTimerStatus}: the seed's backoff knobs, with better defaults. */
export interface TimerStatusOptions extends ScheduleOptions {
  /**
   * Wait until the timer is no longer pending; `false` reads the status once.
   * @default true
   */
  wait?: boolean | undefined;
  /**
   * Most status requests before `AttemptsExhaustedError` (the seed's "maximum number of attempts").
   * @default Infinity (bounded by timeoutMs instead)
   */
  maxAttempts?: number | undefined;
  /**
   * Deadline of the whole wait; one final look is taken at it.
   * @default Infinity
   */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /**
   * `auto` also uses long-poll and `Retry-After` when the server offers them; `poll` only the schedule.
   * @default 'auto'
   */
  strategy?: 'auto' | 'poll' | undefined;
  /** Called with every status seen. */
  onPoll?: ((status: TimerStatus, attempt: number) => void) | undefined;
}

interface StatusLook {
  status: TimerStatus;
  heldSeconds: number;
  hintMs: number | undefined;
}

/**
 * The seed's client, in TypeScript.
 * @example
 * const timer = new TimerClient({ baseUrl: 'http://127.0.0.1:8080' });
 * await timer.startTimer(10);
 * const { result } = await timer.getTimerStatus({ timeoutMs: 60_000 });
 */
export class TimerClient {
  /** The transport the calls use. */
  readonly transport: Transport;

  constructor(options: ClientOptions) {
    this.transport = createTransport(options);
  }

  /** `POST /start-timer`: starts a timer of `duration` seconds and returns the server's message. */
  async startTimer(duration: number, options: { signal?: AbortSignal } = {}): Promise<StartTimerResponse> {
    const answer = await this.transport.request<StartTimerResponse>({ method: 'POST', path: '/start-timer', body: { duration }, signal: options.signal });
    if (typeof answer.body?.message !== 'string') throw new BadResponseError('POST', '/start-timer', 'body has no message');
    return answer.body;
  }

  /**
   * `GET /status` until the timer is no longer pending (or once, with `wait: false`).
   * Rejects with `HttpError` (status 404) when no timer was started.
   */
  async getTimerStatus(options: TimerStatusOptions = {}): Promise<TimerStatus> {
    const { wait = true, maxAttempts, timeoutMs, signal, strategy = 'auto', onPoll, ...schedule } = options;
    if (strategy !== 'auto' && strategy !== 'poll') throw new InvalidOptionError(`strategy must be auto or poll, got ${String(strategy)}`);
    const look = async (hold: number, deadline?: Deadline): Promise<StatusLook> => {
      const answer = await this.transport.request<TimerStatus>({
        method: 'GET',
        path: '/status',
        headers: hold > 0 ? { prefer: `wait=${hold}` } : {},
        timeoutMs: this.transport.settings.requestTimeoutMs + hold * 1000,
        signal,
        deadline,
      });
      const result = answer.body?.result;
      if (result !== 'pending' && result !== 'completed' && result !== 'error') throw new BadResponseError('GET', '/status', 'body has no known result');
      const retryAfter = answer.headers.get('retry-after');
      return {
        status: { result },
        heldSeconds: hold > 0 ? appliedWait(answer.headers) : 0,
        hintMs: retryAfter === null ? undefined : parseRetryAfter(retryAfter),
      };
    };
    if (!wait) return (await look(0)).status;
    const final = await poll<StatusLook>(
      ({ deadline, final: last }) => {
        const hold = strategy === 'auto' && !last ? Math.min(LONG_POLL_SECONDS, Math.floor(deadline.remaining() / 1000)) : 0;
        return look(hold, deadline);
      },
      {
        isDone: (l) => l.status.result !== 'pending',
        signal,
        timeoutMs,
        maxAttempts,
        schedule,
        hintMs: (l) => (strategy === 'poll' ? undefined : l.heldSeconds > 0 ? 0 : l.hintMs),
        onPoll: onPoll && ((l, attempt) => onPoll(l.status, attempt)),
      },
    ).catch((error: unknown) => {
      throw unwrapLastValue(error, (l: StatusLook) => l.status);
    });
    return final.status;
  }
}
