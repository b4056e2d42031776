/**
 * The baseline of `bench/server.ts`: a bare `node:http` JSON handler, run as its own process.
 *
 * - `GET /status` answers the seed's `{"result":"pending"}`; any other plain request answers a
 *   job-shaped object serialized per request (the bench passes a real job, so both bodies are the
 *   size of jobwait's).
 * - Held waiters, the most direct way node:http allows: `GET /v1/jobs/bare-<dueAt>` with a
 *   `Prefer` header is held until `dueAt` (ms since the epoch), `GET /v1/jobs/bare-<dueAt>/events`
 *   streams the pending event at once and the final one at `dueAt`, then ends. One timer per due
 *   time answers every waiter of it in one loop, with ETag and SSE `id:` as jobwait sends them
 *   (version 1 pending, 2 final). `DELETE /v1/jobs/bare-<dueAt>` answers its waiters at once.
 *
 * - The plain answers carry the header lines jobwait's carry (names and values as the bench read
 *   them from jobwait: request id, `Vary`, ETag, `Cache-Control`, `Retry-After`), so both write
 *   the same bytes and the ratio measures what jobwait does besides writing its answer.
 *
 * With `BARE_AFTER_JOBWAIT=<a jobwait build's build-server.js>` in its environment, it first builds
 * and starts a jobwait server in its own process (port 0, rate limit off, SQLite in a temp folder,
 * default logging) and only then listens: the same handler after jobwait's setup, the floor of
 * what any handler can reach inside a jobwait process (bench/server.ts's in-process floor).
 *
 * Prints `listening <port>` once it listens. Usage:
 * `node bench/bare-server.ts <port> '<job JSON>' ['<job headers JSON>' '<status headers JSON>']` (through tsx).
 */
import { createServer, type ServerResponse } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const job = JSON.parse(process.argv[3] ?? '{}') as Record<string, unknown>;
const started = Date.now();
const dueAt = started + 3_600_000;
const STATUS_BODY = JSON.stringify({ result: 'pending' });
/** Extra header lines of the plain answers, as `[name, value, name, value…]` (what `writeHead` takes). */
const jobHeaders = Object.entries(JSON.parse(process.argv[4] ?? '{}') as Record<string, string>).flat();
const statusHeaders = Object.entries(JSON.parse(process.argv[5] ?? '{}') as Record<string, string>).flat();

interface Waiter {
  res: ServerResponse;
  sse: boolean;
}
const groups = new Map<number, { waiters: Set<Waiter>; timer: NodeJS.Timeout }>();

function finalBody(due: number): string {
  return JSON.stringify({ ...job, status: 'completed', progress: 1, etaMs: 0, dueAt: new Date(due).toISOString(), updatedAt: new Date(due).toISOString(), version: 2 });
}

function answer(due: number): void {
  const group = groups.get(due);
  if (!group) return;
  groups.delete(due);
  clearTimeout(group.timer);
  const body = finalBody(due);
  const event = `id: 2\nevent: job\ndata: ${body}\n\n`;
  for (const { res, sse } of group.waiters) {
    if (sse) {
      res.end(event);
    } else {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), etag: `W/"bare-${due}.2"`, 'cache-control': 'no-store' });
      res.end(body);
    }
  }
}

function hold(due: number, waiter: Waiter): void {
  let group = groups.get(due);
  if (!group) {
    group = { waiters: new Set(), timer: setTimeout(() => answer(due), Math.max(0, due - Date.now())) };
    groups.set(due, group);
  }
  const { waiters } = group;
  waiters.add(waiter);
  waiter.res.on('close', () => waiters.delete(waiter));
}

const server = createServer((req, res) => {
  const held = /^\/v1\/jobs\/bare-(\d+)(\/events)?$/.exec(req.url ?? '');
  if (held) {
    const due = Number(held[1]);
    if (req.method === 'DELETE') {
      answer(due);
      res.writeHead(204).end();
      return;
    }
    if (held[2]) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      res.write(`retry: 1000\n\nid: 1\nevent: job\ndata: ${JSON.stringify({ ...job, dueAt: new Date(due).toISOString() })}\n\n`);
      hold(due, { res, sse: true });
      if (Date.now() >= due) answer(due);
      return;
    }
    if (req.headers.prefer !== undefined) {
      hold(due, { res, sse: false });
      if (Date.now() >= due) answer(due);
      return;
    }
  }
  const status = req.url === '/status';
  const body = status ? STATUS_BODY : JSON.stringify({ ...job, etaMs: Math.max(0, dueAt - Date.now()) });
  res.writeHead(200, [...(status ? statusHeaders : jobHeaders), 'content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(body))]);
  res.end(body);
});
const afterJobwait = process.env.BARE_AFTER_JOBWAIT;
if (afterJobwait) {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { buildServer } = (await import(afterJobwait)) as { buildServer: (options: object) => Promise<{ listen: (o: object) => Promise<string> }> };
  const dataDir = mkdtempSync(join(tmpdir(), 'jobwait-bench-inprocess-'));
  process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const app = await buildServer({ rateLimit: 0, dataDir });
  await app.listen({ port: 0, host: '127.0.0.1' });
}
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : port}\n`);
});
process.on('SIGTERM', () => {
  for (const due of [...groups.keys()]) answer(due);
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
