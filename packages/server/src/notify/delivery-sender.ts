/** What the dispatcher asks of a channel (webhook, email): one attempt at one delivery. */
import type { Delivery } from './delivery.js';

/** How one attempt went. A sender never throws: every failure is an outcome. */
export interface SendOutcome {
  /** Delivered: a 2xx answer, or the SMTP server accepted the message. */
  ok: boolean;
  /** HTTP status or SMTP reply code, when the other side answered. */
  statusCode?: number | undefined;
  /** What went wrong, safe to show to the tenant. */
  error?: string | undefined;
  /** The receiver's `Retry-After`, in milliseconds. */
  retryAfterMs?: number | undefined;
  /** 410 Gone: the endpoint asks never to be called again. */
  gone?: boolean | undefined;
  /** Trying again cannot help (e.g. an SMTP 5xx rejection). */
  permanent?: boolean | undefined;
  /** Cut short by shutdown: not counted as an attempt; the delivery is released for later. */
  aborted?: boolean | undefined;
}

/** One channel. */
export interface DeliverySender {
  /** Makes one attempt; `signal` aborts it at shutdown. */
  send(delivery: Delivery, signal: AbortSignal): Promise<SendOutcome>;
  /** Frees connections. */
  close?(): Promise<void>;
}

/** A short, single-line error text. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.replace(/\s+/g, ' ').slice(0, 300);
}
