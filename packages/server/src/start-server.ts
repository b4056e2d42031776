/** Builds, listens, and shuts down gracefully on SIGINT/SIGTERM: what the binaries run. */
import type { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildServer, type ServerDeps } from './build-server.js';
import type { ServerConfig } from './config/server-config.js';

/** A listening server. */
export interface RunningServer {
  app: FastifyInstance;
  /** Base URL it answers on. */
  url: string;
  /** Stops accepting, drains held requests, closes the store and logs `stopped` with `shutdownMs`. */
  close(): Promise<void>;
}

/** Starts the server described by `config` (with `deps`, see `buildServer`); with `handleSignals`, SIGINT/SIGTERM close it and exit. */
export async function startServer(config: ServerConfig, handleSignals = true, deps: ServerDeps = {}): Promise<RunningServer> {
  const app = await buildServer(config.server, deps);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const close = async (): Promise<void> => {
    const startedAt = performance.now();
    await app.close();
    // The last line of a run: an operator (or systemd) sees the shutdown ended, and how long it took.
    app.log.info({ shutdownMs: Math.round(performance.now() - startedAt) }, 'stopped');
  };
  if (handleSignals) {
    let closing = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (closing) {
        app.log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      closing = true;
      app.log.info({ signal }, 'shutting down: draining held requests');
      close().then(
        () => exitAfterLog(app, 0),
        (error: unknown) => {
          app.log.error({ err: error }, 'shutdown failed');
          exitAfterLog(app, 1);
        },
      );
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return { app, url, close };
}

/** Longest wait for the log's last lines before exiting anyway (a stuck pipe must not hold the process). */
const LOG_FLUSH_TIMEOUT_MS = 2000;

/**
 * Exits once every line logged so far is written, in order. pino's default destination writes
 * asynchronously, and its `flush(cb)` calls back at once (it buffers nothing of its own), so
 * exiting then let pino's exit hook write the buffered lines synchronously while an earlier write
 * was still in flight: a busy machine saw "stopped" before "shutting down". Ending the destination
 * waits for that write, then writes the rest after it (stdout itself stays open).
 */
function exitAfterLog(app: FastifyInstance, code: number): void {
  const exit = (): never => process.exit(code);
  setTimeout(exit, LOG_FLUSH_TIMEOUT_MS).unref();
  const stream = (app.log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as Partial<Pick<Writable, 'end' | 'once'>> | undefined;
  if (typeof stream?.end !== 'function' || typeof stream.once !== 'function') exit();
  else {
    stream.once('close', exit);
    stream.once('error', exit);
    stream.end();
  }
}
