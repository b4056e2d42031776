/**
 * A fault-injecting HTTP proxy for tests: sits between client and server and,
 * per request, either forwards it faithfully or breaks it in one of the ways
 * real networks and proxies do — a reset before or after the server saw the
 * request, a stall, a 503 (with or without Retry-After), a 429, a truncated
 * body, a slowly dripped body, or garbage where JSON should be.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Every fault the proxy can inject. */
export type Fault =
  | 'reset-before' // connection dropped before the request reaches the server
  | 'reset-after' // the server handled the request, the answer is lost
  | 'stall' // the connection stays open and silent
  | '503' // service unavailable, no Retry-After
  | '503-retry-after' // service unavailable, Retry-After: 0
  | '429' // rate limited, Retry-After: 0
  | 'truncate' // headers and half the body, then the connection dies
  | 'drip' // the real answer, a few bytes at a time
  | 'garbage'; // 200 with a body that is not JSON

/** All faults, for random choice. */
export const ALL_FAULTS: readonly Fault[] = ['reset-before', 'reset-after', 'stall', '503', '503-retry-after', '429', 'truncate', 'drip', 'garbage'];

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Share of requests that get a fault. */
  rate: number;
  /** Faults to draw from. */
  faults?: readonly Fault[];
  /** Seeded random source, for repeatable runs. */
  random?: () => number;
  /** Requests that never get a fault (e.g. to keep a test's own bookkeeping clean). */
  spare?: (req: IncomingMessage) => boolean;
}

/** A running proxy and what it did. */
export interface FaultProxy {
  url: string;
  /** Requests received, and faults injected by kind. */
  stats: { requests: number; forwarded: number; faults: Record<string, number> };
  close(): Promise<void>;
}

/** A small seeded generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Starts the proxy on 127.0.0.1 port 0 in front of `target`. */
export async function startFaultProxy(target: string, options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(target);
  const random = options.random ?? Math.random;
  const faults = options.faults ?? ALL_FAULTS;
  const stats = { requests: 0, forwarded: 0, faults: {} as Record<string, number> };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, mode: 'plain' | 'reset-after' | 'truncate' | 'drip'): void => {
    stats.forwarded++;
    const headers = { ...req.headers, host: upstream.host };
    const outgoing = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (incoming) => {
      if (mode === 'reset-after') {
        incoming.resume();
        incoming.on('end', () => req.socket.destroy());
        return;
      }
      const isStream = (incoming.headers['content-type'] ?? '').startsWith('text/event-stream');
      if (mode === 'plain' || isStream) {
        res.writeHead(incoming.statusCode ?? 502, incoming.headers);
        incoming.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      incoming.on('data', (c: Buffer) => chunks.push(c));
      incoming.on('end', () => {
        const full = Buffer.concat(chunks);
        res.writeHead(incoming.statusCode ?? 502, incoming.headers);
        if (mode === 'truncate') {
          res.write(full.subarray(0, Math.floor(full.length / 2)), () => req.socket.destroy());
          return;
        }
        let offset = 0;
        const drip = (): void => {
          if (res.destroyed) return;
          if (offset >= full.length) return void res.end();
          res.write(full.subarray(offset, offset + 16));
          offset += 16;
          const t = setTimeout(() => {
            timers.delete(t);
            drip();
          }, 5);
          timers.add(t);
        };
        drip();
      });
    });
    outgoing.on('error', () => req.socket.destroy());
    res.on('close', () => outgoing.destroy());
    outgoing.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      stats.requests++;
      const body = Buffer.concat(chunks);
      const spared = options.spare?.(req) ?? false;
      const fault = !spared && random() < options.rate ? faults[Math.floor(random() * faults.length)]! : undefined;
      if (fault) stats.faults[fault] = (stats.faults[fault] ?? 0) + 1;
      switch (fault) {
        case undefined:
          return forward(req, res, body, 'plain');
        case 'reset-before':
          return void req.socket.destroy();
        case 'reset-after':
          return forward(req, res, body, 'reset-after');
        case 'stall':
          return; // the client's per-request timeout has to notice
        case '503':
          res.writeHead(503, { 'content-type': 'text/html' });
          return void res.end('<html>upstream unavailable</html>');
        case '503-retry-after':
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
          return void res.end('{"error":"unavailable"}');
        case '429':
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
          return void res.end('{"error":"slow down"}');
        case 'truncate':
          return forward(req, res, body, 'truncate');
        case 'drip':
          return forward(req, res, body, 'drip');
        case 'garbage':
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end('{"id": "job_, "status": pend');
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
