/**
 * HTTP/1.1 at the byte level, for tests that must send what node:http refuses
 * to send (bad header bytes, broken framing, garbage methods) and read the
 * answers exactly as they came off the socket. One connection per exchange.
 */
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';

/** One answer read off the wire. */
export interface WireAnswer {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** True for an event stream cut short by the reader (streams stay open by design). */
  streamCut: boolean;
}

/** How an exchange ended. */
export interface WireResult {
  /** Every answer, 1xx interim answers included, in order. */
  answers: WireAnswer[];
  /** `answered`: at least one final answer; `closed`: the server closed without one; `silent`: nothing came before the deadline; `error`: a socket error. */
  end: 'answered' | 'closed' | 'silent' | 'error';
  error?: string;
  /** Milliseconds from the start to the connection and to the first byte of an answer, when known. */
  timing?: { connected?: number; firstByte?: number };
}

/** Options of {@link sendRaw} and {@link sendHttp}. */
export interface ExchangeOptions {
  /** The request is HEAD: answers carry no body. */
  head: boolean;
  /** Give up on a first answer after this long. */
  timeoutMs: number;
  /** How long to read an event stream before cutting it. */
  streamMs: number;
  /** Keep reading after the first final answer until the server closes (pipelined garbage gets its own answer). */
  expectMore?: boolean;
}

type Parsed = { answer: WireAnswer; next: number } | 'incomplete' | { garbage: string };

/** Parses one answer at `offset`; `closed` lets a close-delimited body end at the end of `buf`. */
function parseAnswer(buf: Buffer, offset: number, head: boolean, closed: boolean): Parsed {
  const headEnd = buf.indexOf('\r\n\r\n', offset, 'latin1');
  if (headEnd === -1) return closed && buf.length > offset ? { garbage: buf.toString('latin1', offset, offset + 200) } : 'incomplete';
  const lines = buf.toString('latin1', offset, headEnd).split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!statusLine) return { garbage: lines[0] ?? '' };
  const status = Number(statusLine[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return { garbage: line };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const start = headEnd + 4;
  if (head || (status >= 100 && status < 200) || status === 204 || status === 304) {
    return { answer: { status, headers, body: Buffer.alloc(0), streamCut: false }, next: start };
  }
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = [];
    let p = start;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', p, 'latin1');
      if (lineEnd === -1) return closed ? { garbage: 'truncated chunked body' } : 'incomplete';
      const size = Number.parseInt(buf.toString('latin1', p, lineEnd).split(';')[0] ?? '', 16);
      if (!Number.isFinite(size) || size < 0) return { garbage: 'bad chunk size' };
      if (size === 0) {
        // Trailers end with an empty line.
        const end = buf.indexOf('\r\n', lineEnd + 2, 'latin1');
        if (end === -1) return closed ? { garbage: 'truncated trailers' } : 'incomplete';
        if (end !== lineEnd + 2) {
          const trailersEnd = buf.indexOf('\r\n\r\n', lineEnd, 'latin1');
          if (trailersEnd === -1) return 'incomplete';
          return { answer: { status, headers, body: Buffer.concat(parts), streamCut: false }, next: trailersEnd + 4 };
        }
        return { answer: { status, headers, body: Buffer.concat(parts), streamCut: false }, next: end + 2 };
      }
      if (buf.length < lineEnd + 2 + size + 2) return closed ? { garbage: 'truncated chunk' } : 'incomplete';
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      p = lineEnd + 2 + size + 2;
    }
  }
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (!Number.isSafeInteger(length) || length < 0) return { garbage: `content-length ${headers['content-length']}` };
    if (buf.length < start + length) return closed ? { garbage: 'truncated body' } : 'incomplete';
    return { answer: { status, headers, body: buf.subarray(start, start + length), streamCut: false }, next: start + length };
  }
  if (!closed) return 'incomplete';
  return { answer: { status, headers, body: buf.subarray(start), streamCut: false }, next: buf.length };
}

/** Sends `bytes` on a new connection to 127.0.0.1:`port` and reads the answers. */
export function sendRaw(port: number, bytes: Buffer, options: ExchangeOptions): Promise<WireResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const timing: NonNullable<WireResult['timing']> = {};
    const socket = connect(port, '127.0.0.1', () => (timing.connected = Date.now() - started));
    let buf = Buffer.alloc(0);
    let done = false;
    let streamTimer: NodeJS.Timeout | undefined;
    const finish = (end: WireResult['end'], error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(streamTimer);
      socket.destroy();
      const answers = collect(true, end === 'closed' || end === 'error');
      const final = answers.some((a) => a.status >= 200 || a.status === -1);
      resolve({ answers, end: final ? 'answered' : end === 'answered' ? 'closed' : end, timing, ...(error !== undefined ? { error } : {}) });
    };
    /** The event-stream answer starting at `offset` as read so far (streams never end on their own). */
    const streamHead = (offset: number): WireAnswer | undefined => {
      const headEnd = buf.indexOf('\r\n\r\n', offset, 'latin1');
      const head = headEnd === -1 ? undefined : parseAnswer(buf.subarray(0, headEnd + 4), offset, true, false);
      if (!head || typeof head !== 'object' || !('answer' in head) || !/event-stream/.test(head.answer.headers['content-type'] ?? '')) return undefined;
      return { ...head.answer, body: buf.subarray(headEnd + 4) };
    };
    /** Answers parsed so far; `cut` ends an open event stream or close-delimited body where it stands. */
    const collect = (cut: boolean, closed: boolean): WireAnswer[] => {
      const answers: WireAnswer[] = [];
      let offset = 0;
      while (offset < buf.length) {
        const parsed = parseAnswer(buf, offset, options.head, closed);
        if (parsed === 'incomplete') {
          const stream = cut ? streamHead(offset) : undefined;
          if (stream) answers.push({ ...stream, streamCut: true });
          break;
        }
        if ('garbage' in parsed && cut && streamHead(offset)) {
          answers.push({ ...streamHead(offset)!, streamCut: true });
          break;
        }
        if ('garbage' in parsed) {
          answers.push({ status: -1, headers: { 'x-garbage': parsed.garbage }, body: buf.subarray(offset), streamCut: false });
          break;
        }
        answers.push(parsed.answer);
        offset = parsed.next;
      }
      return answers;
    };
    const timer = setTimeout(() => finish('silent'), options.timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      timing.firstByte ??= Date.now() - started;
      buf = Buffer.concat([buf, chunk]);
      // An event stream only needs reading until its timer fires; parsing it on every chunk would be quadratic.
      if (streamTimer !== undefined || buf.indexOf('\r\n\r\n', 0, 'latin1') === -1) return;
      const answers = collect(false, false);
      const finals = answers.filter((a) => a.status >= 200 || a.status === -1);
      if (finals.length > 0 && !options.expectMore) return finish('answered');
      // Pipelined garbage: give the server a moment to answer (or refuse) the second request too.
      if (finals.length > 0 && streamTimer === undefined) streamTimer = setTimeout(() => finish('answered'), 300);
      if (streamTimer === undefined && /event-stream/.test(buf.toString('latin1', 0, Math.min(buf.length, 4096)))) {
        streamTimer = setTimeout(() => finish('answered'), options.streamMs);
      }
    });
    socket.on('error', (error) => finish('error', error.message));
    socket.on('close', () => finish('closed'));
    socket.write(bytes);
  });
}

/** One request through node:http (keep-alive `agent`), read into the same shape as {@link sendRaw}. */
export function sendHttp(
  agent: Agent,
  port: number,
  request: { method: string; path: string; headers: string[]; body: Buffer | undefined; chunked: boolean },
  options: ExchangeOptions,
): Promise<WireResult> {
  return new Promise((resolve) => {
    const answers: WireAnswer[] = [];
    let done = false;
    const finish = (end: WireResult['end'], error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ answers, end: answers.some((a) => a.status >= 200) ? 'answered' : end, ...(error !== undefined ? { error } : {}) });
    };
    const req = httpRequest({ agent, host: '127.0.0.1', port, method: request.method, path: request.path, headers: request.headers });
    const timer = setTimeout(() => {
      finish('silent');
      req.destroy();
    }, options.timeoutMs);
    req.on('information', (info) => answers.push({ status: info.statusCode, headers: lower(info.headers), body: Buffer.alloc(0), streamCut: false }));
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      const headers = lower(res.headers);
      const answer = (streamCut: boolean): WireAnswer => ({ status: res.statusCode ?? -1, headers, body: Buffer.concat(parts), streamCut });
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => {
        answers.push(answer(false));
        finish('answered');
      });
      res.on('error', () => undefined);
      if (/event-stream/.test(headers['content-type'] ?? '')) {
        setTimeout(() => {
          if (done) return;
          answers.push(answer(true));
          finish('answered');
          req.destroy();
        }, options.streamMs);
      }
    });
    req.on('error', (error) => finish('error', error.message));
    if (request.chunked && request.body) {
      req.write(request.body);
      req.end();
    } else {
      req.end(request.body);
    }
  });
}

function lower(headers: Record<string, string | string[] | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  return out;
}
