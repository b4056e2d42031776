/**
 * The server's side of predicted waits: learns from every reported job a worker completes, and
 * attaches what it knows of a job's kind to the job for a read, so its view shows the expected
 * end and its `Retry-After` follows from it. Models are read from the engine at most once a
 * second per kind and instance: every instance of a cluster predicts alike within that second.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { JobRecord } from '../jobs/job-record.js';
import { isReported } from '../jobs/transition.js';
import type { DurationModelStore } from '../store/duration-model-store.js';
import { DURATION_MODEL_DEFAULTS, addSample, emptyModel, perUnitSeconds, type DurationModelOptions, type DurationModelState } from './duration-model.js';

/** How long a model read from the engine serves reads on this instance. */
const MODEL_TTL_MS = 1000;
/** Most kinds remembered per instance; past it the memory starts afresh (models stay in the engine). */
const MAX_CACHED_KINDS = 10_000;

interface Cached {
  at: number;
  model: DurationModelState | undefined;
}

/** Learns durations per tenant and kind, and attaches them to reads. */
export class Predictor {
  private readonly cache = new Map<string, Cached>();
  private readonly loading = new Map<string, Promise<DurationModelState | undefined>>();

  constructor(
    private readonly models: DurationModelStore,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number = Date.now,
    readonly options: DurationModelOptions = DURATION_MODEL_DEFAULTS,
  ) {}

  /**
   * `job` with its kind's model attached when it is a pending reported job of a kind (a new
   * object; the record itself is never changed), else `job` itself. A model that cannot be read
   * predicts nothing for this read rather than failing it.
   */
  async attach(job: JobRecord): Promise<JobRecord> {
    if (job.kind === undefined || job.state !== 'pending' || !isReported(job)) return job;
    let model: DurationModelState | undefined;
    try {
      model = await this.model(job.tenant, job.kind);
    } catch (error) {
      this.log.warn({ err: error, kind: job.kind }, 'reading a duration model failed; the job is shown without a prediction');
      return job;
    }
    return { ...job, history: { model, options: this.options } };
  }

  /**
   * {@link attach} without waiting, for event streams: the model this instance already holds (a
   * stale one starts a fresh read for the next event); `job` itself when it holds none yet.
   */
  attachCached(job: JobRecord): JobRecord {
    if (job.kind === undefined || job.state !== 'pending' || !isReported(job)) return job;
    const key = cacheKey(job.tenant, job.kind);
    const cached = this.cache.get(key);
    if (!cached || this.now() - cached.at >= MODEL_TTL_MS) {
      this.model(job.tenant, job.kind).catch((error: unknown) => this.log.debug({ err: error, kind: job.kind }, 'reading a duration model failed'));
    }
    return cached ? { ...job, history: { model: cached.model, options: this.options } } : job;
  }

  /** Teaches the model of `job`'s kind how long it took, when a worker completed it (not a failure, a stall or an expiry). */
  async learn(job: JobRecord): Promise<void> {
    if (job.kind === undefined || job.state !== 'completed' || !isReported(job)) return;
    const seconds = perUnitSeconds(job.updatedAt - job.createdAt, job.size);
    const kind = job.kind;
    try {
      const model = await this.models.update(job.tenant, kind, (state) => addSample(state ?? emptyModel(), seconds, this.options));
      this.remember(cacheKey(job.tenant, kind), model);
    } catch (error) {
      this.log.warn({ err: error, kind }, 'learning from a finished job failed; its duration is not counted');
    }
  }

  private async model(tenant: string, kind: string): Promise<DurationModelState | undefined> {
    const key = cacheKey(tenant, kind);
    const cached = this.cache.get(key);
    if (cached && this.now() - cached.at < MODEL_TTL_MS) return cached.model;
    // One read per kind at a time, however many reads wait on it.
    let load = this.loading.get(key);
    if (!load) {
      load = this.models.get(tenant, kind).finally(() => this.loading.delete(key));
      this.loading.set(key, load);
    }
    const model = await load;
    this.remember(key, model);
    return model;
  }

  private remember(key: string, model: DurationModelState | undefined): void {
    if (this.cache.size >= MAX_CACHED_KINDS && !this.cache.has(key)) this.cache.clear();
    this.cache.set(key, { at: this.now(), model });
  }
}

function cacheKey(tenant: string, kind: string): string {
  return `${tenant}\n${kind}`;
}
