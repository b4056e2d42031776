/**
 * `GET /v1/events` read with fetch streams rather than `EventSource`, which cannot send the
 * `Authorization` header a keyed server needs. Reconnects with `Last-Event-ID` after a drop,
 * after the server's `retry:` hint with backoff and jitter, and when the stream goes silent
 * for longer than the server's heartbeats allow.
 */
import type { Job } from '@jobwait/client';
import { isJob, SseParser, STREAM_IDLE_TIMEOUT_MS } from '@jobwait/client/internal';
import { apiUrl, authHeaders } from './api.js';

/** Where the stream is. */
export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

/** Options of {@link startJobEvents}. */
export interface JobEventsOptions {
  /** The API key to send, read at each (re)connection. */
  apiKey: () => string | undefined;
  /** Every job snapshot the stream delivers. */
  onJob: (job: Job, receivedAt: number) => void;
  /** Each time the stream is (re)established, before its first event: read the current state here. */
  onOpen: () => void;
  onState: (state: StreamState) => void;
  /**
   * Silence after which the connection is taken for dead (heartbeats come every 15 s by default).
   * @default 45000
   */
  idleTimeoutMs?: number;
}

/** A running stream. */
export interface JobEvents {
  /** Drops the connection and connects again at once (e.g. with a new API key). */
  restart(): void;
  stop(): void;
}

/** Reconnect delay when the server gave no `retry:`. */
const DEFAULT_RETRY_MS = 1000;
/** Longest pause between reconnection attempts. */
const MAX_RETRY_MS = 30_000;

/** Opens the stream of every change of this key's jobs. It stops by itself only on a 401. */
export function startJobEvents(options: JobEventsOptions): JobEvents {
  const idleTimeoutMs = options.idleTimeoutMs ?? STREAM_IDLE_TIMEOUT_MS;
  let generation = 0;
  let connection: AbortController | undefined;
  let wake: (() => void) | undefined;
  let lastEventId: string | undefined;
  let retryMs = DEFAULT_RETRY_MS;

  /** One connection; resolves when it ends, or with 'unauthorized'. */
  async function connect(signal: AbortSignal, onLive: () => void): Promise<'ended' | 'unauthorized'> {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders(options.apiKey()) };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const response = await fetch(apiUrl('v1/events'), { headers, signal, cache: 'no-store' });
    if (response.status === 401) {
      await response.body?.cancel().catch(() => {});
      return 'unauthorized';
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel().catch(() => {});
      throw new Error(`the event stream answered ${response.status}`);
    }
    onLive();
    const parser = new SseParser();
    parser.lastEventId = lastEventId;
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    const idle = new AbortController();
    let timer = setTimeout(() => idle.abort(), idleTimeoutMs);
    const cancelOnIdle = (): void => void reader.cancel().catch(() => {});
    idle.signal.addEventListener('abort', cancelOnIdle);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || idle.signal.aborted) return 'ended';
        clearTimeout(timer);
        timer = setTimeout(() => idle.abort(), idleTimeoutMs);
        const receivedAt = Date.now();
        for (const event of parser.push(decoder.decode(value, { stream: true }))) {
          if (event.retry !== undefined) retryMs = Math.min(event.retry, MAX_RETRY_MS);
          if (event.event !== 'job') continue;
          let job: unknown;
          try {
            job = JSON.parse(event.data);
          } catch {
            continue;
          }
          if (isJob(job)) options.onJob(job, receivedAt);
        }
        lastEventId = parser.lastEventId;
      }
    } finally {
      clearTimeout(timer);
      idle.signal.removeEventListener('abort', cancelOnIdle);
    }
  }

  async function run(current: number): Promise<void> {
    let failures = 0;
    options.onState('connecting');
    while (current === generation) {
      const controller = new AbortController();
      connection = controller;
      let outcome: 'ended' | 'unauthorized' | 'failed';
      try {
        outcome = await connect(controller.signal, () => {
          failures = 0;
          options.onState('live');
          options.onOpen();
        });
      } catch {
        outcome = 'failed';
      } finally {
        controller.abort();
      }
      if (current !== generation) return;
      if (outcome === 'unauthorized') {
        options.onState('unauthorized');
        return;
      }
      failures++;
      options.onState('reconnecting');
      await pause(reconnectDelay(retryMs, failures));
    }
  }

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  function stop(): void {
    generation++;
    connection?.abort();
    wake?.();
  }

  function restart(): void {
    stop();
    void run(generation);
  }

  void run(generation);
  return { restart, stop };
}

/**
 * Pause before reconnection attempt `failures` (1, 2, …): the server's hint, doubled per failure
 * in a row, capped, with jitter so many pages do not return at the same instant.
 */
export function reconnectDelay(retryMs: number, failures: number): number {
  const base = Math.min(MAX_RETRY_MS, retryMs * 2 ** Math.min(Math.max(failures - 1, 0), 10));
  return Math.round(base / 2 + Math.random() * (base / 2));
}
