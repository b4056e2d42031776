/**
 * Server-sent event streams: one shared heartbeat timer for all of them, and
 * backpressure by coalescing. Every event is a full job snapshot, so while a
 * slow reader's socket is full only the latest snapshot per job is kept;
 * memory stays bounded however slow the reader.
 */
import type { ServerResponse } from 'node:http';

/** Most jobs with an unsent snapshot before a slow stream is cut (the client resumes with Last-Event-ID). */
const MAX_QUEUED = 10_000;

/** One server-sent event. */
export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** The text of `event` on the wire. */
function eventChunk(event: SseEvent): string {
  let chunk = '';
  if (event.id !== undefined) chunk += `id: ${event.id}\n`;
  if (event.event !== undefined) chunk += `event: ${event.event}\n`;
  return `${chunk}data: ${event.data.replaceAll('\n', '\ndata: ')}\n\n`;
}

/** Streams given their heartbeat per turn of the event loop. */
const HEARTBEAT_BATCH = 500;

/** One open event stream. */
export class SseStream {
  private blocked = false;
  /**
   * Latest unsent event per key while the socket is full. Made, like the `drain` listener, only
   * when a write blocks: most streams never block, and 20,000 idle ones each paid for an empty Map
   * and a listener (bench/server: memory per held stream).
   */
  private queued: Map<string, string> | undefined;
  private closed = false;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    private readonly raw: ServerResponse,
    private readonly hub: SseHub,
  ) {
    raw.on('close', () => this.finish());
  }

  /** True once the stream ended, from either side. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends an event; while the socket is full, keeps only the latest event per `key`. */
  send(key: string, event: SseEvent): void {
    if (this.closed) return;
    const chunk = eventChunk(event);
    if (this.blocked) {
      const queued = (this.queued ??= new Map());
      queued.delete(key);
      queued.set(key, chunk);
      if (queued.size > MAX_QUEUED) this.raw.destroy();
      return;
    }
    this.write(chunk);
  }

  /** Writes a comment line (heartbeats); skipped while the socket is full. */
  comment(text: string): void {
    if (!this.closed && !this.blocked) this.write(`: ${text}\n\n`);
  }

  /**
   * Sends the stream's last event and ends it, in one write: when 20,000 streams end together
   * that is 20,000 system calls fewer than `send()` then `close()` (bench/server). Even a
   * full socket takes it (Node buffers one chunk), so a slow reader still gets the final state;
   * snapshots still queued are older than it and are dropped.
   */
  end(event: SseEvent): void {
    if (this.closed) return;
    this.raw.end(eventChunk(event));
    this.finish();
  }

  /** Ends the stream, after telling the client when to reconnect if `retryMs` is given. */
  close(retryMs?: number): void {
    if (this.closed) return;
    if (retryMs !== undefined) this.raw.write(`retry: ${retryMs}\n\n`);
    this.raw.end();
    this.finish();
  }

  /** Runs `listener` once when the stream ends. */
  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  private write(chunk: string): void {
    if (this.raw.write(chunk) || this.blocked) return;
    this.blocked = true;
    this.raw.once('drain', () => this.flush());
  }

  private flush(): void {
    this.blocked = false;
    const queued = this.queued;
    if (!queued) return;
    for (const [key, chunk] of queued) {
      queued.delete(key);
      this.write(chunk);
      if (this.blocked) return;
    }
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.queued = undefined;
    this.hub.forget(this);
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

/** All open streams of the server. */
export class SseHub {
  private readonly streams = new Set<SseStream>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** True while a heartbeat round is still being written. */
  private beating = false;

  constructor(private readonly heartbeatMs: number) {}

  /** Starts an event stream on `raw`: writes the headers and the client's reconnect delay. */
  open(raw: ServerResponse, headers: Record<string, string>, retryMs: number): SseStream {
    raw.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and similar proxies would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    raw.socket?.setNoDelay(true);
    raw.write(`retry: ${retryMs}\n\n`);
    const stream = new SseStream(raw, this);
    // HEAD: Node drops every write, so the headers would never leave and the request would hang; send them and end.
    if (raw.req?.method === 'HEAD') {
      stream.close();
      return stream;
    }
    this.streams.add(stream);
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
      this.heartbeat.unref();
    }
    return stream;
  }

  /**
   * One heartbeat round, {@link HEARTBEAT_BATCH} streams per turn of the event loop: written in
   * one go, 20,000 streams held the loop for ~0.5 s every interval (bench/server).
   */
  private beat(): void {
    if (this.beating) return;
    this.beating = true;
    const round = [...this.streams];
    let next = 0;
    const step = (): void => {
      const end = Math.min(round.length, next + HEARTBEAT_BATCH);
      for (; next < end; next++) round[next]!.comment('heartbeat');
      if (next < round.length) setImmediate(step);
      else this.beating = false;
    };
    step();
  }

  /** Open streams. */
  get size(): number {
    return this.streams.size;
  }

  /** Closes every stream with a reconnect hint (shutdown). */
  closeAll(retryMs: number): void {
    for (const stream of [...this.streams]) stream.close(retryMs);
  }

  /** Called by a stream that ended. */
  forget(stream: SseStream): void {
    this.streams.delete(stream);
    if (this.streams.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }
}
