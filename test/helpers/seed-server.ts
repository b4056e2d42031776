/**
 * The seed's own server, as its README describes it (a Flask app with two
 * endpoints, no hints, no long-poll): the baseline that `TimerClient` and
 * `auto` waits must still work against.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running seed server. */
export interface SeedServer {
  url: string;
  /** Number of `GET /status` requests answered. */
  statusRequests: () => number;
  close(): Promise<void>;
}

/** Starts the seed's timer server on 127.0.0.1 port 0. */
export async function startSeedServer(): Promise<SeedServer> {
  let endsAt: number | undefined;
  let statusRequests = 0;
  const send = (res: import('node:http').ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(body)}\n`);
  };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/start-timer') {
        let body: { duration?: unknown } | undefined;
        try {
          body = JSON.parse(raw) as { duration?: unknown };
        } catch {
          return send(res, 400, { error: 'No duration provided' });
        }
        if (body?.duration === undefined) return send(res, 400, { error: 'No duration provided' });
        if (typeof body.duration !== 'number' || body.duration <= 0) return send(res, 400, { error: 'Invalid duration value' });
        endsAt = Date.now() + body.duration * 1000;
        return send(res, 200, { message: `Timer started for ${body.duration} seconds` });
      }
      if (req.method === 'GET' && req.url === '/status') {
        statusRequests++;
        if (endsAt === undefined) return send(res, 404, { error: 'No timer started' });
        return send(res, 200, { result: Date.now() >= endsAt ? 'completed' : 'pending' });
      }
      send(res, 404, { error: 'Not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    statusRequests: () => statusRequests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
