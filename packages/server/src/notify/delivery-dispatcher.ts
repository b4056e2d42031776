/**
 * Sends deliveries (webhooks and emails) in the background with one timer
 * for the whole server, never one per delivery: each tick claims what is due
 * from the store (atomically, so across a cluster every attempt is made
 * once), hands it to the channel's sender, records the attempt, and arms for
 * the earliest next attempt — or the poll interval, to see work enqueued or
 * released by other instances. Pending deliveries left by a stopped server
 * are picked up by the next start.
 *
 * Endpoints are isolated from each other: attempts in flight are limited per
 * endpoint and per tenant within the total, a failing endpoint backs off and
 * is probed by one attempt at a time, and a claimed delivery that may not go
 * now is handed back to wait its endpoint's turn (see `delivery-slots.ts`),
 * so a receiver that hangs delays only its own deliveries.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ClaimedDelivery, DeliveryAttempt, DeliveryKind, DeliveryStatus, DeliveryUpdate } from './delivery.js';
import { describeError, type DeliverySender, type SendOutcome } from './delivery-sender.js';
import { DeliverySlots, endpointOf, type SlotStats } from './delivery-slots.js';
import type { DeliveryStore } from './delivery-store.js';
import { EndpointHealth, type EndpointHealthOptions } from './endpoint-health.js';
import { MAX_RETRY_AFTER_MS, MAX_TIMER_DELAY_MS, nextAttemptDelay } from './retry-schedule.js';
import { OutageLog } from '../logging/outage-log.js';

/** Options of {@link DeliveryDispatcher}. */
export interface DeliveryDispatcherOptions {
  /** Upper bounds of the waits between attempts, per channel (see `retry-schedule.ts`). */
  retrySchedules: Record<DeliveryKind, readonly number[]>;
  /**
   * Attempts in flight at once, in total.
   * @default 64
   */
  concurrency?: number;
  /**
   * Attempts in flight at once to one endpoint (a tenant's webhook URL, or an email address).
   * @default 4
   */
  concurrencyPerEndpoint?: number;
  /**
   * Attempts in flight at once for one tenant (API key), over all its endpoints.
   * @default 16
   */
  concurrencyPerTenant?: number;
  /** Backoff of a failing endpoint (see `endpoint-health.ts`). */
  endpointBackoff?: Omit<EndpointHealthOptions, 'random'>;
  /**
   * Longest sleep between looks at the store, for deliveries other instances enqueued or released.
   * @default 1000
   */
  pollIntervalMs?: number;
  /**
   * How long a claimed delivery stays invisible to other instances; must outlast any attempt.
   * After a crash, its deliveries come due again when the lease ends.
   * @default 120000
   */
  leaseMs?: number;
  /**
   * Longest `Retry-After` honoured.
   * @default 3600000
   */
  maxRetryAfterMs?: number;
  /** Source of the jitter, for tests. */
  random?: () => number;
  now?: () => number;
  /** Told of every attempt made, with the delivery's status after it (`pending`: will be retried), for metrics. */
  onAttempt?: ((kind: DeliveryKind, status: DeliveryStatus) => void) | undefined;
}

const DEFAULTS = { concurrency: 64, concurrencyPerEndpoint: 4, concurrencyPerTenant: 16, pollIntervalMs: 1000, leaseMs: 120_000 } as const;
/** Endpoints idle this long are forgotten (healthy ones only: a failing endpoint keeps its backoff). */
const FORGET_IDLE_MS = 600_000;
/** After a store error, the next look is this much later. */
const ERROR_BACKOFF_MS = 1000;

/** The background loop that sends deliveries. */
export class DeliveryDispatcher {
  private readonly slots: DeliverySlots;
  private readonly health: EndpointHealth;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly inFlight = new Set<Promise<void>>();
  private abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private armedAt: number | undefined;
  private ticking: Promise<void> | undefined;
  private kicked = false;
  private stopped = true;
  private readonly outage: OutageLog;

  constructor(
    private readonly store: DeliveryStore,
    private readonly senders: Partial<Record<DeliveryKind, DeliverySender>>,
    private readonly log: FastifyBaseLogger,
    private readonly options: DeliveryDispatcherOptions,
  ) {
    this.health = new EndpointHealth({ ...options.endpointBackoff, ...(options.random ? { random: options.random } : {}) });
    const total = positive(options.concurrency, DEFAULTS.concurrency);
    const perTenant = Math.min(total, positive(options.concurrencyPerTenant, DEFAULTS.concurrencyPerTenant));
    this.slots = new DeliverySlots({ total, perTenant, perEndpoint: Math.min(perTenant, positive(options.concurrencyPerEndpoint, DEFAULTS.concurrencyPerEndpoint)) }, this.health);
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULTS.pollIntervalMs;
    this.leaseMs = options.leaseMs ?? DEFAULTS.leaseMs;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? MAX_RETRY_AFTER_MS;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.outage = new OutageLog(log);
  }

  /** Starts the loop; deliveries already due (e.g. left by a previous run) go out at once. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.abort = new AbortController();
    this.kick();
  }

  /** Something was enqueued: look at the store now instead of at the next timer. */
  kick(): void {
    if (!this.stopped) this.arm(this.now());
  }

  /** Attempts in flight. */
  busy(): number {
    return this.inFlight.size;
  }

  /** Attempts in flight, deliveries waiting for their endpoint, and endpoints, by endpoint state (for metrics). */
  stats(): SlotStats {
    return this.slots.stats(this.now());
  }

  /**
   * Stops claiming, lets attempts in flight finish for up to `drainMs`, then aborts the rest (an
   * aborted webhook is released to be sent by the next start or another instance).
   */
  async stop(drainMs = 5000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = undefined;
    await this.ticking;
    if (this.inFlight.size > 0) await settledWithin([...this.inFlight], drainMs);
    if (this.inFlight.size > 0) {
      this.abort.abort();
      await settledWithin([...this.inFlight], 1000);
    }
    for (const sender of Object.values(this.senders)) await sender?.close?.();
  }

  private arm(at: number): void {
    if (this.stopped || (this.armedAt !== undefined && this.armedAt <= at)) return;
    clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(() => this.startTick(), Math.min(MAX_TIMER_DELAY_MS, Math.max(0, at - this.now())));
    // The server's listening socket keeps the process alive; this timer should not on its own.
    this.timer.unref();
  }

  /** Runs one tick unless one is running, in which case that one looks again when it ends. */
  private startTick(): void {
    this.timer = undefined;
    this.armedAt = undefined;
    if (this.ticking) {
      this.kicked = true;
      return;
    }
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
      // A kick that came while this tick was busy must not wait for the next timer.
      if (this.kicked) {
        this.kicked = false;
        this.arm(this.now());
      }
    });
  }

  private async tick(): Promise<void> {
    try {
      let more = true;
      while (more && !this.stopped) {
        this.kicked = false;
        const free = this.slots.free();
        if (free <= 0) break;
        const now = this.now();
        const claimed = await this.store.claimDue(now, this.leaseMs, free);
        const handedBack: Promise<unknown>[] = [];
        for (const delivery of claimed) {
          const decision = this.slots.admit(delivery, now);
          if (decision.send) this.launch(delivery, now);
          // Not held here: back in the store, it waits its endpoint's turn, visible to every instance.
          else handedBack.push(this.store.complete(delivery.id, delivery.claimToken, { status: 'pending', nextAttemptAt: decision.until }, now));
        }
        await Promise.all(handedBack);
        more = claimed.length === free;
      }
      this.outage.succeeded('delivery store works again');
      const now = this.now();
      this.slots.prune(now, FORGET_IDLE_MS);
      this.health.prune(now - FORGET_IDLE_MS, (endpoint) => this.slots.inUse(endpoint));
      // With every slot busy, a finishing attempt looks again; otherwise sleep until the next is due.
      if (!this.stopped && this.slots.free() > 0) {
        const next = await this.store.nextDueAt();
        this.arm(Math.min(this.now() + this.pollIntervalMs, next ?? Number.POSITIVE_INFINITY));
      }
    } catch (error) {
      this.outage.failed(error, `delivery store failed; looking again every ${ERROR_BACKOFF_MS} ms`);
      this.arm(this.now() + ERROR_BACKOFF_MS);
    }
  }

  private launch(delivery: ClaimedDelivery, admittedAt: number): void {
    const task = this.attempt(delivery)
      .catch((error: unknown) => this.log.error({ err: error, deliveryId: delivery.id }, 'recording a delivery attempt failed'))
      .finally(() => {
        this.slots.done(delivery, admittedAt);
        this.inFlight.delete(task);
        this.kick();
      });
    this.inFlight.add(task);
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const { id, claimToken, kind, tenant, target } = delivery;
    if (this.stopped) {
      // Claimed while stopping: hand it back untouched.
      await this.store.complete(id, claimToken, { status: 'pending', nextAttemptAt: this.now() }, this.now());
      return;
    }
    if (kind === 'webhook' && (await this.store.isEndpointDisabled(tenant, target))) {
      await this.store.complete(id, claimToken, { status: 'disabled', note: 'not sent: the endpoint answered 410 Gone to an earlier delivery and is disabled' }, this.now());
      this.log.info({ deliveryId: id }, 'delivery skipped: endpoint disabled');
      return;
    }
    const sender = this.senders[kind];
    const started = this.now();
    let outcome: SendOutcome;
    if (!sender) {
      outcome = { ok: false, error: `${kind} is not configured on this server` };
    } else {
      try {
        outcome = await sender.send(delivery, this.abort.signal);
      } catch (error) {
        outcome = { ok: false, error: describeError(error) };
      }
    }
    const now = this.now();
    if (outcome.aborted) {
      await this.store.complete(id, claimToken, { status: 'pending', nextAttemptAt: now }, now);
      return;
    }
    const attempt: DeliveryAttempt = { at: started, durationMs: Math.max(0, now - started) };
    this.judgeEndpoint(delivery, outcome, attempt.durationMs, now);
    if (outcome.statusCode !== undefined) attempt.statusCode = outcome.statusCode;
    if (!outcome.ok && outcome.error !== undefined) attempt.error = outcome.error;
    const update = this.decide(delivery, outcome, attempt, now);
    this.options.onAttempt?.(kind, update.status);
    if (update.status === 'disabled') await this.store.disableEndpoint(tenant, target, now, 'answered 410 Gone');
    const recorded = await this.store.complete(id, claimToken, update, now);
    const context = { deliveryId: id, jobId: delivery.jobId, kind, status: update.status, attempt: delivery.attempts.length + 1, statusCode: attempt.statusCode, error: attempt.error };
    if (!recorded) this.log.warn(context, 'delivery lease ran out before the attempt was recorded; another instance may retry it');
    else if (update.status === 'delivered') this.log.debug(context, 'delivery sent');
    else this.log.info({ ...context, nextAttemptAt: update.nextAttemptAt }, `delivery attempt failed${update.status === 'pending' ? '; will retry' : ''}`);
  }

  /** A 2xx makes the endpoint healthy; a failure that another try could fix makes it back off. */
  private judgeEndpoint(delivery: ClaimedDelivery, outcome: SendOutcome, durationMs: number, now: number): void {
    const endpoint = endpointOf(delivery);
    if (outcome.ok) this.health.succeeded(endpoint, durationMs, now);
    else if (!outcome.permanent && !outcome.gone) this.health.failed(endpoint, durationMs, now, outcome.retryAfterMs);
  }

  /** The delivery's next state after `outcome`. */
  private decide(delivery: ClaimedDelivery, outcome: SendOutcome, attempt: DeliveryAttempt, now: number): DeliveryUpdate {
    if (outcome.ok) return { status: 'delivered', attempt };
    if (outcome.gone && delivery.kind === 'webhook') return { status: 'disabled', attempt, note: 'the endpoint answered 410 Gone: it is disabled and gets no more deliveries' };
    const attempts = delivery.attempts.length + 1;
    if (outcome.permanent) return { status: 'failed', attempt, note: 'refused for good: not retried' };
    const delay = nextAttemptDelay({
      schedule: this.options.retrySchedules[delivery.kind],
      failedAttempts: attempts,
      retryAfterMs: outcome.retryAfterMs,
      maxRetryAfterMs: this.maxRetryAfterMs,
      random: this.random,
    });
    if (delay === undefined) return { status: 'failed', attempt, note: `gave up after ${attempts} attempts` };
    return { status: 'pending', attempt, nextAttemptAt: now + delay };
  }
}

function positive(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`delivery concurrency must be a whole number >= 1, got ${String(value)}`);
  return value;
}

/** Waits for `tasks`, at most `ms`. */
async function settledWithin(tasks: Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(tasks), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
