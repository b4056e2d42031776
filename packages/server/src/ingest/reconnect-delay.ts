/**
 * How long a source waits before its next connection attempt: exponential from 250 ms, capped at
 * 30 s, drawn from its upper half so instances that lost the same broker do not all return at once.
 */

/** Bounds of {@link reconnectDelayMs}. */
export const RECONNECT_DELAY = Object.freeze({ baseMs: 250, capMs: 30_000 });

/** Delay before attempt `attempt` (0 = the first retry). `random` is for tests. */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RECONNECT_DELAY.capMs, RECONNECT_DELAY.baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
