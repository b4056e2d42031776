/**
 * The log of a failure that repeats while something is down (a store that is
 * retried every second): one line when it starts, one when its reason
 * changes, one when it works again — not a stack trace per retry. The error
 * itself (with its stack) goes to `debug`.
 */
import type { FastifyBaseLogger } from 'fastify';

/** The logger methods an {@link OutageLog} writes with. */
export type OutageLogger = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'> & Partial<Pick<FastifyBaseLogger, 'debug'>>;

/** `error` as one short line: its code (when it has one) and message. */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

/** Writes the outage lines of one repeating operation. */
export class OutageLog {
  private reason: string | undefined;

  constructor(
    private readonly log: OutageLogger,
    private readonly level: 'warn' | 'error' = 'error',
  ) {}

  /** True while the last attempt failed. */
  get down(): boolean {
    return this.reason !== undefined;
  }

  /** An attempt failed: logs `message` with the reason when it is the first failure or a new reason. */
  failed(error: unknown, message: string, fields: Record<string, unknown> = {}): void {
    const reason = reasonOf(error);
    this.log.debug?.({ err: error, ...fields }, message);
    if (reason === this.reason) return;
    const first = this.reason === undefined;
    this.reason = reason;
    this.log[this.level]({ ...fields, reason }, first ? `${message} (logged again only when the reason changes)` : `${message}: the reason changed`);
  }

  /** An attempt worked: logs `message` once if the ones before failed. */
  succeeded(message: string, fields: Record<string, unknown> = {}): void {
    if (this.reason === undefined) return;
    this.reason = undefined;
    this.log.info(fields, message);
  }
}
