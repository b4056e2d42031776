/**
 * The worker's side of a reported job: `POST /v1/jobs/{id}/reports` with the job's report
 * token (no API key needed). Reports go out one at a time, in order, each stamped with the time
 * it was made (`at`), so retries and reorderings never move the job backwards; progress is
 * coalesced (the latest wins), and heartbeats keep a running job from being declared stalled.
 */
import { HttpError, InvalidOptionError, JobCanceledError, type ProblemBody } from '../errors/errors.js';
import type { Transport } from '../http/transport.js';
import { isJob, type Job } from '../jobs/job.js';

/** Options of `client.reporter()`. */
export interface JobReporterOptions {
  /**
   * Milliseconds between automatic heartbeats while the job runs (after the first report, until
   * complete/fail/close). Any report counts as one, so heartbeats go out only when the worker is
   * otherwise silent.
   * @default 10000, or a third of the job's `heartbeatTimeoutSeconds` when that is shorter
   */
  heartbeatIntervalMs?: number | undefined;
  /**
   * Progress goes out at most this often; calls in between are merged into one report (the latest
   * value of each member wins), so a loop may report on every step without flooding anyone.
   * @default 250
   */
  progressIntervalMs?: number | undefined;
}

/** Defaults of {@link JobReporterOptions}, in one place. */
export const REPORTER_DEFAULTS = Object.freeze({
  heartbeatIntervalMs: 10_000,
  /** Share of the job's heartbeat timeout between two heartbeats: two may be lost before it stalls. */
  heartbeatShare: 1 / 3,
  progressIntervalMs: 250,
});

/** What a progress report may say besides the fraction. */
export interface ProgressDetails {
  /** Shown to people, at most 1000 characters; kept until a later report replaces it. */
  message?: string | undefined;
  /** Seconds until the worker expects to finish, > 0. Omit when unknown (never 0 for "unknown"). */
  etaSeconds?: number | undefined;
}

/** How the job failed, as `fail()` takes it. */
export type FailureInput = { code: string; message: string } | Error | string;

/** A report body as sent. */
interface ReportBody {
  event: 'started' | 'progress' | 'heartbeat' | 'completed' | 'failed';
  progress?: number;
  message?: string;
  etaSeconds?: number;
  result?: unknown;
  error?: { code: string; message: string };
  at: string;
}

/** Resolvers of the callers merged into one progress report. */
interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Reports on one job. Made by `JobwaitClient.reporter(id, token)`.
 * @example
 * const reporter = client.reporter(job.id, job.reportToken);
 * const done = await reporter.run(async (signal) => {
 *   for (let i = 1; i <= 4; i++) { await step(i, signal); void reporter.progress(i / 4, { message: `step ${i} of 4` }); }
 *   return { url: 'https://cdn.example/video.mp4' };
 * });
 */
export class JobReporter {
  /** The job reported on. */
  readonly jobId: string;
  readonly #transport: Transport;
  readonly #token: string;
  readonly #path: string;
  readonly #heartbeatIntervalMs: number | undefined;
  readonly #progressIntervalMs: number;
  /** Aborted when the server says to stop (canceled, or the job already ended). */
  readonly #stop = new AbortController();
  /** Aborted by {@link close}: ends a heartbeat or progress still in flight (or in its retries). */
  readonly #closed = new AbortController();
  /** Reports go out in order, one at a time. */
  #chain: Promise<unknown> = Promise.resolve();
  /** Progress not sent yet, merged, with the callers waiting on it. */
  #pending: { body: ReportBody; waiters: Waiter[] } | undefined;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #flushing = false;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  /** Heartbeats run between the first report and the end (or close). */
  #running = false;
  #ended = false;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #job: Job | undefined;
  #lastError: unknown;

  /** @internal Use `JobwaitClient.reporter()`. */
  constructor(transport: Transport, jobId: string, token: string, options: JobReporterOptions = {}) {
    if (typeof jobId !== 'string' || jobId === '') throw new InvalidOptionError('job id must be a non-empty string');
    if (typeof token !== 'string' || token === '') throw new InvalidOptionError('report token must be a non-empty string (the reportToken of the created job)');
    if (options.heartbeatIntervalMs !== undefined) positive('heartbeatIntervalMs', options.heartbeatIntervalMs);
    const progressIntervalMs = options.progressIntervalMs ?? REPORTER_DEFAULTS.progressIntervalMs;
    if (!(typeof progressIntervalMs === 'number' && progressIntervalMs >= 0 && Number.isFinite(progressIntervalMs))) {
      throw new InvalidOptionError(`progressIntervalMs must be a number >= 0, got ${String(progressIntervalMs)}`);
    }
    this.jobId = jobId;
    this.#transport = transport;
    this.#token = token;
    this.#path = `/v1/jobs/${encodeURIComponent(jobId)}/reports`;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs;
    this.#progressIntervalMs = progressIntervalMs;
  }

  /**
   * Aborts when the server says to stop: the job was canceled (reason: a {@link JobCanceledError}),
   * or it already ended otherwise, e.g. stalled (reason: the 409 `HttpError`). Pass it to the work.
   */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  /** The job as the server last answered a report, if any. */
  get job(): Job | undefined {
    return this.#job;
  }

  /** The last failure of a report nobody awaited (a heartbeat, a coalesced progress), if any. */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** Says the work started (optionally with a message and an ETA); starts the heartbeats. */
  started(details: ProgressDetails = {}): Promise<Job> {
    return this.#report({ event: 'started', ...checkDetails(details), at: now() });
  }

  /**
   * Reports the fraction done (0..1). Calls closer together than `progressIntervalMs` are merged,
   * the latest winning; the promise resolves once a report carrying this call's values (or later
   * ones) is accepted. Safe to leave unawaited: its failure is kept in {@link lastError}, not thrown
   * at the process, and a stop shows on {@link signal}.
   */
  progress(fraction: number, details: ProgressDetails = {}): Promise<void> {
    if (!(typeof fraction === 'number' && fraction >= 0 && fraction <= 1)) throw new InvalidOptionError(`progress must be a number from 0 to 1, got ${String(fraction)}`);
    const refusal = this.#refusal();
    if (refusal) return handled(Promise.reject(refusal));
    const body: ReportBody = { event: 'progress', progress: fraction, ...checkDetails(details), at: now() };
    const promise = new Promise<void>((resolve, reject) => {
      if (this.#pending) {
        this.#pending.body = { ...this.#pending.body, ...body };
        this.#pending.waiters.push({ resolve, reject });
      } else {
        this.#pending = { body, waiters: [{ resolve, reject }] };
      }
    });
    this.#scheduleFlush();
    return handled(promise);
  }

  /** Tells the server the worker is alive (sent automatically while the job runs). */
  heartbeat(): Promise<Job> {
    return this.#report({ event: 'heartbeat', at: now() });
  }

  /** Completes the job with `result` (any JSON value), optionally with a last message. Stops heartbeats; a repeat with the same result is safe. */
  complete(result?: unknown, details: Pick<ProgressDetails, 'message'> = {}): Promise<Job> {
    const { message } = checkDetails(details);
    this.#end();
    const body: ReportBody = { event: 'completed', at: now() };
    if (result !== undefined) body.result = result;
    if (message !== undefined) body.message = message;
    return this.#report(body, true);
  }

  /** Fails the job. An `Error` is sent by its `code` (if a string) and message. Stops heartbeats. */
  fail(failure: FailureInput = { code: 'JOB_FAILED', message: 'the worker failed' }): Promise<Job> {
    this.#end();
    return this.#report({ event: 'failed', error: errorOf(failure), at: now() }, true);
  }

  /**
   * Runs `task` as the job: reports `started`, heartbeats while it runs, then `completed` with what
   * it returns, or `failed` with what it throws (and rethrows it). When the job is canceled the
   * task's signal aborts, and `run` rejects with the {@link JobCanceledError} without reporting.
   * Resolves with the final job.
   */
  async run(task: (signal: AbortSignal) => Promise<unknown>): Promise<Job> {
    await this.started();
    let result: unknown;
    try {
      result = await task(this.signal);
    } catch (error) {
      if (this.signal.aborted) throw this.signal.reason;
      await this.fail(error instanceof Error || typeof error === 'string' ? error : String(error)).catch(() => {});
      throw error;
    }
    if (this.signal.aborted) throw this.signal.reason;
    return this.complete(result);
  }

  /** Stops heartbeats and drops unsent progress without reporting anything (e.g. on shutdown). */
  close(): void {
    this.#end();
    this.#closed.abort();
  }

  /** Queues one report; resolves with the job the server answered. */
  #report(body: ReportBody, final = false): Promise<Job> {
    const refusal = final ? undefined : this.#refusal();
    if (refusal) return handled(Promise.reject(refusal));
    if (!final && !this.#ended) this.#running = true;
    return handled(this.#enqueue(body));
  }

  /** Why a non-final report cannot be sent, if it cannot. */
  #refusal(): unknown {
    if (this.#stop.signal.aborted) return this.#stop.signal.reason;
    if (this.#ended) return new InvalidOptionError(`job ${this.jobId} was already completed or failed by this reporter`);
    return undefined;
  }

  #enqueue(body: ReportBody): Promise<Job> {
    const sent = this.#chain.then(() => this.#send(body));
    this.#chain = sent.catch(() => {});
    return sent;
  }

  async #send(body: ReportBody): Promise<Job> {
    if (this.#stop.signal.aborted && body.event !== 'completed' && body.event !== 'failed') throw this.#stop.signal.reason;
    this.#lastSentAt = Date.now();
    this.#armHeartbeat();
    try {
      const final = body.event === 'completed' || body.event === 'failed';
      const answer = await this.#transport.request<unknown>({
        method: 'POST',
        path: this.#path,
        body,
        headers: { authorization: `Bearer ${this.#token}` },
        signal: final ? undefined : this.#closed.signal,
      });
      if (!isJob(answer.body)) throw new HttpError(answer.status, { detail: 'the report answer is not a job' }, 'POST', this.#transport.url(this.#path));
      this.#job = answer.body;
      this.#armHeartbeat();
      return answer.body;
    } catch (error) {
      this.#lastError = error;
      throw this.#stopOn(error);
    }
  }

  /** A 409 means: stop. Aborts {@link signal} and turns a cancel into a {@link JobCanceledError}. */
  #stopOn(error: unknown): unknown {
    if (!(error instanceof HttpError) || error.status !== 409) return error;
    const problem: ProblemBody | undefined = error.body;
    const answered = problem?.job;
    const job = isJob(answered) ? answered : undefined;
    if (job) this.#job = job;
    const reason = error.serverCode === 'JOBWAIT_ERR_JOB_CANCELED' ? new JobCanceledError(this.jobId, job) : error;
    if (!this.#stop.signal.aborted) this.#stop.abort(reason);
    this.#end(reason);
    return reason;
  }

  #scheduleFlush(): void {
    if (this.#flushTimer !== undefined || this.#flushing || !this.#pending) return;
    const delay = Math.max(0, this.#lastSentAt + this.#progressIntervalMs - Date.now());
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.#flush();
    }, delay);
  }

  async #flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = undefined;
    if (!batch) return;
    this.#flushing = true;
    this.#running = !this.#ended;
    try {
      // Stamped now, not at the call: its values are still the latest, and heartbeats sent while it
      // waited are newer than the call; the server drops a report older than the last it applied.
      await this.#enqueue({ ...batch.body, at: now() });
      for (const waiter of batch.waiters) waiter.resolve();
    } catch (error) {
      for (const waiter of batch.waiters) waiter.reject(error);
    } finally {
      this.#flushing = false;
      this.#scheduleFlush();
    }
  }

  /** (Re)arms the heartbeat for one interval after the latest report. */
  #armHeartbeat(): void {
    clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    if (!this.#running || this.#ended || this.#stop.signal.aborted) return;
    this.#heartbeatTimer = setTimeout(() => {
      this.#heartbeatTimer = undefined;
      // A failure is kept in lastError (and a stop aborts the signal); it never escapes a timer.
      this.#enqueue({ event: 'heartbeat', at: now() }).catch(() => this.#armHeartbeat());
    }, this.#heartbeatEvery());
    // A forgotten reporter must not keep a process alive on its own.
    (this.#heartbeatTimer as { unref?: () => void }).unref?.();
  }

  #heartbeatEvery(): number {
    if (this.#heartbeatIntervalMs !== undefined) return this.#heartbeatIntervalMs;
    const timeoutSeconds = (this.#job as { heartbeatTimeoutSeconds?: unknown } | undefined)?.heartbeatTimeoutSeconds;
    const fromJob = typeof timeoutSeconds === 'number' && timeoutSeconds > 0 ? timeoutSeconds * 1000 * REPORTER_DEFAULTS.heartbeatShare : Infinity;
    return Math.min(REPORTER_DEFAULTS.heartbeatIntervalMs, fromJob);
  }

  /**
   * No more progress or heartbeats. Unsent progress is dropped: its callers resolve when the worker
   * ended the job (the end supersedes it), or reject with `stopped` when the server stopped it.
   */
  #end(stopped?: unknown): void {
    this.#ended = true;
    this.#running = false;
    clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const dropped = this.#pending;
    this.#pending = undefined;
    for (const waiter of dropped?.waiters ?? []) {
      if (stopped === undefined) waiter.resolve();
      else waiter.reject(stopped);
    }
  }
}

/** `promise`, marked as handled: a caller that does not await it gets no unhandled rejection. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

function now(): string {
  return new Date().toISOString();
}

function checkDetails(details: ProgressDetails): Partial<ReportBody> {
  if (typeof details !== 'object' || details === null) throw new InvalidOptionError('progress details must be an object');
  const out: Partial<ReportBody> = {};
  if (details.message !== undefined) {
    if (typeof details.message !== 'string') throw new InvalidOptionError('message must be a string');
    out.message = details.message;
  }
  if (details.etaSeconds !== undefined) {
    if (!(typeof details.etaSeconds === 'number' && details.etaSeconds > 0 && Number.isFinite(details.etaSeconds))) {
      throw new InvalidOptionError(`etaSeconds must be a number > 0 (omit it when unknown), got ${String(details.etaSeconds)}`);
    }
    out.etaSeconds = details.etaSeconds;
  }
  return out;
}

function errorOf(failure: FailureInput): { code: string; message: string } {
  if (typeof failure === 'string') return { code: 'JOB_FAILED', message: failure.slice(0, 1000) };
  if (failure instanceof Error) {
    const code = (failure as Error & { code?: unknown }).code;
    return { code: typeof code === 'string' && /^[\x21-\x7e]{1,100}$/.test(code) ? code : 'JOB_FAILED', message: failure.message.slice(0, 1000) };
  }
  return { code: failure.code, message: failure.message };
}

function positive(name: string, value: number): void {
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) throw new InvalidOptionError(`${name} must be a number > 0, got ${String(value)}`);
}
