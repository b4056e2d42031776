/**
 * A pending job's expected end as its view shows it (`expectedEnd`), and the `Retry-After` that
 * follows from it: the same rule the client waits by (docs/predicted-waits.md).
 */
import type { Static } from 'typebox';
import { nextPredictedDelay } from '@jobwait/client/internal';
import type { ExpectedEndSchema } from '../routes/schemas.js';
import { deadlineAt, effectiveJob, etaMsOf, isReported, type JobLifecycle } from '../jobs/transition.js';
import { modelQuantile, predictEnd, type DurationModelOptions, type DurationModelState } from './duration-model.js';

/** `expectedEnd` of a job view. */
export type ExpectedEnd = Static<typeof ExpectedEndSchema>;

/** What the server knows of a job's kind, attached to its record for one read (predict/predictor.ts). */
export interface AttachedHistory {
  /** The kind's model; undefined before a job of the kind finished. */
  model: DurationModelState | undefined;
  options: DurationModelOptions;
}

/** The members of a job its expected end depends on. */
export type PredictedJob = JobLifecycle & { kind?: string | undefined; size?: number | undefined };

/**
 * The expected end of `job` (as it stands at `now`) while pending: `timer` for a simulated job,
 * `worker` while its worker's ETA lies ahead, else `history` when it has a kind the server knows
 * of (`cold` while too few of the kind finished). Undefined once final, or with nothing to go on.
 */
export function expectedEndOf(stored: PredictedJob, now: number, history: AttachedHistory | undefined): ExpectedEnd | undefined {
  const job = effectiveJob(stored, now);
  if (job.state !== 'pending') return undefined;
  if (!isReported(job)) return { basis: 'timer' };
  if (etaMsOf(job, now) !== undefined) return { basis: 'worker' };
  if (job.kind === undefined || history === undefined) return undefined;
  if (history.model === undefined) return { basis: 'history', cold: true, samples: 0 };
  const ageMs = Math.max(0, now - job.createdAt);
  const prediction = predictEnd(history.model, { ageMs, size: job.size }, history.options);
  if (prediction.cold) return { basis: 'history', cold: true, samples: prediction.samples };
  const scale = (job.size ?? 1) * 1000;
  const at = (p: number): number => Math.max(1, Math.round(modelQuantile(history.model!, p)! * scale));
  const p50Ms = at(0.5);
  const p90Ms = Math.max(p50Ms, at(0.9));
  const end: ExpectedEnd = { basis: 'history', samples: prediction.samples };
  if (prediction.remaining) Object.assign(end, prediction.remaining);
  end.length = { p50Ms, p90Ms, p99Ms: Math.max(p90Ms, at(0.99)) };
  end.ageMs = Math.round(ageMs);
  if (prediction.overdue) end.overdue = true;
  return end;
}

/**
 * Seconds until a poller of pending `job` should look again when history predicts its end: the
 * client's own rule (`nextPredictedDelay`), in whole seconds rounded down, no later than the job's next
 * deadline. Undefined when history predicts nothing (the caller's own rule applies).
 */
export function predictedRetryAfterSeconds(stored: PredictedJob, now: number, history: AttachedHistory | undefined): number | undefined {
  const end = expectedEndOf(stored, now, history);
  if (end?.basis !== 'history' || end.length === undefined || end.ageMs === undefined || end.p50Ms === undefined) return undefined;
  const job = effectiveJob(stored, now);
  let delayMs = nextPredictedDelay({ waitedMs: end.ageMs, attempt: 0, prediction: { ageMs: end.ageMs, length: end.length } });
  const deadline = deadlineAt(job);
  if (deadline !== undefined) delayMs = Math.min(delayMs, deadline - now);
  // Rounded down: a look up to a second early keeps the rule's lateness bound, one rounded up could
  // break it by a second (the bound is never under 1 s, so the 1 s floor keeps it too).
  return Math.max(1, Math.floor(delayMs / 1000));
}
