/**
 * Logs, once per burst, what happens when the process is short of
 * descriptors: `accept()` failing (EMFILE, ENFILE) and connections dropped
 * at `maxConnections`. Such errors come by the thousand in a second; one
 * line when a burst starts and one with its count when it ends keep the log
 * readable and cheap.
 */
import type { Server } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';

/** A burst ends after this long without another event. */
const QUIET_MS = 10_000;

/** What is counted: an `accept()` that failed, or a connection closed at once at `maxConnections`. */
export type ConnectionTrouble = 'accept-error' | 'dropped';

/** Counts and logs one kind of trouble per burst. */
class Burst {
  private count = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: FastifyBaseLogger,
    private readonly what: string,
  ) {}

  add(details: Record<string, unknown>): void {
    this.count += 1;
    if (this.count === 1) this.log.error(details, `${this.what}; further ones are counted and logged when this burst ends`);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.end(), QUIET_MS);
    this.timer.unref();
  }

  end(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.count > 1) this.log.warn({ count: this.count }, `${this.what}: ${this.count} in this burst`);
    this.count = 0;
  }
}

/** Watches `server` for accept errors and dropped connections; `onTrouble` counts each one (metrics). Returns a function that stops watching. */
export function watchConnectionErrors(server: Server, log: FastifyBaseLogger, onTrouble?: (trouble: ConnectionTrouble) => void): () => void {
  const acceptErrors = new Burst(log, 'accepting a connection failed (out of file descriptors? see docs/operations.md on ulimit -n)');
  const drops = new Burst(log, 'connection closed at once: the server holds as many connections as its file descriptors allow (maxConnections)');
  const onError = (error: NodeJS.ErrnoException): void => {
    // Only accept() failures: others (EADDRINUSE at listen) belong to whoever called listen().
    if (error.syscall !== 'accept') return;
    onTrouble?.('accept-error');
    acceptErrors.add({ code: error.code });
  };
  const onDrop = (): void => {
    onTrouble?.('dropped');
    drops.add({ maxConnections: server.maxConnections });
  };
  server.on('error', onError);
  server.on('drop', onDrop);
  return () => {
    server.off('error', onError);
    server.off('drop', onDrop);
    acceptErrors.end();
    drops.end();
  };
}
