/**
 * The configured sources of one server (`--ingest-sources`), started when the server is ready and
 * stopped before it closes. They share one {@link IngestApplier}: a queue message is the same
 * report whichever broker it came through. A broker that is down degrades ingest only — its source
 * reconnects with backoff, and `/readyz` stays ready (its body lists each source's state).
 */
import type { FastifyBaseLogger } from 'fastify';
import { amqpSource } from './amqp-source.js';
import type { IngestApplier } from './ingest-applier.js';
import type { IngestSource, SourceStatus } from './ingest-source.js';
import { redisStreamSource } from './redis-stream-source.js';
import type { IngestSourceConfig } from './source-config.js';
import { SourceTally, type ResultObserver } from './source-tally.js';

/** Every source of one server. */
export class IngestSources {
  private readonly sources: IngestSource[];

  constructor(configs: readonly IngestSourceConfig[], applier: IngestApplier, log: FastifyBaseLogger, observe?: ResultObserver) {
    this.sources = configs.map((config) => {
      const tenants = new Set(config.tenants);
      const handle = (bodies: readonly (Buffer | string)[]) => applier.applyBatch(bodies, tenants);
      const tally = new SourceTally(config.name, log, observe);
      return config.kind === 'amqp' ? amqpSource(config, handle, tally) : redisStreamSource(config, handle, tally);
    });
  }

  /** True when at least one source is configured. */
  get configured(): boolean {
    return this.sources.length > 0;
  }

  /** Starts every source (each connects in the background). */
  start(): void {
    for (const source of this.sources) source.start();
  }

  /** Stops every source: no new message is taken, the ones being applied finish and are acknowledged. */
  async stop(): Promise<void> {
    await Promise.all(this.sources.map((source) => source.stop()));
  }

  /** Each source's state and counts. */
  status(): SourceStatus[] {
    return this.sources.map((source) => source.status());
  }
}
