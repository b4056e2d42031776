/**
 * Who may send now: the dispatcher's attempts in flight, counted in total,
 * per endpoint and per tenant, and the decision for each claimed delivery —
 * send it now, or hand it back to the store for later.
 *
 * A delivery whose endpoint is at its limit (or backing off, see
 * `endpoint-health.ts`), or whose tenant is, is not held in memory: it goes
 * back to the store with a later `nextAttemptAt`, paced on a per-endpoint
 * schedule (the endpoint's mean attempt time divided by its concurrency), so
 * each endpoint's backlog becomes a queue of its own that drains at that
 * endpoint's pace, and the next claim finds other endpoints' deliveries
 * first. No claim ever holds a slot it cannot use.
 */
import type { Delivery } from './delivery.js';
import { ENDPOINT_STATES, type EndpointHealth, type EndpointState } from './endpoint-health.js';

/** Limits on attempts in flight. */
export interface SlotLimits {
  /** In total. */
  total: number;
  /** Per endpoint (one tenant's URL, or email address). */
  perEndpoint: number;
  /** Per tenant (API key), over all its endpoints. */
  perTenant: number;
}

/** What to do with a claimed delivery. */
export type SlotDecision =
  | { send: true }
  | { send: false; until: number; reason: 'backing-off' | 'endpoint-busy' | 'tenant-busy' };

/** Deliveries in flight and waiting, by the state of their endpoint (for metrics). */
export interface SlotStats {
  inFlight: Record<EndpointState, number>;
  /** Handed back to the store by this instance to wait for their endpoint (or tenant), not yet claimed again. */
  waiting: Record<EndpointState, number>;
  endpoints: Record<EndpointState, number>;
}

/** Time of an attempt assumed for an endpoint before one has ended. */
const UNKNOWN_ATTEMPT_MS = 1000;
/** Shortest and longest wait given to a delivery handed back. */
const MIN_WAIT_MS = 20;
const MAX_WAIT_MS = 300_000;

/** The endpoint a delivery goes to: its channel, tenant and URL (or address). */
export function endpointOf(delivery: Pick<Delivery, 'kind' | 'tenant' | 'target'>): string {
  return `${delivery.kind}\n${delivery.tenant}\n${delivery.target}`;
}

interface Group {
  /** Starts of the attempts in flight. */
  starts: number[];
  /** The end of this group's virtual queue: the next delivery handed back waits at least until then. */
  horizon: number;
}

/** The attempts in flight of one dispatcher, and the pacing of what waits. */
export class DeliverySlots {
  private readonly endpoints = new Map<string, Group>();
  private readonly tenants = new Map<string, Group>();
  private readonly waiting = new Map<string, { endpoint: string; until: number }>();
  private total = 0;

  constructor(
    private readonly limits: SlotLimits,
    private readonly health: EndpointHealth,
  ) {}

  /** Attempts in flight. */
  get size(): number {
    return this.total;
  }

  /** Attempts that may start now before the total limit is reached. */
  free(): number {
    return Math.max(0, this.limits.total - this.total);
  }

  /**
   * Decides for a delivery just claimed at `now`: when it is sent, its slot is taken (give it back
   * with {@link done}); otherwise `until` is when it should be claimed again.
   */
  admit(delivery: Delivery, now: number): SlotDecision {
    const key = endpointOf(delivery);
    this.waiting.delete(delivery.id);
    const endpoint = group(this.endpoints, key);
    const tenant = group(this.tenants, delivery.tenant);
    const state = this.health.state(key, now);
    const endpointLimit = state === 'healthy' ? this.limits.perEndpoint : state === 'probing' ? 1 : 0;
    let decision: SlotDecision;
    if (this.total >= this.limits.total) {
      // The caller claims no more than is free; should it ever, the delivery waits its endpoint's turn.
      decision = { send: false, until: this.pace(endpoint, key, now, now), reason: 'endpoint-busy' };
    } else if (endpoint.starts.length >= endpointLimit) {
      const reason = state === 'healthy' ? 'endpoint-busy' : 'backing-off';
      decision = { send: false, until: this.pace(endpoint, key, now, this.health.retryAt(key, now) ?? now), reason };
    } else if (tenant.starts.length >= this.limits.perTenant) {
      decision = { send: false, until: this.pace(tenant, key, now, now, this.limits.perTenant), reason: 'tenant-busy' };
    } else {
      endpoint.starts.push(now);
      tenant.starts.push(now);
      this.total += 1;
      return { send: true };
    }
    this.waiting.set(delivery.id, { endpoint: key, until: decision.until });
    return decision;
  }

  /** Gives back the slot {@link admit} took for `delivery` at `startedAt`. */
  done(delivery: Delivery, startedAt: number): void {
    const key = endpointOf(delivery);
    if (release(this.endpoints, key, startedAt) && release(this.tenants, delivery.tenant, startedAt)) this.total -= 1;
  }

  /** True while `endpoint` has attempts in flight or deliveries waiting that this instance handed back. */
  inUse(endpoint: string): boolean {
    return this.endpoints.has(endpoint);
  }

  /** Forgets waiting deliveries whose time passed long ago (another instance may have taken them). */
  prune(now: number, graceMs: number): void {
    for (const [id, w] of this.waiting) if (w.until + graceMs < now) this.waiting.delete(id);
    for (const [key, g] of this.endpoints) if (g.starts.length === 0 && g.horizon + graceMs < now) this.endpoints.delete(key);
    for (const [key, g] of this.tenants) if (g.starts.length === 0 && g.horizon + graceMs < now) this.tenants.delete(key);
  }

  /** Deliveries in flight and waiting, and endpoints, by endpoint state. */
  stats(now: number): SlotStats {
    const zero = () => Object.fromEntries(ENDPOINT_STATES.map((s) => [s, 0])) as Record<EndpointState, number>;
    const inFlight = zero();
    const waiting = zero();
    for (const [key, g] of this.endpoints) inFlight[this.health.state(key, now)] += g.starts.length;
    for (const w of this.waiting.values()) waiting[this.health.state(w.endpoint, now)] += 1;
    return { inFlight, waiting, endpoints: this.health.countByState(now) };
  }

  /**
   * The next place in `g`'s virtual queue, not before `earliest`: one attempt time (measured for
   * the endpoint, or the age of its oldest attempt in flight when that is longer, as for one that
   * hangs) divided by the attempts it may run at once.
   */
  private pace(g: Group, endpoint: string, now: number, earliest: number, width = this.limits.perEndpoint): number {
    const oldest = this.endpoints.get(endpoint)?.starts[0];
    const attemptMs = Math.max(this.health.meanAttemptMs(endpoint) ?? UNKNOWN_ATTEMPT_MS, oldest === undefined ? 0 : now - oldest);
    const step = Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, attemptMs / Math.max(1, width)));
    g.horizon = Math.min(now + MAX_WAIT_MS, Math.max(g.horizon, earliest, now) + step);
    return g.horizon;
  }
}

function group(map: Map<string, Group>, key: string): Group {
  let g = map.get(key);
  if (!g) {
    g = { starts: [], horizon: 0 };
    map.set(key, g);
  }
  return g;
}

function release(map: Map<string, Group>, key: string, startedAt: number): boolean {
  const starts = map.get(key)?.starts;
  const at = starts?.indexOf(startedAt) ?? -1;
  if (!starts || at < 0) return false;
  starts.splice(at, 1);
  return true;
}
