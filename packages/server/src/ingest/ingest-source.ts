/**
 * What every queue source is to the server: started and stopped with it, and able to say how it
 * is doing. A source takes messages from its broker, hands each to the {@link MessageHandler}
 * (which applies it: the same report an HTTP worker makes), and acknowledges it only once the
 * handler answered — after the store committed, or after the dead letter was stored.
 */
import type { IngestResult } from './ingest-applier.js';

/** A source's connection, as `/readyz` and `jobwait_ingest_source_up` show it. */
export type SourceState = 'connecting' | 'consuming' | 'reconnecting' | 'stopped';

/** What a source has done since this process started it. */
export interface SourceCounts {
  applied: number;
  duplicate: number;
  /** Late (after the job's end) or stale (older than the last applied) messages: acknowledged, nothing changed. */
  ignored: number;
  deadLettered: number;
}

/** How a source is doing, for `/readyz` and `/metrics`. */
export interface SourceStatus extends SourceCounts {
  name: string;
  kind: 'amqp' | 'redis-stream';
  state: SourceState;
  /** Messages waiting in the broker (queue depth; a stream group's undelivered plus pending entries); absent until first read. */
  lag?: number | undefined;
  /** The last connection error, while not consuming. */
  lastError?: string | undefined;
}

/**
 * Applies a batch of messages' bytes in order, as one commit. `results` are the committed ones, in
 * order (acknowledge those); with `error`, the store failed and the rest must not be acknowledged.
 */
export type MessageHandler = (bodies: readonly (Buffer | string)[]) => Promise<{ results: IngestResult[]; error?: unknown }>;

/** One configured queue. */
export interface IngestSource {
  readonly name: string;
  /** Connects (and reconnects, with backoff, for as long as it runs) and consumes. Returns at once. */
  start(): void;
  /** Stops taking messages, lets the one being applied finish, closes the connection. */
  stop(): Promise<void>;
  status(): SourceStatus;
}
