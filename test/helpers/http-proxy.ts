/**
 * A small forwarding HTTP proxy for tests: counts requests per path, and lets
 * a test rewrite or refuse requests on their way to the real server (e.g. to
 * play a server that ignores `Prefer` or has no event stream).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What to do with one request: forward it (optionally with other headers), answer it, or cut it. */
export type ProxyAction =
  | { kind: 'forward'; headers?: Record<string, string | string[] | undefined>; afterFirstChunk?: 'destroy' }
  | { kind: 'answer'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'destroy' };

/** A running proxy. */
export interface TestProxy {
  url: string;
  /** Requests seen, as "METHOD /path" (query removed), in order. */
  seen: string[];
  count(method: string, pathPrefix: string): number;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 port 0 in front of `target`. */
export async function startProxy(target: string, decide: (req: IncomingMessage) => ProxyAction = () => ({ kind: 'forward' })): Promise<TestProxy> {
  const upstream = new URL(target);
  const seen: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${(req.url ?? '').split('?')[0]}`);
    const action = decide(req);
    if (action.kind === 'destroy') return void req.socket.destroy();
    if (action.kind === 'answer') {
      res.writeHead(action.status, action.headers ?? {});
      return void res.end(action.body ?? '');
    }
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: upstream.host, ...(action.headers ?? {}) };
    for (const [k, v] of Object.entries(headers)) if (v === undefined) delete headers[k];
    const outgoing = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (incoming) => {
      res.writeHead(incoming.statusCode ?? 502, incoming.headers);
      if (action.afterFirstChunk === 'destroy') {
        incoming.once('data', (chunk: Buffer) => {
          res.write(chunk, () => {
            incoming.destroy();
            res.socket?.destroy();
          });
        });
        return;
      }
      incoming.pipe(res);
    });
    outgoing.on('error', () => res.socket?.destroy());
    res.on('close', () => outgoing.destroy());
    req.pipe(outgoing);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    count: (method, prefix) => seen.filter((s) => s.startsWith(`${method} ${prefix}`)).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
