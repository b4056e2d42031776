/** Long-polls stop when their client goes away. */
import type { IncomingMessage } from 'node:http';

/**
 * Runs `hold` with a signal that aborts if the client disconnects meanwhile. The listener goes
 * once `hold` ends: left on, it aborted every answered long-poll too when Node closed the request
 * after the response, building a DOMException (with its stack) per waiter in the wake-up burst
 * (bench/server, issue 8).
 * @example const job = await whileConnected(request.raw, (signal) => service.waitForChange(tenant, id, ms, known, signal));
 */
export async function whileConnected<T>(raw: IncomingMessage, hold: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onClose = (): void => controller.abort();
  raw.once('close', onClose);
  try {
    return await hold(controller.signal);
  } finally {
    raw.off('close', onClose);
  }
}
