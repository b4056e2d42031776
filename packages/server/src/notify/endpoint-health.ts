/**
 * How each delivery endpoint is doing, as this instance sees it: a
 * circuit breaker per endpoint, so that a receiver that hangs, refuses or
 * fails is tried by one probe at a time after a growing pause, instead of by
 * every one of its deliveries in turn. Deliveries of other endpoints never
 * wait on it.
 *
 * `healthy` → (a failed attempt) → `backing-off` until a jittered pause has
 * passed → `probing` (one attempt in flight) → `healthy` on success, back to
 * `backing-off` (a longer pause) on failure.
 */

/** An endpoint's state. */
export type EndpointState = 'healthy' | 'backing-off' | 'probing';

/** Every {@link EndpointState}, for metrics. */
export const ENDPOINT_STATES: readonly EndpointState[] = ['healthy', 'backing-off', 'probing'];

/** Options of {@link EndpointHealth}. */
export interface EndpointHealthOptions {
  /**
   * Pause after an endpoint's first failure; each further failure in a row doubles it.
   * @default 1000
   */
  baseBackoffMs?: number;
  /**
   * Longest pause (also the longest `Retry-After` an endpoint can impose on its other deliveries).
   * @default 60000
   */
  maxBackoffMs?: number;
  /** Source of the jitter, for tests. */
  random?: () => number;
}

const DEFAULTS = { baseBackoffMs: 1000, maxBackoffMs: 60_000 } as const;
/** Weight of the newest attempt in an endpoint's mean attempt time. */
const EWMA_WEIGHT = 0.3;

interface Endpoint {
  failures: number;
  /** While backing off: when the probe may go. */
  retryAt: number;
  /** Mean attempt time, ms (exponentially weighted); undefined before the first attempt ends. */
  meanMs: number | undefined;
  lastSeen: number;
}

/**
 * Pause before probing an endpoint after `failures` failures in a row: the doubled base, capped,
 * with equal jitter (half fixed, half random) so endpoints that failed together are not probed together.
 * @example endpointBackoffMs(3, 1000, 60000, () => 0) // 2000
 */
export function endpointBackoffMs(failures: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(step / 2 + (step / 2) * Math.min(1, Math.max(0, random())));
}

/** The per-endpoint circuit breakers of one dispatcher. */
export class EndpointHealth {
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly random: () => number;
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(options: EndpointHealthOptions = {}) {
    this.baseBackoffMs = options.baseBackoffMs ?? DEFAULTS.baseBackoffMs;
    this.maxBackoffMs = options.maxBackoffMs ?? DEFAULTS.maxBackoffMs;
    this.random = options.random ?? Math.random;
  }

  /** The state of `endpoint` at `now` (an endpoint never seen is healthy). */
  state(endpoint: string, now: number): EndpointState {
    const e = this.endpoints.get(endpoint);
    if (!e || e.failures === 0) return 'healthy';
    return now < e.retryAt ? 'backing-off' : 'probing';
  }

  /** While backing off, when the probe may go; otherwise `undefined`. */
  retryAt(endpoint: string, now: number): number | undefined {
    const e = this.endpoints.get(endpoint);
    return e && e.failures > 0 && now < e.retryAt ? e.retryAt : undefined;
  }

  /** Mean time of an attempt at `endpoint`, ms, or `undefined` before one ended. */
  meanAttemptMs(endpoint: string): number | undefined {
    return this.endpoints.get(endpoint)?.meanMs;
  }

  /** Records an attempt that got its answer (2xx), taking `durationMs`: the endpoint is healthy. */
  succeeded(endpoint: string, durationMs: number, now: number): void {
    const e = this.entry(endpoint, now);
    e.failures = 0;
    e.retryAt = 0;
    this.observe(e, durationMs);
  }

  /**
   * Records a failed attempt (no answer in time, refused, an error status): the endpoint backs off.
   * `retryAfterMs`, the endpoint's own `Retry-After`, lengthens the pause up to the longest pause.
   */
  failed(endpoint: string, durationMs: number, now: number, retryAfterMs?: number): void {
    const e = this.entry(endpoint, now);
    e.failures += 1;
    let pause = endpointBackoffMs(e.failures, this.baseBackoffMs, this.maxBackoffMs, this.random);
    if (retryAfterMs !== undefined) pause = Math.max(pause, Math.min(this.maxBackoffMs, Math.max(0, retryAfterMs)));
    // Attempts that were in flight together fail together: the latest end decides, never an earlier one.
    e.retryAt = Math.max(e.retryAt, now + pause);
    this.observe(e, durationMs);
  }

  /** Forgets healthy endpoints not seen since `before`, so the map holds only endpoints in use. */
  prune(before: number, keep: (endpoint: string) => boolean): void {
    for (const [key, e] of this.endpoints) {
      if (e.lastSeen < before && e.failures === 0 && !keep(key)) this.endpoints.delete(key);
    }
  }

  /** Endpoints known, by state (for metrics). */
  countByState(now: number): Record<EndpointState, number> {
    const counts: Record<EndpointState, number> = { healthy: 0, 'backing-off': 0, probing: 0 };
    for (const key of this.endpoints.keys()) counts[this.state(key, now)] += 1;
    return counts;
  }

  private entry(endpoint: string, now: number): Endpoint {
    let e = this.endpoints.get(endpoint);
    if (!e) {
      e = { failures: 0, retryAt: 0, meanMs: undefined, lastSeen: now };
      this.endpoints.set(endpoint, e);
    }
    e.lastSeen = now;
    return e;
  }

  private observe(e: Endpoint, durationMs: number): void {
    const ms = Math.max(0, durationMs);
    e.meanMs = e.meanMs === undefined ? ms : e.meanMs + EWMA_WEIGHT * (ms - e.meanMs);
  }
}
