/**
 * `TimerClient`: the seed's two client methods over its two endpoints
 * (`POST /start-timer`, `GET /status`). Works against the seed's own server;
 * against jobwait it also uses the long-poll and `Retry-After` hints that
 * jobwait adds to `/status` in headers, leaving the bodies exactly as the seed's.
 */
import { createTransport, type ClientOptions } from '../client-options.js';
import { BadResponseError, InvalidOptionError } from '../errors/errors.js';
import type { Transport } from '../http/transport.js';
import type { Deadline } from '../wait/deadline.js';
import { LONG_POLL_SECONDS, followLooks, holdSeconds, longPoll, type Look } from '../wait/long-poll.js';
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

/**
 * The seed's client, in TypeScript.
 * @example
 * const timer = new TimerClient({ baseUrl: 'http://127.0.0.1:8080' });
 * await timer.startTimer(10);
 * const { result } = await timer.getTimerStatus({ timeoutMs: 60_000 });
 */
export class TimerClient {
  readonly #transport: Transport;
  /** When the timer this client last started ends at the earliest, by this client's clock (the answer's arrival plus its duration). */
  #endsNoSoonerThan: number | undefined;

  constructor(options: ClientOptions) {
    this.#transport = createTransport(options);
  }

  /** `POST /start-timer`: starts a timer of `duration` seconds and returns the server's message. */
  async startTimer(duration: number, options: { signal?: AbortSignal | undefined } = {}): Promise<StartTimerResponse> {
    const answer = await this.#transport.request<StartTimerResponse>({ method: 'POST', path: '/start-timer', body: { duration }, signal: options.signal });
    if (typeof answer.body?.message !== 'string') throw new BadResponseError('POST', '/start-timer', 'body has no message');
    // The server started the timer before it answered, so it has surely ended `duration` after the
    // answer came: the first look goes there (a look sooner could only say "pending").
    if (typeof duration === 'number' && Number.isFinite(duration) && duration > 0) this.#endsNoSoonerThan = Date.now() + duration * 1000;
    return answer.body;
  }

  /**
   * `GET /status` until the timer is no longer pending (or once, with `wait: false`). After this
   * client started a timer, the first look waits until that timer has ended (it cannot be over
   * sooner), then the server's hints or the schedule decide. Rejects with `HttpError` (status 404)
   * when no timer was started.
   */
  async getTimerStatus(options: TimerStatusOptions = {}): Promise<TimerStatus> {
    const { wait = true, maxAttempts, timeoutMs, signal, strategy = 'auto', onPoll, ...schedule } = options;
    if (strategy !== 'auto' && strategy !== 'poll') throw new InvalidOptionError(`strategy must be auto or poll, got ${String(strategy)}`);
    if (!wait) return (await this.#look(0, signal)).value;
    return followLooks<TimerStatus>(({ deadline, final }) => this.#look(strategy === 'auto' ? holdSeconds(LONG_POLL_SECONDS, { deadline, final }) : 0, signal, deadline), {
      isDone: (status) => status.result !== 'pending',
      useHints: strategy === 'auto',
      signal,
      timeoutMs,
      maxAttempts,
      schedule,
      onPoll,
      notBeforeMs: this.#endsNoSoonerThan === undefined ? 0 : Math.max(0, this.#endsNoSoonerThan - Date.now()),
    });
  }

  /** One `GET /status`, held by the server for up to `hold` seconds when it applies `Prefer: wait`. */
  async #look(hold: number, signal: AbortSignal | undefined, deadline?: Deadline): Promise<Look<TimerStatus>> {
    const answer = await longPoll(this.#transport, { path: '/status', holdSeconds: hold, signal, deadline });
    const result = (answer.body as Partial<TimerStatus> | undefined)?.result;
    if (result !== 'pending' && result !== 'completed' && result !== 'error') throw new BadResponseError('GET', '/status', 'body has no known result');
    return { value: { result }, heldSeconds: answer.heldSeconds, hintMs: answer.retryAfterMs };
  }
}
