/**
 * The distribution of a pending job's remaining time, rebuilt from what a server sends: the
 * three quantiles of the length of jobs like it (`p50Ms`, `p90Ms`, `p99Ms`, from creation) and
 * the job's age. Durations of the same work are close to log-normal, so the quantiles are
 * joined as a log-normal whose spread may differ on each side of p90: `z(d)` is piecewise linear
 * in `ln d` through the three points, `P(D <= d) = Φ(z(d))` (below p50 the p50–p90 spread is
 * mirrored; past p99 the p90–p99 one goes on). The job still runs at its age, so the remaining
 * time R follows `P(R <= r) = (P(D <= age + r) - P(D <= age)) / P(D > age)`.
 */

/** Three quantiles of a duration in milliseconds: it is over with probability 50, 90 and 99%. */
export interface EndPrediction {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

/** Standard normal quantiles of 0.9 and 0.99. */
const Z90 = 1.2815515655446004;
const Z99 = 2.3263478740408408;
/** Least spread (in ln units per z) a side may have: three equal quantiles still describe a distribution. */
const MIN_SPREAD = 0.01;

/** True when `value` holds three finite, positive, ordered quantiles. */
export function isEndPrediction(value: unknown): value is EndPrediction {
  if (typeof value !== 'object' || value === null) return false;
  const { p50Ms, p90Ms, p99Ms } = value as Record<string, unknown>;
  return (
    typeof p50Ms === 'number' && typeof p90Ms === 'number' && typeof p99Ms === 'number' &&
    Number.isFinite(p99Ms) && p50Ms > 0 && p50Ms <= p90Ms && p90Ms <= p99Ms
  ); // prettier-ignore
}

/** Below this chance of still running at its age, a job is past all the history knows: no distribution. */
const MIN_SURVIVAL = 1e-6;

/** The remaining-time distribution of a job of age `ageMs` whose length has the quantiles `length`. */
export class EndDistribution {
  readonly #u50: number;
  readonly #u90: number;
  readonly #low: number;
  readonly #high: number;
  readonly #age: number;
  readonly #below: number;
  readonly #survival: number;

  constructor(length: EndPrediction, ageMs = 0) {
    this.#u50 = Math.log(length.p50Ms);
    this.#u90 = Math.log(length.p90Ms);
    this.#low = Math.max(MIN_SPREAD, (this.#u90 - this.#u50) / Z90);
    this.#high = Math.max(MIN_SPREAD, (Math.log(length.p99Ms) - this.#u90) / (Z99 - Z90));
    this.#age = Math.max(0, ageMs);
    this.#below = this.#lengthCdf(this.#age);
    this.#survival = 1 - this.#below;
  }

  /** False when the job is past (almost) every length the history holds: the distribution says nothing. */
  get usable(): boolean {
    return this.#survival >= MIN_SURVIVAL;
  }

  /** `P(R <= ms)`: the chance the job, still running now, has ended `ms` from now. */
  cdf(ms: number): number {
    if (!(ms > 0) || !this.usable) return 0;
    return Math.max(0, (this.#lengthCdf(this.#age + ms) - this.#below) / this.#survival);
  }

  /** The length (from creation, not the time left) below which a share `p` of jobs like this one end: the inverse of the fitted length distribution. */
  lengthQuantile(p: number): number {
    const z = normalQuantile(p);
    return Math.exp(z <= Z90 ? this.#u50 + z * this.#low : this.#u90 + (z - Z90) * this.#high);
  }

  #lengthCdf(ms: number): number {
    if (!(ms > 0)) return 0;
    const u = Math.log(ms);
    const z = u <= this.#u90 ? (u - this.#u50) / this.#low : Z90 + (u - this.#u90) / this.#high;
    return normalCdf(z);
  }

  /**
   * Expected lateness of a look `ms` after the answer: `E[(ms - R)+] = ∫₀^ms P(R <= r) dr`, how
   * long ago on average the job will have ended by then (0 for a job still running).
   */
  expectedLateness(ms: number): number {
    if (!(ms > 0)) return 0;
    // The midpoint rule on 64 steps: the integrand is a smooth, rising S-curve.
    const steps = 64;
    const h = ms / steps;
    let sum = 0;
    for (let i = 0; i < steps; i++) sum += this.cdf((i + 0.5) * h);
    return sum * h;
  }
}

/** The standard normal CDF (Abramowitz–Stegun 7.1.26 erf, error below 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** The standard normal quantile, the inverse of {@link normalCdf} (Acklam's rational approximation, relative error below 1.2e-9); ±Infinity at 0 and 1. */
export function normalQuantile(p: number): number {
  if (!(p > 0)) return -Infinity;
  if (!(p < 1)) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number): number =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}
