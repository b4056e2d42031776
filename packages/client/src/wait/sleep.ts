/**
 * Abortable sleep (after ky's `delay`): resolves after `ms`, rejects with an
 * `AbortError` the moment `signal` fires, and leaves no timer behind either way.
 */
import { AbortError } from '../errors/errors.js';
import { MAX_TIMER_DELAY_MS } from '../retry/retry-policy.js';

/** Waits `ms` milliseconds (clamped to what `setTimeout` takes) unless `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.min(Math.max(0, ms), MAX_TIMER_DELAY_MS));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Throws the caller's abort as a jobwait `AbortError` if `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason);
}
