/**
 * Waiting on one job with the best means the server offers, found from its
 * answers rather than configured: long-poll if it applies `Prefer: wait`,
 * else its event stream, else its ETA hints, else the bounded schedule.
 */
import { AbortError, AttemptsExhaustedError, BadResponseError, InvalidOptionError, TimeoutError } from '../errors/errors.js';
import type { HttpAnswer, Transport } from '../http/transport.js';
import { parseRetryAfter } from '../retry/retry-policy.js';
import { Deadline } from '../wait/deadline.js';
import { poll } from '../wait/poll.js';
import type { ScheduleOptions } from '../wait/schedule.js';
import { sleep, throwIfAborted } from '../wait/sleep.js';
import { isJob, isTerminal, type Job } from './job.js';
import { StreamUnsupportedError, streamJob } from './job-stream.js';

/** How to wait: `auto` picks the best the server offers. */
export type WaitStrategy = 'auto' | 'long-poll' | 'sse' | 'poll';

/** Options of `waitForJob`. */
export interface WaitForJobOptions {
  /** Stops the wait at once (the job keeps running on the server). */
  signal?: AbortSignal | undefined;
  /**
   * Deadline of the whole wait. At the deadline one final look is taken, then `TimeoutError`.
   * @default Infinity
   */
  timeoutMs?: number | undefined;
  /** Called with every state seen, e.g. to draw progress. Errors it throws end the wait. */
  onUpdate?: ((job: Job) => void) | undefined;
  /**
   * `auto`: long-poll if the server applies it, else server-sent events, else ETA-hinted polling, else the schedule.
   * @default 'auto'
   */
  strategy?: WaitStrategy | undefined;
  /** Shape of the schedule used when the server gives no hint. */
  schedule?: ScheduleOptions | undefined;
  /**
   * Seconds a long-poll asks the server to hold (the server caps it at 60).
   * @default 30
   */
  longPollSeconds?: number | undefined;
}

/** Default of {@link WaitForJobOptions.longPollSeconds}: below common proxy idle timeouts. */
export const LONG_POLL_SECONDS = 30;

const STRATEGIES: ReadonlySet<string> = new Set(['auto', 'long-poll', 'sse', 'poll']);

interface Look {
  job: Job;
  /** Seconds the server agreed to hold this request; 0 when it answered a plain GET. */
  heldSeconds: number;
  /** When to look next, as the server hints it. */
  hintMs: number | undefined;
}

/** Waits until job `id` is final and returns it (completed, error or canceled alike). */
export async function waitForJob(transport: Transport, id: string, options: WaitForJobOptions = {}): Promise<Job> {
  const strategy = options.strategy ?? 'auto';
  if (!STRATEGIES.has(strategy)) throw new InvalidOptionError(`strategy must be one of auto, long-poll, sse, poll; got ${String(strategy)}`);
  const longPollSeconds = options.longPollSeconds ?? LONG_POLL_SECONDS;
  if (typeof longPollSeconds !== 'number' || !(longPollSeconds >= 1 && longPollSeconds <= 60)) {
    throw new InvalidOptionError('longPollSeconds must be a number from 1 to 60');
  }
  if (typeof id !== 'string' || id === '') throw new InvalidOptionError('job id must be a non-empty string');
  const deadline = new Deadline(options.timeoutMs);
  const waiter = new JobWaiter(transport, id, deadline, options, longPollSeconds);

  if (strategy === 'sse') return waiter.bySse();
  if (strategy === 'poll') return waiter.byPolling(false);
  if (strategy === 'long-poll') return waiter.byPolling(true);

  const first = await waiter.look(true, false);
  if (isTerminal(first.job)) return first.job;
  if (first.heldSeconds > 0) return waiter.byPolling(true);
  try {
    return await waiter.bySse();
  } catch (error) {
    if (!(error instanceof StreamUnsupportedError)) throw error;
  }
  return waiter.byPolling(false, first);
}

class JobWaiter {
  private last: Job | undefined;
  private etag: string | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly id: string,
    private readonly deadline: Deadline,
    private readonly options: WaitForJobOptions,
    private readonly longPollSeconds: number,
  ) {}

  /** One GET of the job, held by the server for up to `longPollSeconds` when `longPoll`. */
  async look(longPoll: boolean, final: boolean): Promise<Look> {
    const hold = longPoll && !final ? Math.min(this.longPollSeconds, Math.floor(this.deadline.remaining() / 1000)) : 0;
    const headers: Record<string, string> = {};
    if (hold > 0) headers.prefer = `wait=${hold}`;
    if (hold > 0 && this.etag) headers['if-none-match'] = this.etag;
    const answer = await this.transport.request<unknown>({
      method: 'GET',
      path: `/v1/jobs/${encodeURIComponent(this.id)}`,
      headers,
      timeoutMs: this.transport.settings.requestTimeoutMs + hold * 1000,
      signal: this.options.signal,
      deadline: this.deadline,
      accept: [304],
    });
    const job = this.read(answer);
    return { job, heldSeconds: hold > 0 ? appliedWait(answer.headers) : 0, hintMs: hintOf(job, answer.headers) };
  }

  /** Long-poll (when `longPoll` and the server applies it) or hinted/scheduled polling. */
  byPolling(longPoll: boolean, first?: Look): Promise<Job> {
    let pending = first;
    return poll<Look>(
      async ({ final }) => {
        if (pending && !final) {
          const look = pending;
          pending = undefined;
          return look;
        }
        return this.look(longPoll, final);
      },
      {
        isDone: (look) => isTerminal(look.job),
        signal: this.options.signal,
        deadline: this.deadline,
        schedule: this.options.schedule,
        // A held request that came back still pending is followed at once by the next one.
        hintMs: (look) => (look.heldSeconds > 0 ? 0 : look.hintMs),
      },
    ).then(
      (look) => look.job,
      (error: unknown) => {
        throw unwrapLastValue(error, (look: Look) => look.job);
      },
    );
  }

  /** Follows the event stream to the final state; at the deadline, one final look. */
  async bySse(): Promise<Job> {
    const { signal } = this.options;
    // An 'abort' listener never fires for a signal that is already aborted.
    throwIfAborted(signal);
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const remaining = this.deadline.remaining();
    const timer = Number.isFinite(remaining) ? setTimeout(() => controller.abort(DEADLINE), Math.min(remaining, 2 ** 31 - 1)) : undefined;
    try {
      const lastEventId = this.last ? String(this.last.version) : undefined;
      for await (const job of streamJob(this.transport, this.id, { signal: controller.signal, deadline: this.deadline, lastEventId })) {
        this.seen(job);
        if (isTerminal(job)) return job;
      }
      throw new BadResponseError('GET', `/v1/jobs/${this.id}/events`, 'stream ended without a final state');
    } catch (error) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      if (!(controller.signal.reason === DEADLINE || (error instanceof Error && this.deadline.expired()))) throw error;
      await sleep(this.deadline.remaining(), signal);
      const look = await this.look(false, true);
      if (isTerminal(look.job)) return look.job;
      throw new TimeoutError(this.deadline.timeoutMs, look.job, error);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private read(answer: HttpAnswer<unknown>): Job {
    if (answer.status === 304 && this.last) return this.last;
    if (!isJob(answer.body)) throw new BadResponseError('GET', `/v1/jobs/${this.id}`, 'body is not a job');
    this.etag = answer.headers.get('etag') ?? undefined;
    this.seen(answer.body);
    return answer.body;
  }

  private seen(job: Job): void {
    this.last = job;
    this.options.onUpdate?.(job);
  }
}

const DEADLINE = Symbol('deadline');

/**
 * `poll()` reports the last value it saw, which for a wait is an internal wrapper (a look at the
 * job or at the timer status): hand callers the state itself in `lastValue`, as documented.
 */
export function unwrapLastValue<T>(error: unknown, unwrap: (value: T) => unknown): unknown {
  if (error instanceof TimeoutError && error.lastValue !== undefined) {
    return new TimeoutError(error.timeoutMs, unwrap(error.lastValue as T), error.cause);
  }
  if (error instanceof AttemptsExhaustedError) return new AttemptsExhaustedError(error.attempts, unwrap(error.lastValue as T));
  return error;
}

/** Seconds named in `Preference-Applied: wait=N`, or 0 when the server did not hold the request. */
export function appliedWait(headers: Headers): number {
  const applied = headers.get('preference-applied');
  const match = applied ? /(?:^|[,;\s])wait=(\d+)/i.exec(applied) : null;
  return match ? Number(match[1]) : 0;
}

/** The server's hint of when to look next: the body's exact `etaMs`, else `Retry-After`. */
export function hintOf(job: Pick<Job, 'etaMs'> | undefined, headers: Headers): number | undefined {
  if (job && typeof job.etaMs === 'number' && Number.isFinite(job.etaMs) && job.etaMs >= 0) return job.etaMs;
  const retryAfter = headers.get('retry-after');
  return retryAfter === null ? undefined : parseRetryAfter(retryAfter);
}
