/**
 * Waiting on many jobs at once: one event stream for a set — a watch of given ids, a
 * tag or a batch — yielding each job as it ends. Against a server without set streams (an older
 * jobwait, the seed's), given ids fall back to one `waitForJob` each, a few at a time.
 */
import { AbortError, HttpError, InvalidOptionError, StreamUnsupportedError, TimeoutError, isJobwaitError, NetworkError } from '../errors/errors.js';
import type { Transport } from '../http/transport.js';
import { isHoldRefusal } from '../retry/retry-policy.js';
import { readServerSentEvents, SseParser } from '../sse/parser.js';
import { Deadline } from '../wait/deadline.js';
import { sleep } from '../wait/sleep.js';
import { isTerminal, type Job, type SetCounts } from './job.js';
import { IdleWatch, parseJob, STREAM_IDLE_TIMEOUT_MS, streamHttpError } from './job-stream.js';
import { waitForJob } from './wait-for-job.js';

/** Which jobs to wait on: their ids, or every job of a tag or a batch. */
export type JobSet = readonly string[] | { tag: string } | { batch: string };

/** Most ids one watch takes (the server's limit per request). */
export const MAX_IDS_PER_WATCH = 1000;

/** Options of `JobwaitClient.waitForJobs`. */
export interface WaitForJobsOptions {
  /** Stops the wait at once (the jobs keep running on the server). */
  signal?: AbortSignal | undefined;
  /**
   * Deadline of the whole wait: past it the iterator throws `TimeoutError` (its `lastValue`: the jobs that ended by then).
   * @default Infinity
   */
  timeoutMs?: number | undefined;
  /**
   * Fallback only (a server without set streams): how many single-job waits run at once.
   * @default 8
   */
  concurrency?: number | undefined;
  /**
   * A stream silent for this long (no event, no heartbeat) is taken as dead and reopened.
   * @default 45000
   */
  idleTimeoutMs?: number | undefined;
  /**
   * Called with the set's counts by status when its stream opens (its `total`: how many jobs will
   * end), and once more when all have ended. On the fallback, `total` is the number of ids given.
   */
  onCounts?: ((counts: SetCounts) => void) | undefined;
}

/** A wait on many jobs: iterate it for each job as it ends, or await `all()` for all of them. */
export interface JobsWait extends AsyncIterable<Job> {
  /** Every job of the set once all have ended, in the order they ended. */
  all(): Promise<Job[]>;
}

/** Codes of a 404 that is an answer of ours (the set is not there), not a missing route. */
const SET_NOT_FOUND = ['JOBWAIT_ERR_WATCH_NOT_FOUND', 'JOBWAIT_ERR_BATCH_NOT_FOUND'];

/** Default of {@link WaitForJobsOptions.concurrency}. */
const FALLBACK_CONCURRENCY = 8;

/** A wait on `set` (see {@link JobsWait}); nothing is sent until it is iterated. */
export function waitForJobs(transport: Transport, set: JobSet, options: WaitForJobsOptions = {}): JobsWait {
  const selector = normalizeSet(set);
  const concurrency = options.concurrency ?? FALLBACK_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InvalidOptionError('concurrency must be an integer >= 1');
  let started = false;
  const iterate = (): AsyncGenerator<Job, void, undefined> => {
    if (started) throw new InvalidOptionError('a waitForJobs() result can be iterated once');
    started = true;
    return followSet(transport, selector, options, concurrency);
  };
  return {
    [Symbol.asyncIterator]: iterate,
    async all() {
      const out: Job[] = [];
      for await (const job of { [Symbol.asyncIterator]: iterate }) out.push(job);
      return out;
    },
  };
}

type Selector = { ids: string[] } | { tag: string } | { batch: string };

function normalizeSet(set: JobSet): Selector {
  if (Array.isArray(set)) {
    const ids = [...new Set(set as readonly unknown[])];
    if (!ids.every((id): id is string => typeof id === 'string' && id !== '')) throw new InvalidOptionError('job ids must be non-empty strings');
    return { ids };
  }
  const group = set as { tag?: unknown; batch?: unknown };
  if (typeof group.tag === 'string' && group.tag !== '' && group.batch === undefined) return { tag: group.tag };
  if (typeof group.batch === 'string' && group.batch !== '' && group.tag === undefined) return { batch: group.batch };
  throw new InvalidOptionError('waitForJobs takes an array of job ids, {tag} or {batch}');
}

/** Each job of the set as it ends, over set streams; per-job waits when the server has none. */
async function* followSet(transport: Transport, selector: Selector, options: WaitForJobsOptions, concurrency: number): AsyncGenerator<Job, void, undefined> {
  const deadline = new Deadline(options.timeoutMs);
  // One signal for the caller's abort and the deadline: every request and sleep stops on it.
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const timer = Number.isFinite(deadline.remaining()) ? setTimeout(() => controller.abort(TIMED_OUT), Math.min(2 ** 31 - 1, deadline.remaining())) : undefined;
  const ended: Job[] = [];
  try {
    const streams: string[] = [];
    if ('ids' in selector) {
      if (selector.ids.length === 0) return;
      try {
        for (let i = 0; i < selector.ids.length; i += MAX_IDS_PER_WATCH) {
          const answer = await transport.request<{ events?: unknown }>({
            method: 'POST',
            path: '/v1/watches',
            body: { ids: selector.ids.slice(i, i + MAX_IDS_PER_WATCH) },
            signal: controller.signal,
            deadline,
          });
          if (typeof answer.body?.events !== 'string') throw new StreamUnsupportedError(answer.status, transport.url('/v1/watches'));
          streams.push(answer.body.events);
        }
      } catch (error) {
        if (!isMissingRoute(error)) throw error;
        options.onCounts?.({ total: selector.ids.length, pending: selector.ids.length, completed: 0, error: 0, canceled: 0, progress: 0 });
        for await (const job of fallback(transport, selector.ids, controller.signal, concurrency)) {
          ended.push(job);
          yield job;
        }
        return;
      }
    } else {
      streams.push('tag' in selector ? `/v1/tags/${encodeURIComponent(selector.tag)}/events` : `/v1/batches/${encodeURIComponent(selector.batch)}/events`);
    }
    const seen = new Set<string>();
    // Several watches (more than 1,000 ids): their counts add up.
    const countsBy = new Map<string, SetCounts>();
    const onCounts = (path: string, counts: SetCounts): void => {
      countsBy.set(path, counts);
      if (countsBy.size === streams.length) options.onCounts?.(sumCounts([...countsBy.values()]));
    };
    const sources = streams.map((path) => streamSet(transport, path, controller.signal, deadline, options.idleTimeoutMs ?? STREAM_IDLE_TIMEOUT_MS, (counts) => onCounts(path, counts)));
    for await (const job of merge(sources)) {
      if (seen.has(job.id)) continue;
      seen.add(job.id);
      ended.push(job);
      yield job;
    }
  } catch (error) {
    if (controller.signal.reason === TIMED_OUT) throw new TimeoutError(deadline.timeoutMs, ended, error);
    if (options.signal?.aborted) throw new AbortError(options.signal.reason);
    throw error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    controller.abort(TIMED_OUT_DONE);
  }
}

/** Reasons of the internal abort: the deadline passed, or the wait is over (its requests end). */
const TIMED_OUT = Symbol('jobwait: deadline');
const TIMED_OUT_DONE = Symbol('jobwait: done');

/** True when `error` says the server has no such route (not: no such set). */
function isMissingRoute(error: unknown): boolean {
  if (error instanceof StreamUnsupportedError) return true;
  if (!(error instanceof HttpError)) return false;
  return [405, 501].includes(error.status) || (error.status === 404 && !SET_NOT_FOUND.includes(error.serverCode ?? ''));
}

/** The ended jobs of one set stream, reconnecting with `Last-Event-ID` until its `end` event. */
async function* streamSet(
  transport: Transport,
  path: string,
  signal: AbortSignal,
  deadline: Deadline,
  idleTimeoutMs: number,
  onCounts: (counts: SetCounts) => void,
): AsyncGenerator<Job, void, undefined> {
  const parser = new SseParser();
  let failures = 0;
  let renewals = 0;
  for (;;) {
    if (signal.aborted) throw new AbortError(signal.reason);
    parser.reset();
    let failure: unknown;
    let reconnectMs: number | undefined;
    let tokenGeneration = -1;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (parser.lastEventId !== undefined) headers['last-event-id'] = parser.lastEventId;
    try {
      const opened = await transport.open({ method: 'GET', path, headers, signal });
      tokenGeneration = opened.tokenGeneration;
      const idle = new IdleWatch(idleTimeoutMs, opened.abort);
      try {
        const { response } = opened;
        // The client has every end already (a resume after the last one).
        if (response.status === 204) return;
        if (!response.ok) throw await streamHttpError(response, transport.url(path), SET_NOT_FOUND);
        if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream') || !response.body) throw new StreamUnsupportedError(response.status, transport.url(path));
        opened.disarmTimeout();
        for await (const event of readServerSentEvents(idle.wrap(response.body), parser)) {
          if (event.retry !== undefined) reconnectMs = event.retry;
          failures = 0;
          renewals = 0;
          if (event.event === 'counts' || event.event === 'end') {
            const counts = parseCounts(event.data);
            if (counts) onCounts(counts);
            if (event.event === 'end') return;
            continue;
          }
          if (event.event !== 'job') continue;
          const job = parseJob(event.data, transport.url(path));
          if (isTerminal(job)) yield job;
        }
      } finally {
        idle.stop();
        opened.abort();
        opened.dispose();
      }
    } catch (error) {
      if (signal.aborted) throw new AbortError(signal.reason);
      if (error instanceof StreamUnsupportedError || error instanceof AbortError) throw error;
      failure = isJobwaitError(error) ? error : new NetworkError('GET', transport.url(path), error);
      if (await transport.renewToken(failure, renewals, tokenGeneration)) {
        renewals++;
        continue;
      }
    }
    // The stream ended without its `end` (server restart, drain, proxy timeout) or broke: resume after the last event.
    const delayMs = failure === undefined ? (reconnectMs ?? 0) : transport.retryDelay(failure, failures, deadline);
    if (delayMs === undefined) throw failure;
    if (failure !== undefined && !(failure instanceof HttpError && isHoldRefusal(failure))) failures++;
    await sleep(delayMs, signal);
  }
}

/** A `counts`/`end` event's data, or undefined when it is not counts (they only inform: never fatal). */
function parseCounts(data: string): SetCounts | undefined {
  try {
    const value = JSON.parse(data) as Partial<SetCounts>;
    return typeof value.total === 'number' && typeof value.pending === 'number' ? (value as SetCounts) : undefined;
  } catch {
    return undefined;
  }
}

/** Counts of several sets as one. */
function sumCounts(all: readonly SetCounts[]): SetCounts {
  const sum: SetCounts = { total: 0, pending: 0, completed: 0, error: 0, canceled: 0, progress: 1 };
  for (const counts of all) for (const key of ['total', 'pending', 'completed', 'error', 'canceled'] as const) sum[key] += counts[key];
  sum.progress = sum.total === 0 ? 1 : Math.round(((sum.total - sum.pending) / sum.total) * 1000) / 1000;
  return sum;
}

/** Per-job waits (`waitForJob`, which picks long-poll, stream or polling), `concurrency` at a time, yielded as they end. */
async function* fallback(transport: Transport, ids: readonly string[], signal: AbortSignal, concurrency: number): AsyncGenerator<Job, void, undefined> {
  let next = 0;
  const worker = async function* (): AsyncGenerator<Job, void, undefined> {
    while (next < ids.length) {
      const id = ids[next++]!;
      yield await waitForJob(transport, id, { signal });
    }
  };
  yield* merge(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
}

/** Values of every source as they come; the first failure ends all of them. */
async function* merge<T>(sources: AsyncGenerator<T, void, undefined>[]): AsyncGenerator<T, void, undefined> {
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<T, void> }>>();
  const pull = (index: number): void => {
    pending.set(
      index,
      sources[index]!.next().then((result) => ({ index, result })),
    );
  };
  sources.forEach((_, index) => pull(index));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(index);
        continue;
      }
      pull(index);
      yield result.value;
    }
  } finally {
    // Not awaited: a source's return() waits for its pending next(), which ends when the caller's
    // signal aborts its request (right after this, in followSet).
    for (const promise of pending.values()) promise.catch(() => {});
    for (const source of sources) source.return(undefined).catch(() => {});
  }
}
