/** A predicted end for people (the CLI, the dashboard): the likely range of the time left, as history predicts it. */
import type { ExpectedEnd } from './job.js';

/**
 * `2–3 min left` from the time left at 50% and 90% (`p50Ms`, `p90Ms`), in the unit of the
 * longer end: seconds below a minute, minutes below an hour, else hours; `about 2 min left`
 * when both round alike; `overdue` past the kind's p99 × the server's factor; undefined without
 * a prediction (no history basis, a cold kind, or a job past everything seen).
 * @example predictedRange({ basis: 'history', p50Ms: 100_000, p90Ms: 170_000, p99Ms: 240_000 }) // '2–3 min left'
 */
export function predictedRange(end: ExpectedEnd | undefined): string | undefined {
  if (end?.basis !== 'history') return undefined;
  if (end.overdue) return 'overdue';
  if (end.p50Ms === undefined || end.p90Ms === undefined) return undefined;
  const [unit, ms] = end.p90Ms < 60_000 ? (['s', 1000] as const) : end.p90Ms < 3_600_000 ? (['min', 60_000] as const) : (['h', 3_600_000] as const);
  const low = Math.max(unit === 's' ? 1 : 0, Math.round(end.p50Ms / ms));
  const high = Math.max(1, Math.ceil(end.p90Ms / ms));
  if (low >= high) return `about ${high} ${unit} left`;
  return low === 0 ? `under ${high} ${unit} left` : `${low}–${high} ${unit} left`;
}
