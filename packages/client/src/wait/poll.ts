/**
 * A generic "look until done" loop for any status endpoint: the "still
 * pending" loop of DESIGN.md. Transport retries happen inside `check`; this
 * loop only decides when to look next, and ends every wait with a value or a
 * typed error — never a silent give-up.
 */
import { AbortError, AttemptsExhaustedError, HttpError, InvalidOptionError, TimeoutError, isJobwaitError } from '../errors/errors.js';
import { RETRY_DEFAULTS } from '../retry/retry-policy.js';
import { Deadline } from './deadline.js';
import { nextPollDelay, normalizeScheduleOptions, type ScheduleOptions } from './schedule.js';
import { sleep, throwIfAborted } from './sleep.js';

/** What `check` is given on each look. */
export interface PollContext {
  /** Aborts when the caller aborts. */
  signal: AbortSignal | undefined;
  /** The wait's deadline; pass it to requests so their retries stop in time. */
  deadline: Deadline;
  /** Looks taken before this one. */
  attempt: number;
  /** True for the one last look taken at the deadline. */
  final: boolean;
}

/** Options of {@link poll}. */
export interface PollOptions<T> {
  /** True when `value` is final. */
  isDone: (value: T) => boolean;
  /** Stops the wait at once, sleeps included. */
  signal?: AbortSignal | undefined;
  /**
   * Overall deadline. At the deadline one final look is taken; if still not done, `TimeoutError`.
   * @default Infinity
   */
  timeoutMs?: number | undefined;
  /**
   * Most looks before `AttemptsExhaustedError`.
   * @default Infinity
   */
  maxAttempts?: number | undefined;
  /** Shape of the schedule used when there is no hint. */
  schedule?: ScheduleOptions | undefined;
  /** Milliseconds until the next look as the server suggests it (ETA, `Retry-After`), or undefined for none. */
  hintMs?: ((value: T) => number | undefined) | undefined;
  /** Called with every value seen. */
  onPoll?: ((value: T, attempt: number) => void) | undefined;
  /**
   * Which errors from `check` mean "could not look" rather than "failed". On such an error
   * with a finite deadline, the wait takes its final look at the deadline instead of failing early.
   * @default network errors, request timeouts, unreadable answers, 408/425/429/5xx
   */
  isTransient?: ((error: unknown) => boolean) | undefined;
  /** The deadline to share, when the caller made one already (overrides `timeoutMs`). */
  deadline?: Deadline | undefined;
  /**
   * Milliseconds from now before which the value cannot be final (a timer the caller started
   * ends no sooner): no look is taken before then (docs/predicted-waits.md, "what the client knows").
   * @default 0
   */
  notBeforeMs?: number | undefined;
}

/**
 * Calls `check` until `isDone`, sleeping between looks as the server hints or, without a hint,
 * on a schedule whose delay is bounded relative to the time already waited.
 * @example
 * const status = await poll(() => fetchStatus(), { isDone: (s) => s !== 'pending', timeoutMs: 60_000 });
 */
export async function poll<T>(check: (context: PollContext) => Promise<T>, options: PollOptions<T>): Promise<T> {
  const schedule = normalizeScheduleOptions(options.schedule);
  const maxAttempts = options.maxAttempts ?? Infinity;
  if (typeof maxAttempts !== 'number' || !(maxAttempts >= 1)) throw new InvalidOptionError('maxAttempts must be a number >= 1');
  const deadline = options.deadline ?? new Deadline(options.timeoutMs);
  const isTransient = options.isTransient ?? isTransientError;
  const { signal } = options;
  let last: T | undefined;
  let attempt = 0;

  const finalLook = async (cause?: unknown): Promise<T> => {
    await sleep(deadline.remaining(), signal);
    let value: T;
    try {
      value = await check({ signal, deadline, attempt, final: true });
    } catch (error) {
      // A check that honours the signal (fetch) rejects with its own abort error: report ours.
      throwIfAborted(signal);
      if (error instanceof AbortError || !isTransient(error)) throw error;
      throw new TimeoutError(deadline.timeoutMs, last, error);
    }
    options.onPoll?.(value, attempt++);
    if (options.isDone(value)) return value;
    throw new TimeoutError(deadline.timeoutMs, value, cause);
  };

  const notBefore = options.notBeforeMs ?? 0;
  if (typeof notBefore !== 'number' || Number.isNaN(notBefore) || notBefore < 0) throw new InvalidOptionError('notBeforeMs must be a number >= 0');
  if (notBefore > 0) {
    // A look before the known earliest end can only answer "pending".
    if (notBefore >= deadline.remaining()) return finalLook();
    await sleep(notBefore, signal);
  }

  for (;;) {
    throwIfAborted(signal);
    let value: T;
    try {
      value = await check({ signal, deadline, attempt, final: false });
    } catch (error) {
      throwIfAborted(signal);
      if (error instanceof AbortError || !isTransient(error) || !Number.isFinite(deadline.at)) throw error;
      // The transport gave up on this look; keep looking on the schedule until the deadline.
      const retryIn = nextPollDelay(attempt, deadline.elapsed(), schedule);
      if (retryIn >= deadline.remaining()) return finalLook(error);
      await sleep(retryIn, signal);
      continue;
    }
    options.onPoll?.(value, attempt);
    attempt++;
    last = value;
    if (options.isDone(value)) return value;
    if (attempt >= maxAttempts) throw new AttemptsExhaustedError(attempt, value);
    const hinted = options.hintMs?.(value);
    const delay = hinted !== undefined && Number.isFinite(hinted) && hinted >= 0 ? hinted : nextPollDelay(attempt - 1, deadline.elapsed(), schedule);
    if (delay >= deadline.remaining()) return finalLook();
    await sleep(delay, signal);
  }
}

/** Default transient test: failures another look may get past. */
export function isTransientError(error: unknown): boolean {
  if (error instanceof HttpError) return RETRY_DEFAULTS.statusCodes.includes(error.status);
  if (!isJobwaitError(error)) return false;
  return error.code === 'JOBWAIT_ERR_NETWORK' || error.code === 'JOBWAIT_ERR_REQUEST_TIMEOUT' || error.code === 'JOBWAIT_ERR_BAD_RESPONSE';
}
