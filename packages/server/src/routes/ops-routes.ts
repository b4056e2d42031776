/** Liveness and readiness for load balancers and orchestrators. */
import type { FastifyInstance } from 'fastify';
import type { ChangeFeed } from '../feed/change-feed.js';
import type { SourceStatus } from '../ingest/ingest-source.js';
import type { JobStore } from '../store/job-store.js';

/** Options of {@link opsRoutes}. */
export interface OpsRoutesOptions {
  store: JobStore;
  /** Its `ping()`, when it has one, is part of readiness too (the Redis feed's subscription). */
  feed?: ChangeFeed | undefined;
  /**
   * The ingest sources' states, shown in the body. Never part of the verdict: a broker outage
   * degrades ingest, not the HTTP API (its source reconnects by itself).
   */
  ingest?: (() => SourceStatus[]) | undefined;
  /** True once shutdown began: readiness turns false so the balancer stops sending work. */
  isDraining: () => boolean;
  /**
   * Longest wait for the store (and feed) to answer before `/readyz` says no.
   * @default 2000
   */
  readyTimeoutMs?: number | undefined;
}

/** A store that hangs is as unready as one that fails; probes typically time out after a few seconds. */
const READY_TIMEOUT_MS = 2000;

/** Registers `/healthz` and `/readyz`. */
export async function opsRoutes(app: FastifyInstance, options: OpsRoutesOptions): Promise<void> {
  const timeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
  // Process alive and serving HTTP; says nothing about the store (a restart would not fix Redis).
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    if (options.isDraining()) return reply.code(503).send({ status: 'draining' });
    const checks: [string, () => Promise<void>][] = [['store', () => options.store.ping()]];
    const feed = options.feed;
    if (feed?.ping) checks.push(['feed', () => feed.ping!()]);
    for (const [name, ping] of checks) {
      try {
        await withTimeout(ping(), timeoutMs, `${name} did not answer within ${timeoutMs} ms`);
      } catch (error) {
        request.log.warn({ err: error }, `${name} is not answering`);
        return reply.code(503).send(options.ingest ? { status: `${name} unavailable`, ingest: options.ingest() } : { status: `${name} unavailable` });
      }
    }
    return options.ingest ? { status: 'ready', ingest: options.ingest() } : { status: 'ready' };
  });
}

async function withTimeout(promise: Promise<void>, ms: number, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
