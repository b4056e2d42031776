/**
 * What the server has learnt about how long one kind of work takes (per tenant and `kind`), as
 * pure functions of a small JSON state the store keeps (docs/predicted-waits.md).
 *
 * The state is a histogram of ln(seconds per unit of size) in bins 5% wide, each finished job
 * adding weight 1 after every older weight decayed by `2^(-1/halfLifeSamples)`: recent jobs weigh
 * more, so a service that slows down 2x is re-learnt within a few half-lives, while the quantiles
 * stay those of the data (no shape is assumed). Bins are bounded by the range (1 ms to 30 years
 * per unit: at most 553) and near-empty ones are dropped, so a kind costs at most a few KiB
 * whatever its volume. A job created with `size` teaches and is predicted per unit of it
 * (duration = rate × size); one without counts as size 1.
 */

/** The stored state of one kind's model (a JSON value: engines keep it as text). */
export interface DurationModelState {
  /** Format of the state. */
  v: 1;
  /** Finished jobs the model has seen (not decayed). */
  n: number;
  /** Occupied bin numbers, ascending: bin k holds ln(seconds per unit) in [k·w, (k+1)·w). */
  k: number[];
  /** Decayed weight of each bin in {@link DurationModelState.k}. */
  w: number[];
}

/** How a model learns and predicts. */
export interface DurationModelOptions {
  /** Finished jobs after which a job's weight has halved. */
  halfLifeSamples: number;
  /** Below this many finished jobs a kind is cold: nothing is predicted. */
  minSamples: number;
  /** A pending job is overdue past its kind's p99 times this factor. */
  overdueFactor: number;
  /** Below this many finished jobs no job is called overdue (a p99 from a handful of jobs is a guess). */
  overdueMinSamples: number;
}

/** Defaults of {@link DurationModelOptions} (the server's `--predict-half-life`, `--predict-min-samples`, `--overdue-factor`, `--overdue-min-samples`). */
export const DURATION_MODEL_DEFAULTS: Readonly<DurationModelOptions> = Object.freeze({
  halfLifeSamples: 40,
  minSamples: 20,
  overdueFactor: 1.5,
  overdueMinSamples: 50,
});

// The bins below are fixed, not options: a stored state names its bins by number, so a different
// width or range would misread every model an engine already holds (and instances would disagree).
/** Width of a bin in ln units: 5%. */
const BIN_WIDTH = 0.05;
/** Bin range: 1 ms to ~30 years per unit of size. */
const MIN_BIN = Math.floor(Math.log(1e-3) / BIN_WIDTH);
const MAX_BIN = Math.floor(Math.log(1e9) / BIN_WIDTH);
/** A bin lighter than this share of the total is dropped. */
const PRUNE_SHARE = 1e-6;
/** Conditional quantiles are not given once less than this share of the weight lies beyond the job's age. */
const TAIL_SHARE = 1e-4;

/** A model that has seen nothing. */
export function emptyModel(): DurationModelState {
  return { v: 1, n: 0, k: [], w: [] };
}

/** True when `value` is a usable stored state (an engine read back what it wrote). */
export function isModelState(value: unknown): value is DurationModelState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Partial<DurationModelState>;
  return state.v === 1 && typeof state.n === 'number' && Array.isArray(state.k) && Array.isArray(state.w) && state.k.length === state.w.length;
}

/** The per-unit duration a finished job teaches: seconds over its size (1 without one). */
export function perUnitSeconds(durationMs: number, size: number | undefined): number {
  return durationMs / 1000 / (size !== undefined && size > 0 ? size : 1);
}

/** `state` after one more finished job taking `seconds` per unit (a new state; `state` is not changed). */
export function addSample(state: DurationModelState, seconds: number, options: Pick<DurationModelOptions, 'halfLifeSamples'>): DurationModelState {
  if (!(seconds > 0) || !Number.isFinite(seconds)) return state;
  const decay = 2 ** (-1 / options.halfLifeSamples);
  const bin = Math.min(MAX_BIN, Math.max(MIN_BIN, Math.floor(Math.log(seconds) / BIN_WIDTH)));
  const k: number[] = [];
  const w: number[] = [];
  let total = 1;
  for (let i = 0; i < state.k.length; i++) total += state.w[i]! * decay;
  let placed = false;
  for (let i = 0; i <= state.k.length; i++) {
    const current = state.k[i];
    if (!placed && (current === undefined || current >= bin)) {
      placed = true;
      if (current === bin) {
        k.push(bin);
        w.push(state.w[i]! * decay + 1);
        continue;
      }
      k.push(bin);
      w.push(1);
    }
    if (current === undefined) break;
    const weight = state.w[i]! * decay;
    if (weight >= PRUNE_SHARE * total) {
      k.push(current);
      w.push(weight);
    }
  }
  return { v: 1, n: state.n + 1, k, w };
}

/** Total weight of the model. */
function totalWeight(state: DurationModelState): number {
  let total = 0;
  for (const weight of state.w) total += weight;
  return total;
}

/** Weight below `seconds` per unit (bins are uniform in ln inside). */
function weightBelow(state: DurationModelState, seconds: number): number {
  if (!(seconds > 0)) return 0;
  const u = Math.log(seconds) / BIN_WIDTH;
  let below = 0;
  for (let i = 0; i < state.k.length; i++) {
    const bin = state.k[i]!;
    if (bin + 1 <= u) below += state.w[i]!;
    else if (bin <= u) below += state.w[i]! * (u - bin);
    else break;
  }
  return below;
}

/** The seconds per unit below which `target` of the weight lies. */
function atWeight(state: DurationModelState, target: number): number {
  let before = 0;
  for (let i = 0; i < state.k.length; i++) {
    const weight = state.w[i]!;
    if (before + weight >= target) {
      const share = weight > 0 ? (target - before) / weight : 0;
      return Math.exp((state.k[i]! + Math.min(1, Math.max(0, share))) * BIN_WIDTH);
    }
    before += weight;
  }
  return Math.exp((state.k.at(-1)! + 1) * BIN_WIDTH);
}

/** The `p` quantile (0..1) of the seconds per unit the model has learnt; undefined for an empty model. */
export function modelQuantile(state: DurationModelState, p: number): number | undefined {
  if (state.k.length === 0) return undefined;
  return atWeight(state, Math.min(1, Math.max(0, p)) * totalWeight(state));
}

/** The share of the learnt weight below `seconds` per unit (the model's CDF). */
export function modelCdf(state: DurationModelState, seconds: number): number {
  const total = totalWeight(state);
  return total > 0 ? weightBelow(state, seconds) / total : 0;
}

/** A pending job as the model sees it. */
export interface PredictionInput {
  /** Milliseconds since the job was created. */
  ageMs: number;
  /** Its size, if created with one. */
  size?: number | undefined;
}

/** What history says about a pending job's end. */
export type HistoryPrediction =
  | { cold: true; samples: number }
  | {
      cold: false;
      samples: number;
      /** Milliseconds until the job has ended with 50, 90 and 99% probability, given it is still pending (absent past everything seen). */
      remaining: { p50Ms: number; p90Ms: number; p99Ms: number } | undefined;
      /** Past its kind's p99 by the overdue factor. */
      overdue: boolean;
    };

/**
 * What `state` predicts for a job pending at `input.ageMs`: the quantiles of its remaining time
 * given it has not ended yet (so a prediction that passed moves on, and is never 0), and whether
 * it is overdue. A cold kind predicts nothing.
 */
export function predictEnd(state: DurationModelState, input: PredictionInput, options: DurationModelOptions): HistoryPrediction {
  if (state.n < options.minSamples || state.k.length === 0) return { cold: true, samples: state.n };
  const scale = input.size !== undefined && input.size > 0 ? input.size : 1;
  const ageMs = Math.max(0, input.ageMs);
  const ageUnits = ageMs / 1000 / scale;
  const total = totalWeight(state);
  const below = weightBelow(state, ageUnits);
  const overdue = state.n >= options.overdueMinSamples && ageUnits > options.overdueFactor * atWeight(state, 0.99 * total);
  const beyond = total - below;
  if (beyond <= TAIL_SHARE * total) return { cold: false, samples: state.n, remaining: undefined, overdue };
  const remainingAt = (p: number): number => Math.max(1, Math.round(atWeight(state, below + p * beyond) * scale * 1000 - ageMs));
  const p50Ms = remainingAt(0.5);
  const p90Ms = Math.max(p50Ms, remainingAt(0.9));
  const p99Ms = Math.max(p90Ms, remainingAt(0.99));
  return { cold: false, samples: state.n, remaining: { p50Ms, p90Ms, p99Ms }, overdue };
}
