/**
 * Prometheus metrics of one server instance, in a registry of its own (never
 * prom-client's global one), so several servers in one process (tests, the
 * benchmarks) keep apart. Process-wide metrics (CPU, memory, GC, event-loop
 * delay) describe the process rather than a server and live in one registry
 * per process; `GET /metrics` serves both.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IngestResult } from '../ingest/ingest-applier.js';
import type { SourceStatus } from '../ingest/ingest-source.js';
import { histogramValues, PlainSeries, registerPlainMetric } from './plain-series.js';
import { RequestMetrics } from './request-metrics.js';

/** How a waiter learnt of a change. */
export type WakeTransport = 'long-poll' | 'sse';

/** A job's final state, as counted by `jobwait_jobs_finished_total`. */
export type FinishOutcome = 'completed' | 'error' | 'canceled';

/** Result of one delivery attempt: the delivery's status after it (`retrying`: failed, another attempt is scheduled). */
export type DeliveryResult = 'delivered' | 'retrying' | 'failed' | 'disabled';

/** What the waiting routes (long-poll, event streams) report. */
export interface WaitObserver {
  /** The request is held or streams: its duration is the wait, not response latency, so it stays out of the latency histogram. */
  holding(request: object): void;
  /** A waiter that was held before the change learnt of it `delayMs` after the change (for a settled job, after `dueAt`). */
  woke(transport: WakeTransport, delayMs: number): void;
}

/** State of a delivery endpoint, as labelled in the delivery gauges. */
export type EndpointStateLabel = 'healthy' | 'backing_off' | 'probing';

/** What the delivery gauges read at scrape time: counts by endpoint state (the dispatcher's `stats()`). */
export interface DeliveryGaugeSource {
  inFlight: Record<'healthy' | 'backing-off' | 'probing', number>;
  waiting: Record<'healthy' | 'backing-off' | 'probing', number>;
  endpoints: Record<'healthy' | 'backing-off' | 'probing', number>;
}

/** Kind of row deleted by retention, as labelled in `jobwait_retention_deleted_total`. */
export type PrunedKind = 'job' | 'delivery' | 'idempotency_key';

/** Sizes of the engine's files, read at scrape time (engines that keep a file: SQLite). */
export interface StorageSize {
  /** The database file: page count x page size. */
  databaseBytes: number;
  /** Pages of it that are free, waiting for reuse. */
  freeBytes: number;
  /** The write-ahead log beside it. */
  walBytes: number;
}

/** Latency buckets of plain requests, in seconds. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Wake-delay buckets, in seconds: from "at once" to "a poll interval late". */
const WAKE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

let processRegistry: Registry | undefined;

/**
 * The process's default metrics, created once: each collector set enables an event-loop delay
 * monitor and a GC observer that prom-client never releases, so one per server would leak.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 10 });
  }
  return processRegistry;
}

/**
 * The metrics of one server. Names are `jobwait_*`; the process metrics keep prom-client's
 * standard names (`process_*`, `nodejs_*`, including `nodejs_eventloop_lag_p99_seconds`).
 */
export class ServerMetrics implements WaitObserver {
  readonly registry = new Registry();
  /** `jobwait_http_requests_total{route,method,status}` (`route` is the route pattern, `unmatched` for 404s) and `jobwait_http_request_duration_seconds` (plain answers only: held long-polls and streams are waits, see `wakeDelay`). */
  readonly requests = new RequestMetrics(this.registry, LATENCY_BUCKETS);
  /** `jobwait_jobs_created_total`: jobs created through this instance (idempotent replays are not counted). */
  readonly jobsCreated = new Counter({ name: 'jobwait_jobs_created_total', help: 'Jobs created through this instance', registers: [this.registry] });
  /** `jobwait_jobs_finished_total{outcome}`: counted by the instance that made the transition (once per job across a cluster). */
  readonly jobsFinished = new Counter({
    name: 'jobwait_jobs_finished_total',
    help: 'Jobs that reached a final state through this instance, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  /** `jobwait_jobs_overdue_total`: jobs of a known kind that ran past their kind's p99 by the overdue factor, once per job (by the instance that created it). */
  readonly jobsOverdue = new Counter({
    name: 'jobwait_jobs_overdue_total',
    help: "Jobs that ran past their kind's predicted p99 by the overdue factor (counted once per job by the instance that created it)",
    registers: [this.registry],
  });
  /** Each ingest source's state and lag, read at scrape time. */
  private ingestStatus: () => SourceStatus[] = () => [];
  /** `jobwait_ingest_source_up{source}`: 1 while the source consumes, 0 while it connects or reconnects. */
  readonly ingestUp = new Gauge({
    name: 'jobwait_ingest_source_up',
    help: 'Whether each ingest source is connected and consuming (1) or not (0)',
    labelNames: ['source'] as const,
    registers: [this.registry],
    collect: () => {
      this.ingestUp.reset();
      for (const status of this.ingestStatus()) this.ingestUp.set({ source: status.name }, status.state === 'consuming' ? 1 : 0);
    },
  });
  /** `jobwait_ingest_lag_messages{source}`: messages waiting in the broker for each source. */
  readonly ingestLag = new Gauge({
    name: 'jobwait_ingest_lag_messages',
    help: 'Messages waiting in the broker for each ingest source (queue depth; stream group lag plus pending)',
    labelNames: ['source'] as const,
    registers: [this.registry],
    collect: () => {
      this.ingestLag.reset();
      for (const status of this.ingestStatus()) if (status.lag !== undefined) this.ingestLag.set({ source: status.name }, status.lag);
    },
  });
  /** `jobwait_waiters{transport}`: long-polls held and event streams open now. */
  readonly waiters = new Gauge({
    name: 'jobwait_waiters',
    help: 'Waiters held now: long-polls and open event streams',
    labelNames: ['transport'] as const,
    registers: [this.registry],
    collect: () => this.collectWaiters(),
  });
  /**
   * `jobwait_wake_delay_seconds{transport}`: from a job's change (a completion's `dueAt`) to the answer
   * that tells a held waiter. Observed per waiter in a wake-up burst, so with plain numbers.
   */
  private readonly wakeDelay: Readonly<Record<WakeTransport, PlainSeries>> = {
    'long-poll': new PlainSeries({ transport: 'long-poll' }, WAKE_BUCKETS),
    sse: new PlainSeries({ transport: 'sse' }, WAKE_BUCKETS),
  };
  /**
   * `jobwait_deliveries_total{kind,result}`: webhook and email delivery attempts by result.
   * @example metrics.deliveries.inc({ kind: 'webhook', result: 'delivered' })
   */
  readonly deliveries = new Counter({
    name: 'jobwait_deliveries_total',
    help: 'Webhook and email delivery attempts, by kind and result (retrying: failed, will be retried)',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  /**
   * `jobwait_ingest_messages_total{source,result}`: queue messages acknowledged, by what they did
   * (`applied`, `duplicate`, `ignored_late`, `ignored_stale`, `dead_lettered`).
   */
  readonly ingestMessages = new Counter({
    name: 'jobwait_ingest_messages_total',
    help: 'Queue messages acknowledged, by source and result (applied, duplicate, ignored_late, ignored_stale, dead_lettered)',
    labelNames: ['source', 'result'] as const,
    registers: [this.registry],
  });
  /** `jobwait_ingest_dead_letters_total{source,reason}`: queue messages dead-lettered, by reason. */
  readonly ingestDeadLetters = new Counter({
    name: 'jobwait_ingest_dead_letters_total',
    help: 'Queue messages sent to the dead-letter queue or stream, by source and reason',
    labelNames: ['source', 'reason'] as const,
    registers: [this.registry],
  });
  /** `jobwait_rate_limited_total{scope}`: requests refused with 429, per API key (`key`) or per IP (`ip`, when open). */
  readonly rateLimited = new Counter({
    name: 'jobwait_rate_limited_total',
    help: 'Requests refused by the rate limit (429)',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });
  /**
   * `jobwait_store_errors_total{component,operation}`: failed store, feed and Redis operations.
   * @example metrics.storeErrors.inc({ component: 'redis', operation: 'connection' })
   */
  readonly storeErrors = new Counter({
    name: 'jobwait_store_errors_total',
    help: 'Failed store, change-feed and Redis operations, by component and operation',
    labelNames: ['component', 'operation'] as const,
    registers: [this.registry],
  });

  /**
   * `jobwait_retention_deleted_total{kind}`: rows deleted because their job's retention ended (jobs, their
   * deliveries and idempotency keys), by the instance that deleted them.
   * @example metrics.retentionDeleted.inc({ kind: 'job' }, 500)
   */
  readonly retentionDeleted = new Counter({
    name: 'jobwait_retention_deleted_total',
    help: 'Rows deleted because their job was finished for longer than the retention, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  /** `jobwait_database_size_bytes{file}`: size of the SQLite database (`database`: pages x page size) and of its write-ahead log (`wal`). */
  readonly databaseSize = new Gauge({
    name: 'jobwait_database_size_bytes',
    help: 'Size of the SQLite database (page count x page size) and of its write-ahead log, by file',
    labelNames: ['file'] as const,
    registers: [this.registry],
    collect: () => this.collectStorage(),
  });
  /** `jobwait_database_free_bytes`: pages of the database free for reuse (deleted rows' space not yet filled again or given back). */
  readonly databaseFree = new Gauge({
    name: 'jobwait_database_free_bytes',
    help: 'Free pages of the SQLite database, in bytes: space deleted rows left for reuse',
    registers: [this.registry],
    collect: () => this.collectStorage(),
  });

  /** `jobwait_delivery_attempts_in_flight{endpoint_state}`: delivery attempts under way on this instance, by the state of their endpoint. */
  readonly deliveriesInFlight = new Gauge({
    name: 'jobwait_delivery_attempts_in_flight',
    help: 'Webhook and email attempts under way on this instance, by the state of their endpoint',
    labelNames: ['endpoint_state'] as const,
    registers: [this.registry],
    collect: () => this.collectDeliveries(),
  });
  /**
   * `jobwait_delivery_backlog{endpoint_state}`: deliveries due but waiting for their endpoint (at its
   * concurrency, backing off after failures, or being probed) or their tenant, as this instance handed them back.
   */
  readonly deliveryBacklog = new Gauge({
    name: 'jobwait_delivery_backlog',
    help: 'Deliveries this instance handed back to wait for their endpoint or tenant, by the state of their endpoint',
    labelNames: ['endpoint_state'] as const,
    registers: [this.registry],
    collect: () => this.collectDeliveries(),
  });
  /** `jobwait_delivery_endpoints{state}`: endpoints this instance sends to, by state. */
  readonly deliveryEndpoints = new Gauge({
    name: 'jobwait_delivery_endpoints',
    help: 'Delivery endpoints this instance sends to, by state (backing_off: failing, waiting before a probe)',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => this.collectDeliveries(),
  });

  /** `jobwait_held_connections{kind}`: long-polls and event streams held now, as counted against the held-connection limits. */
  readonly heldConnections = new Gauge({
    name: 'jobwait_held_connections',
    help: 'Long-polls and event streams held now, as counted against the held-connection limits',
    labelNames: ['kind'] as const,
    registers: [this.registry],
    collect: () => this.collectHeld(),
  });
  /** `jobwait_held_connections_limit{scope}`: the limits on holds, per key (per IP when open) and for the process. */
  readonly heldLimit = new Gauge({
    name: 'jobwait_held_connections_limit',
    help: 'Most long-polls and event streams held at once: per key (per IP when open), and in this process',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });
  /** `jobwait_hold_refusals_total{reason}`: holds refused, 429 at a key's cap (`key_cap`) or 503 at the process's ceiling (`server_ceiling`). */
  readonly holdRefusals = new Counter({
    name: 'jobwait_hold_refusals_total',
    help: 'Long-polls and event streams refused: 429 at a key (or IP) cap, 503 at the server ceiling',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** `jobwait_connection_errors_total{kind}`: `accept()` failures (`accept_error`) and connections closed at the connection limit (`dropped`). */
  readonly connectionErrors = new Counter({
    name: 'jobwait_connection_errors_total',
    help: 'accept() failures (EMFILE...) and connections closed at once at the connection limit',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  private readonly held = new WeakSet<object>();
  private heldSource: ((kind: 'long-poll' | 'sse') => number) | undefined;
  private deliverySource: (() => DeliveryGaugeSource) | undefined;
  private waiterSources: { longPoll: () => number; sse: () => number } | undefined;
  private storageSource: (() => StorageSize) | undefined;

  constructor() {
    // The series alerts use exist from the start, at 0: rate() and ratios work before the first event.
    for (const outcome of ['completed', 'error', 'canceled'] satisfies FinishOutcome[]) this.jobsFinished.inc({ outcome }, 0);
    for (const scope of ['key', 'ip']) this.rateLimited.inc({ scope }, 0);
    for (const kind of ['webhook', 'email']) {
      for (const result of ['delivered', 'retrying', 'failed', 'disabled'] satisfies DeliveryResult[]) this.deliveries.inc({ kind, result }, 0);
    }
    // Both transports from the start, at 0.
    const wakeDelay = 'jobwait_wake_delay_seconds';
    registerPlainMetric(this.registry, wakeDelay, 'Delay from a job reaching its final state (dueAt for a completion) to a held waiter being told', 'histogram', () =>
      histogramValues(wakeDelay, Object.values(this.wakeDelay), WAKE_BUCKETS),
    );
    for (const kind of ['job', 'delivery', 'idempotency_key'] satisfies PrunedKind[]) this.retentionDeleted.inc({ kind }, 0);
    for (const reason of ['key_cap', 'server_ceiling']) this.holdRefusals.inc({ reason }, 0);
    for (const kind of ['accept_error', 'dropped']) this.connectionErrors.inc({ kind }, 0);
  }

  /** Counts what one retention batch deleted. */
  pruned(counts: { jobs: number; deliveries: number; idempotencyKeys: number }): void {
    if (counts.jobs > 0) this.retentionDeleted.inc({ kind: 'job' }, counts.jobs);
    if (counts.deliveries > 0) this.retentionDeleted.inc({ kind: 'delivery' }, counts.deliveries);
    if (counts.idempotencyKeys > 0) this.retentionDeleted.inc({ kind: 'idempotency_key' }, counts.idempotencyKeys);
  }

  /** Where the database size gauges read their values at scrape time (absent: the engine keeps no file, the gauges stay empty). */
  countStorage(source: () => StorageSize): void {
    this.storageSource = source;
  }

  /** Reads the ingest sources' states and lags at each scrape. */
  countIngest(status: () => SourceStatus[]): void {
    this.ingestStatus = status;
  }

  /** Counts one acknowledged queue message. */
  ingested(source: string, result: IngestResult): void {
    const label = result.kind === 'ignored' ? `ignored_${result.why}` : result.kind === 'dead-letter' ? 'dead_lettered' : result.kind;
    this.ingestMessages.inc({ source, result: label });
    if (result.kind === 'dead-letter') this.ingestDeadLetters.inc({ source, reason: result.reason });
  }

  /** Where `jobwait_waiters` reads its values at scrape time. */
  countWaiters(sources: { longPoll: () => number; sse: () => number }): void {
    this.waiterSources = sources;
  }

  /** Where `jobwait_held_connections` reads its values at scrape time, and the limits it reports. */
  countHeld(source: (kind: 'long-poll' | 'sse') => number, limits: { perKey: number; server: number }): void {
    this.heldSource = source;
    this.heldLimit.set({ scope: 'key' }, limits.perKey);
    this.heldLimit.set({ scope: 'server' }, limits.server);
  }

  /** Where the delivery gauges read their values at scrape time. */
  countDeliveries(source: () => DeliveryGaugeSource): void {
    this.deliverySource = source;
  }

  holding(request: object): void {
    this.held.add(request);
  }

  /** True when {@link holding} was called for `request`. */
  isHeld(request: object): boolean {
    return this.held.has(request);
  }

  woke(transport: WakeTransport, delayMs: number): void {
    this.wakeDelay[transport].add(Math.max(0, delayMs) / 1000);
  }

  /** The Prometheus text exposition of this server and of the process. */
  async render(): Promise<{ contentType: string; body: string }> {
    const [own, process] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return { contentType: this.registry.contentType, body: `${own}\n${process}` };
  }

  private collectHeld(): void {
    for (const kind of ['long-poll', 'sse'] as const) this.heldConnections.set({ kind }, this.heldSource?.(kind) ?? 0);
  }

  private collectDeliveries(): void {
    const stats = this.deliverySource?.();
    for (const state of ['healthy', 'backing-off', 'probing'] as const) {
      const label = state.replace('-', '_') as EndpointStateLabel;
      this.deliveriesInFlight.set({ endpoint_state: label }, stats?.inFlight[state] ?? 0);
      this.deliveryBacklog.set({ endpoint_state: label }, stats?.waiting[state] ?? 0);
      this.deliveryEndpoints.set({ state: label }, stats?.endpoints[state] ?? 0);
    }
  }

  private collectStorage(): void {
    const size = this.storageSource?.();
    if (!size) return;
    this.databaseSize.set({ file: 'database' }, size.databaseBytes);
    this.databaseSize.set({ file: 'wal' }, size.walBytes);
    this.databaseFree.set(size.freeBytes);
  }

  private collectWaiters(): void {
    if (!this.waiterSources) return;
    this.waiters.set({ transport: 'long-poll' }, this.waiterSources.longPoll());
    this.waiters.set({ transport: 'sse' }, this.waiterSources.sse());
  }
}
