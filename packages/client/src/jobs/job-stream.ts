/**
 * A job's server-sent event stream as an async iterator of job states. A
 * dropped or stalled stream reconnects with `Last-Event-ID`, so nothing is
 * missed; consecutive failures follow the transport retry policy.
 */
import { AbortError, BadResponseError, HttpError, NetworkError, StreamUnsupportedError, isJobwaitError, type ProblemBody } from '../errors/errors.js';
import type { Transport } from '../http/transport.js';
import { isHoldRefusal } from '../retry/retry-policy.js';
import { readServerSentEvents, SseParser } from '../sse/parser.js';
import type { Deadline } from '../wait/deadline.js';
import { sleep, throwIfAborted } from '../wait/sleep.js';
import { isJob, isTerminal, type Job } from './job.js';

/** Options of `JobwaitClient.watchJob`. */
export interface WatchJobOptions {
  signal?: AbortSignal | undefined;
  /** Resume after this event id (a job's `version`). */
  lastEventId?: string | undefined;
  /**
   * A stream silent for this long (no event, no heartbeat) is taken as dead and reopened.
   * @default 45000
   */
  idleTimeoutMs?: number | undefined;
}

/** Options of {@link streamJob}. */
export interface StreamJobOptions extends WatchJobOptions {
  /** Reconnects stop at this deadline. */
  deadline?: Deadline | undefined;
}

/** Default of {@link WatchJobOptions.idleTimeoutMs}: three missed 15 s heartbeats. */
export const STREAM_IDLE_TIMEOUT_MS = 45_000;

/** Yields every state of job `id` from its event stream until a final one. */
export async function* streamJob(transport: Transport, id: string, options: StreamJobOptions = {}): AsyncGenerator<Job, void, undefined> {
  const { signal, deadline } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? STREAM_IDLE_TIMEOUT_MS;
  const parser = new SseParser();
  parser.lastEventId = options.lastEventId;
  let failures = 0;
  let renewals = 0;
  for (;;) {
    throwIfAborted(signal);
    parser.reset();
    let failure: unknown;
    let reconnectMs: number | undefined;
    let tokenGeneration = -1;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (parser.lastEventId !== undefined) headers['last-event-id'] = parser.lastEventId;
    try {
      const opened = await transport.open({ method: 'GET', path: `/v1/jobs/${encodeURIComponent(id)}/events`, headers, signal });
      tokenGeneration = opened.tokenGeneration;
      const idle = new IdleWatch(idleTimeoutMs, opened.abort);
      try {
        const { response } = opened;
        if (!response.ok) throw await streamHttpError(response, transport.url(`/v1/jobs/${encodeURIComponent(id)}/events`));
        if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream') || !response.body) {
          throw new StreamUnsupportedError(response.status, transport.url(`/v1/jobs/${encodeURIComponent(id)}/events`));
        }
        opened.disarmTimeout();
        for await (const event of readServerSentEvents(idle.wrap(response.body), parser)) {
          if (event.retry !== undefined) reconnectMs = event.retry;
          if (event.event !== 'job') continue;
          const job = parseJob(event.data, transport.url(`/v1/jobs/${id}/events`));
          failures = 0;
          renewals = 0;
          yield job;
          if (isTerminal(job)) return;
        }
      } finally {
        idle.stop();
        opened.abort();
        opened.dispose();
      }
    } catch (error) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      if (error instanceof StreamUnsupportedError || error instanceof AbortError) throw error;
      failure = isJobwaitError(error) ? error : new NetworkError('GET', transport.url(`/v1/jobs/${encodeURIComponent(id)}/events`), error);
      // The read token expired (the server ends a stream at its token's end): resume at once with a fresh one, after the last event seen.
      if (await transport.renewToken(failure, renewals, tokenGeneration)) {
        renewals++;
        continue;
      }
    }
    // The stream ended (server restart, drain, proxy timeout) or broke: reopen where it stopped.
    const delayMs = failure === undefined ? (reconnectMs ?? 0) : transport.retryDelay(failure, failures, deadline);
    if (delayMs === undefined) throw failure;
    // A refused hold (the key holds as many streams as it may) is pacing, not a failure: it uses up no retries.
    if (failure !== undefined && !(failure instanceof HttpError && isHoldRefusal(failure))) failures++;
    await sleep(delayMs, signal);
  }
}

/** The error of a stream's non-2xx answer: `StreamUnsupportedError` when the server has no such stream (`notFoundCodes`: the 404s that are ours). */
export async function streamHttpError(response: Response, url: string, notFoundCodes: readonly string[] = ['JOBWAIT_ERR_JOB_NOT_FOUND']): Promise<Error> {
  let body: ProblemBody | undefined;
  try {
    body = (await response.json()) as ProblemBody;
  } catch {
    body = undefined;
  }
  const unsupported = [405, 406, 501].includes(response.status) || (response.status === 404 && !notFoundCodes.includes(body?.code ?? ''));
  if (unsupported) return new StreamUnsupportedError(response.status, url);
  return new HttpError(response.status, body, 'GET', url, response.headers.get('retry-after') ?? undefined);
}

/** A job event's data as a job, or `BadResponseError`. */
export function parseJob(data: string, url: string): Job {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (error) {
    throw new BadResponseError('GET', url, 'event data is not JSON', error);
  }
  if (!isJob(value)) throw new BadResponseError('GET', url, 'event data is not a job');
  return value;
}

/** Aborts a stream when no bytes arrive for `idleMs`: a stalled connection never errors by itself. */
export class IdleWatch {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly idleMs: number,
    private readonly abort: (reason: unknown) => void,
  ) {}

  /** Passes `body` through, re-arming the watch on every chunk. */
  wrap(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    this.arm();
    return body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, controller) => {
          this.arm();
          controller.enqueue(chunk);
        },
      }),
    );
  }

  /** Clears the timer; the stream is done with. */
  stop(): void {
    clearTimeout(this.timer);
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.abort(new BadResponseError('GET', 'event stream', `silent for ${this.idleMs} ms`)), this.idleMs);
  }
}
