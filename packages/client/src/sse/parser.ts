/**
 * A server-sent events parser over a fetch body stream, per the WHATWG
 * "event stream interpretation" rules, so `watchJob` works in Node and
 * browsers without `EventSource` (which cannot send headers).
 */

/** One dispatched event. */
export interface ServerSentEvent {
  /** `event:` field, `message` when absent. */
  event: string;
  /** `data:` lines joined by `\n`. */
  data: string;
  /** Last `id:` seen on the stream (it persists across events, as the spec says). */
  id: string | undefined;
  /** `retry:` in milliseconds, when this event carried one. */
  retry: number | undefined;
}

/** Incremental parser: feed it text chunks, get complete events back. */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private eventType = '';
  private retry: number | undefined;
  private sawCr = false;
  // An `id:` takes effect only when its event is dispatched (WHATWG "last event ID buffer"),
  // so a stream cut mid-event never resumes past an event it did not deliver.
  private idBuffer: string | undefined;
  private idPending = false;
  /** The stream's last event id, to resume with `Last-Event-ID`. */
  lastEventId: string | undefined;

  /** Forgets a half-received event (the connection dropped); keeps `lastEventId` for the resume. */
  reset(): void {
    this.buffer = '';
    this.data = [];
    this.eventType = '';
    this.retry = undefined;
    this.sawCr = false;
    this.idBuffer = this.lastEventId;
    this.idPending = false;
  }

  /** Parses `chunk` and returns the events it completed. */
  push(chunk: string): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    // An empty chunk must not forget a CR that ended the previous one.
    if (chunk === '') return events;
    let text = chunk;
    // A CRLF may be split across chunks: drop the LF that follows a CR we already ended a line on.
    if (this.sawCr && text.startsWith('\n')) text = text.slice(1);
    this.sawCr = false;
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (ch === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.sawCr = true;
        }
      }
      start = i + 1;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  private line(line: string): ServerSentEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.idBuffer = value;
          this.idPending = true;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }

  private dispatch(): ServerSentEvent | undefined {
    if (this.idPending) {
      this.lastEventId = this.idBuffer;
      this.idPending = false;
    }
    const retry = this.retry;
    this.retry = undefined;
    if (this.data.length === 0) {
      this.eventType = '';
      return retry === undefined ? undefined : { event: '', data: '', id: this.lastEventId, retry };
    }
    const event: ServerSentEvent = { event: this.eventType || 'message', data: this.data.join('\n'), id: this.lastEventId, retry };
    this.data = [];
    this.eventType = '';
    return event;
  }
}

/** Reads `body` to its end, yielding each event; stops when `signal` aborts. */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>, parser: SseParser = new SseParser()): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    yield* parser.push(decoder.decode());
  } finally {
    reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
