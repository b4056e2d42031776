/** `JobwaitClient`: the jobs API (`/v1`) with waits that use the best the server offers. */
import { createTransport, type ClientOptions } from '../client-options.js';
import { BadResponseError, InvalidOptionError } from '../errors/errors.js';
import type { Transport } from '../http/transport.js';
import { JobReporter, type JobReporterOptions } from '../report/job-reporter.js';
import { isJob, type Batch, type CreatedBatch, type CreatedJob, type CreateJobInput, type Job, type JobPage, type JobStatus } from './job.js';
import { streamJob, type WatchJobOptions } from './job-stream.js';
import { waitForJob, type WaitForJobOptions } from './wait-for-job.js';
import { waitForJobs, type JobSet, type JobsWait, type WaitForJobsOptions } from './wait-for-jobs.js';

/** Per-call options of the simple calls. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** Options of {@link JobwaitClient.createJob}. */
export interface CreateJobOptions extends CallOptions {
  /**
   * Sent as `Idempotency-Key` and reused on every retry, so a retried create never makes a twin.
   * @default a fresh random UUID per call
   */
  idempotencyKey?: string | undefined;
}

/** Options of {@link JobwaitClient.createJobs}. */
export interface CreateJobsOptions extends CreateJobOptions {
  /** Tags every job of the batch gets (with its own). */
  tags?: string[] | undefined;
}

/** Most jobs one {@link JobwaitClient.createJobs} call creates (the server's limit per batch). */
export const MAX_BATCH_JOBS = 1000;

/** Options of {@link JobwaitClient.listJobs}. */
export interface ListJobsOptions extends CallOptions {
  status?: JobStatus | undefined;
  /**
   * Page size, 1..100.
   * @default 20 (the server's default)
   */
  limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  cursor?: string | undefined;
  /** Only jobs with this tag. */
  tag?: string | undefined;
  /** Only jobs of this batch. */
  batch?: string | undefined;
}

/**
 * Client of the jobwait jobs API.
 * @example
 * const client = new JobwaitClient({ baseUrl: 'http://127.0.0.1:8080' });
 * const job = await client.createJob({ duration: 5 });
 * const done = await client.waitForJob(job.id, { timeoutMs: 60_000 });
 */
export class JobwaitClient {
  readonly #transport: Transport;

  constructor(options: ClientOptions) {
    this.#transport = createTransport(options);
  }

  /** Starts a job. Retries are safe: the same `Idempotency-Key` is sent each time. */
  async createJob(input: CreateJobInput, options: CreateJobOptions = {}): Promise<CreatedJob> {
    if (typeof input !== 'object' || input === null) throw new InvalidOptionError('createJob needs an object with a duration');
    const idempotencyKey = options.idempotencyKey ?? randomKey();
    const answer = await this.#transport.request<unknown>({
      method: 'POST',
      path: '/v1/jobs',
      body: input,
      headers: { 'idempotency-key': idempotencyKey },
      signal: options.signal,
    });
    return expectJob(answer.body, 'POST /v1/jobs') as CreatedJob;
  }

  /**
   * Starts up to 1,000 jobs in one request, all or none (an invalid job fails the whole batch with
   * an `HttpError` whose body lists each invalid job by index). Retries are safe: one
   * `Idempotency-Key` covers the batch.
   * @example const { batch, jobs } = await client.createJobs(videos.map(() => ({ duration: 30 })), { tags: ['catalogue'] });
   */
  async createJobs(inputs: readonly CreateJobInput[], options: CreateJobsOptions = {}): Promise<CreatedBatch> {
    if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > MAX_BATCH_JOBS) {
      throw new InvalidOptionError(`createJobs needs an array of 1 to ${MAX_BATCH_JOBS} jobs`);
    }
    const answer = await this.#transport.request<CreatedBatch>({
      method: 'POST',
      path: '/v1/batches',
      body: options.tags === undefined ? { jobs: inputs } : { jobs: inputs, tags: options.tags },
      headers: { 'idempotency-key': options.idempotencyKey ?? randomKey() },
      signal: options.signal,
    });
    const body = answer.body;
    if (!body || typeof body.batch?.id !== 'string' || !Array.isArray(body.jobs) || !body.jobs.every(isJob)) {
      throw new BadResponseError('POST', '/v1/batches', 'body is not a batch');
    }
    return body;
  }

  /** A batch with its counts. */
  async getBatch(id: string, options: CallOptions = {}): Promise<Batch> {
    if (typeof id !== 'string' || id === '') throw new InvalidOptionError('batch id must be a non-empty string');
    const path = `/v1/batches/${encodeURIComponent(id)}`;
    const answer = await this.#transport.request<Batch>({ method: 'GET', path, signal: options.signal });
    if (typeof answer.body?.id !== 'string' || typeof answer.body.counts !== 'object') throw new BadResponseError('GET', path, 'body is not a batch');
    return answer.body;
  }

  /**
   * Waits on many jobs — given ids, every job of a tag, or of a batch — over one event stream, and
   * yields each job as it ends; `all()` resolves with all of them. Against a server without set
   * streams, given ids fall back to one `waitForJob` each, `concurrency` at a time.
   * @example for await (const job of client.waitForJobs({ batch: batch.id })) console.log(job.id, job.status);
   * @example const jobs = await client.waitForJobs(ids, { timeoutMs: 600_000 }).all();
   */
  waitForJobs(set: JobSet, options: WaitForJobsOptions = {}): JobsWait {
    return waitForJobs(this.#transport, set, options);
  }

  /** Reads a job once. */
  async getJob(id: string, options: CallOptions = {}): Promise<Job> {
    const answer = await this.#transport.request<unknown>({ method: 'GET', path: jobPath(id), signal: options.signal });
    return expectJob(answer.body, `GET ${jobPath(id)}`);
  }

  /** One page of this key's jobs, newest first. */
  async listJobs(options: ListJobsOptions = {}): Promise<JobPage> {
    const answer = await this.#transport.request<JobPage>({
      method: 'GET',
      path: '/v1/jobs',
      query: { status: options.status, limit: options.limit, cursor: options.cursor, tag: options.tag, batch: options.batch },
      signal: options.signal,
    });
    if (!answer.body || !Array.isArray(answer.body.jobs)) throw new BadResponseError('GET', '/v1/jobs', 'body has no jobs array');
    return answer.body;
  }

  /** Cancels a pending job and returns it; a job already canceled is returned as it is. */
  async cancelJob(id: string, options: CallOptions = {}): Promise<Job> {
    const answer = await this.#transport.request<unknown>({ method: 'DELETE', path: jobPath(id), signal: options.signal });
    return expectJob(answer.body, `DELETE ${jobPath(id)}`);
  }

  /**
   * Resolves with the job once it is final (`completed`, `error` or `canceled`); rejects only with a
   * typed error (`TimeoutError`, `AbortError`, `HttpError`…). Aborting never cancels the job.
   */
  waitForJob(id: string, options: WaitForJobOptions = {}): Promise<Job> {
    return waitForJob(this.#transport, id, options);
  }

  /**
   * Every state of a job from its event stream, ending after the final one; reconnects with
   * `Last-Event-ID` when the stream drops.
   * @example for await (const job of client.watchJob(id)) console.log(job.status, job.progress);
   */
  watchJob(id: string, options: WatchJobOptions = {}): AsyncGenerator<Job, void, undefined> {
    if (typeof id !== 'string' || id === '') throw new InvalidOptionError('job id must be a non-empty string');
    return streamJob(this.#transport, id, options);
  }

  /**
   * A reporter for the worker of job `id`, holding the job's `reportToken` (from its create):
   * progress, automatic heartbeats, complete, fail. Reports carry the token, not the API key.
   * @example const reporter = client.reporter(job.id, job.reportToken);
   */
  reporter(id: string, reportToken: string, options: JobReporterOptions = {}): JobReporter {
    return new JobReporter(this.#transport, id, reportToken, options);
  }
}

function jobPath(id: string): string {
  if (typeof id !== 'string' || id === '') throw new InvalidOptionError('job id must be a non-empty string');
  return `/v1/jobs/${encodeURIComponent(id)}`;
}

function expectJob(body: unknown, what: string): Job {
  if (!isJob(body)) throw new BadResponseError(what.split(' ')[0] ?? 'GET', what, 'body is not a job');
  return body;
}

function randomKey(): string {
  const { crypto } = globalThis;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
