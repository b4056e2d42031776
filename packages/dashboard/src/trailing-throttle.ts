/**
 * Runs a task at most once per interval, and always once more after the last call: the page
 * asks the server for counts or a page after a change, never more often than it can use, and
 * never ends on a stale answer.
 */

/** Clock and timers; the global ones by default, fakes in tests. */
export interface ThrottleTimers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** A throttled task. */
export interface TrailingThrottle {
  /** Asks for a run: now when the interval has passed and no run is in flight, else once afterwards. */
  call(): void;
  /** Drops a run that was asked for and not yet started. */
  cancel(): void;
}

const GLOBAL_TIMERS: ThrottleTimers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Throttles `task` to one start per `intervalMs`. An async task is never run twice at once:
 * calls during a run ask for one more run, `intervalMs` after the previous start (or at its end,
 * whichever is later). A task's rejection is left to the task to handle.
 * @example const refreshCounts = trailingThrottle(() => loadCounts(), 500); stream.onChange(refreshCounts.call);
 */
export function trailingThrottle(task: () => unknown, intervalMs: number, timers: ThrottleTimers = GLOBAL_TIMERS): TrailingThrottle {
  if (!(intervalMs >= 0) || !Number.isFinite(intervalMs)) throw new RangeError(`intervalMs must be a finite number >= 0, got ${intervalMs}`);
  let lastStart = -Infinity;
  let running = false;
  let wanted = false;
  let timer: unknown;

  const start = (): void => {
    timer = undefined;
    wanted = false;
    running = true;
    lastStart = timers.now();
    let result: unknown;
    try {
      result = task();
    } catch {
      result = undefined;
    }
    if (result instanceof Promise) void result.then(finish, finish);
    else finish();
  };

  const finish = (): void => {
    running = false;
    if (wanted) plan();
  };

  const plan = (): void => {
    if (running || timer !== undefined) return;
    const wait = lastStart + intervalMs - timers.now();
    if (wait <= 0) start();
    else timer = timers.setTimeout(start, wait);
  };

  return {
    call() {
      wanted = true;
      plan();
    },
    cancel() {
      wanted = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
    },
  };
}
