/**
 * A source's counts and its one log line per dead letter. Shared by every kind of source, so
 * `/readyz` and `/metrics` count the same things the same way whatever the broker.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { IngestResult } from './ingest-applier.js';
import type { SourceCounts } from './ingest-source.js';

/** Called with each message's result (for `/metrics`). */
export type ResultObserver = (source: string, result: IngestResult) => void;

/** Counts what one source's messages did. */
export class SourceTally {
  readonly counts: SourceCounts = { applied: 0, duplicate: 0, ignored: 0, deadLettered: 0 };

  constructor(
    private readonly source: string,
    private readonly log: FastifyBaseLogger,
    private readonly observe?: ResultObserver,
  ) {}

  /** Records a message the source acknowledged (after its commit, or after its dead letter was stored). */
  record(result: IngestResult): void {
    switch (result.kind) {
      case 'applied':
        this.counts.applied++;
        break;
      case 'duplicate':
        this.counts.duplicate++;
        break;
      case 'ignored':
        this.counts.ignored++;
        break;
      case 'dead-letter':
        this.counts.deadLettered++;
        // Once per message: a dead-lettered message is acknowledged, so it never comes back to be logged again.
        this.log.warn({ source: this.source, reason: result.reason, messageId: result.messageId, detail: result.detail }, 'ingest: message dead-lettered');
        break;
    }
    this.observe?.(this.source, result);
  }
}
