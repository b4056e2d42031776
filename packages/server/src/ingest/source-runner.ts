/**
 * The life every queue source shares, whatever its broker: started and stopped with the server,
 * one connection at a time, made again with backoff ({@link reconnectDelayMs}) whenever it drops
 * or fails, and a status for `/readyz` and `/metrics`. A broker's own part is its `consume`: one
 * connection's life, told how to report through a {@link SourceSession}.
 */
import type { IngestSource, SourceStatus, SourceState } from './ingest-source.js';
import { reconnectDelayMs, sleep } from './reconnect-delay.js';
import type { SourceTally } from './source-tally.js';

/** What one connection's life tells its runner. */
export interface SourceSession {
  /** Aborted when the source stops: leave after acknowledging what is being applied. */
  readonly signal: AbortSignal;
  /** Connected and consuming: the backoff starts over and the last error is cleared. */
  consuming(): void;
  /** Messages waiting in the broker, as last read. */
  lag(messages: number | undefined): void;
  /** An error that did not end the connection (yet); shown while not consuming. */
  error(message: string): void;
}

/**
 * One connection's life: resolves when it closed or the source stopped, throws when it failed.
 * Either way, unless stopping, the runner connects again after its backoff.
 */
export type ConsumeConnection = (session: SourceSession) => Promise<void>;

/** Runs one broker's {@link ConsumeConnection} as an {@link IngestSource}. */
export class SourceRunner implements IngestSource {
  private state: SourceState = 'stopped';
  private lagValue: number | undefined;
  private lastError: string | undefined;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly kind: SourceStatus['kind'],
    private readonly tally: SourceTally,
    private readonly consume: ConsumeConnection,
  ) {}

  start(): void {
    this.state = 'connecting';
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    this.state = 'stopped';
  }

  status(): SourceStatus {
    return {
      name: this.name,
      kind: this.kind,
      state: this.state,
      lag: this.lagValue,
      ...this.tally.counts,
      ...(this.state === 'consuming' ? {} : { lastError: this.lastError }),
    };
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let attempt = 0;
    const session: SourceSession = {
      signal,
      consuming: () => {
        attempt = 0;
        this.state = 'consuming';
        this.lastError = undefined;
      },
      lag: (messages) => (this.lagValue = messages),
      error: (message) => (this.lastError = message),
    };
    while (!signal.aborted) {
      try {
        await this.consume(session);
      } catch (error) {
        this.lastError = (error as Error).message;
      }
      if (signal.aborted) break;
      this.state = 'reconnecting';
      await sleep(reconnectDelayMs(attempt++), signal);
    }
  }
}
