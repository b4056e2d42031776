/**
 * Waiting on one job with the best means the server offers, found from its
 * answers rather than configured: long-poll if it applies `Prefer: wait`,
 * else its event stream, else its ETA hints, else the bounded schedule.
 */
import { AbortError, BadResponseError, InvalidOptionError, StreamUnsupportedError, TimeoutError } from '../errors/errors.js';
import type { Transport } from '../http/transport.js';
import { Deadline } from '../wait/deadline.js';
import { LONG_POLL_SECONDS, followLooks, holdSeconds, longPoll, type Look, type LongPollAnswer } from '../wait/long-poll.js';
import type { ScheduleOptions } from '../wait/schedule.js';
import { EndDistribution, isEndPrediction } from '../wait/end-distribution.js';
import { nextPredictedDelay, normalizePredictedScheduleOptions, type NormalizedPredictedScheduleOptions, type PredictedScheduleOptions } from '../wait/predicted-schedule.js';
import { sleep, throwIfAborted } from '../wait/sleep.js';
import { isJob, isTerminal, type Job } from './job.js';
import { streamJob } from './job-stream.js';

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
  /**
   * Called with the first state read, then with every newer version seen (never twice for one
   * version), whatever the strategy — e.g. to draw progress. Errors it throws end the wait.
   */
  onUpdate?: ((job: Job) => void) | undefined;
  /**
   * `auto`: long-poll if the server applies it, else server-sent events, else ETA-hinted polling, else the schedule.
   * @default 'auto'
   */
  strategy?: WaitStrategy | undefined;
  /** Shape of the schedule used when the server gives no hint. */
  schedule?: ScheduleOptions | undefined;
  /**
   * Shape of the schedule used when the server predicts the end from history (docs/predicted-waits.md).
   * By default a job that runs past the shortest 0.5% of predicted lengths is seen within 10% of its
   * length + 1 s (`maxLateness`).
   */
  predictedSchedule?: PredictedScheduleOptions | undefined;
  /**
   * Seconds a long-poll asks the server to hold (the server caps it at 60).
   * @default 30
   */
  longPollSeconds?: number | undefined;
}

const STRATEGIES: ReadonlySet<string> = new Set(['auto', 'long-poll', 'sse', 'poll']);

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

  // A stream opens with the current state, and a plain poll's first look answers at once.
  if (strategy === 'sse') return waiter.bySse();
  if (strategy === 'poll') return waiter.byPolling(false);
  // A held look answers only when the job changes: read the state once first for onUpdate to show.
  if (options.onUpdate) {
    const first = await waiter.look(0);
    if (isTerminal(first.value)) return first.value;
  }
  if (strategy === 'long-poll') return waiter.byPolling(true);

  // One held look tells whether the server applies `Prefer: wait`.
  const probe = await waiter.look(holdSeconds(longPollSeconds, { deadline, final: false }));
  if (isTerminal(probe.value)) return probe.value;
  if (probe.heldSeconds > 0) return waiter.byPolling(true);
  // The server holds requests but not this one now: keep long-polling, after its hint.
  if (probe.holdRefused) return waiter.byPolling(true, probe);
  try {
    return await waiter.bySse();
  } catch (error) {
    if (!(error instanceof StreamUnsupportedError)) throw error;
  }
  return waiter.byPolling(false, probe);
}

class JobWaiter {
  /** The freshest state read: answers a 304, resumes a stream, and is a timeout's `lastValue`. */
  private last: Job | undefined;
  private etag: string | undefined;
  /** The newest version handed to `onUpdate`. */
  private reported = 0;
  private readonly path: string;
  private readonly predicted: NormalizedPredictedScheduleOptions;

  constructor(
    private readonly transport: Transport,
    private readonly id: string,
    private readonly deadline: Deadline,
    private readonly options: WaitForJobOptions,
    private readonly longPollSeconds: number,
  ) {
    this.path = `/v1/jobs/${encodeURIComponent(id)}`;
    this.predicted = normalizePredictedScheduleOptions(options.predictedSchedule);
  }

  /** One GET of the job, held by the server for up to `hold` seconds (0: a plain GET). */
  async look(hold: number): Promise<Look<Job>> {
    // Without onUpdate only the end matters: the server need not answer each progress report.
    const untilFinal = this.options.onUpdate === undefined;
    const answer = await longPoll(this.transport, { path: this.path, holdSeconds: hold, etag: this.etag, untilFinal, signal: this.options.signal, deadline: this.deadline });
    const job = this.read(answer);
    // A known end (timer, worker ETA), else when history says the end becomes likely.
    const eta = etaOf(job) ?? predictedDelay(job, this.predicted);
    // Refused a hold, look again when the server said (or at the ETA, if that comes first).
    const hintMs = answer.holdRefused
      ? Math.max(REFUSED_HOLD_MIN_MS, Math.min(eta ?? Number.POSITIVE_INFINITY, answer.retryAfterMs ?? Number.POSITIVE_INFINITY))
      : (eta ?? answer.retryAfterMs);
    return { value: job, heldSeconds: answer.heldSeconds, hintMs: Number.isFinite(hintMs) ? hintMs : undefined, holdRefused: answer.holdRefused };
  }

  /** Long-poll (when `held` and the server applies it) or hinted/scheduled polling. */
  byPolling(held: boolean, first?: Look<Job>): Promise<Job> {
    let pending = first;
    return followLooks<Job>(
      async (context) => {
        if (pending && !context.final) {
          const look = pending;
          pending = undefined;
          return look;
        }
        return this.look(held ? holdSeconds(this.longPollSeconds, context) : 0);
      },
      { isDone: isTerminal, signal: this.options.signal, deadline: this.deadline, schedule: this.options.schedule },
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
      throw new BadResponseError('GET', `${this.path}/events`, 'stream ended without a final state');
    } catch (error) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      if (!(controller.signal.reason === DEADLINE || (error instanceof Error && this.deadline.expired()))) throw error;
      await sleep(this.deadline.remaining(), signal);
      const look = await this.look(0);
      if (isTerminal(look.value)) return look.value;
      throw new TimeoutError(this.deadline.timeoutMs, look.value, error);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private read(answer: LongPollAnswer): Job {
    if (answer.status === 304 && this.last) return this.last;
    if (!isJob(answer.body)) throw new BadResponseError('GET', this.path, 'body is not a job');
    this.etag = answer.headers.get('etag') ?? undefined;
    this.seen(answer.body);
    return answer.body;
  }

  private seen(job: Job): void {
    this.last = job;
    if (job.version <= this.reported) return;
    this.reported = job.version;
    this.options.onUpdate?.(job);
  }
}

const DEADLINE = Symbol('deadline');

/** Shortest pause after a refused hold: a job at its ETA but not yet final must not make the look loop spin. */
const REFUSED_HOLD_MIN_MS = 250;

/**
 * When to look next at a pending job whose end the server predicts from history
 * (`expectedEnd.basis: 'history'`): the prediction-driven schedule, in milliseconds (finer than
 * `Retry-After`'s whole seconds, from the same rule). Undefined without a usable prediction.
 */
function predictedDelay(job: Job, options: NormalizedPredictedScheduleOptions): number | undefined {
  const end = job.expectedEnd;
  if (job.status !== 'pending' || end?.basis !== 'history' || end.length === undefined || typeof end.ageMs !== 'number' || !isEndPrediction(end.length)) return undefined;
  // Past every length the history holds, the prediction says nothing: Retry-After decides.
  if (!new EndDistribution(end.length, end.ageMs).usable) return undefined;
  return nextPredictedDelay({ waitedMs: end.ageMs, attempt: 0, prediction: { ageMs: end.ageMs, length: end.length } }, options);
}

/**
 * The body's exact ETA, when it has a usable one: better than `Retry-After`'s whole seconds. A
 * pending job's `etaMs` of 0 (or none: a reported job with no known end) is no hint, so the
 * server's `Retry-After` (else the schedule) decides: never a busy loop on a job whose end is unknown.
 */
function etaOf(job: Job): number | undefined {
  return typeof job.etaMs === 'number' && Number.isFinite(job.etaMs) && job.etaMs > 0 ? job.etaMs : undefined;
}
