/**
 * The product's backend in the browser example: a tiny node:http server that holds the jobwait API
 * key (it never leaves this process), starts a job for the user, and mints a read token for that
 * one job, which the page uses to watch it on jobwait directly, from another origin.
 *
 *   POST /api/videos               → starts a job; { jobId, token, expiresAt, jobwaitUrl }
 *   POST /api/videos/{id}/token    → a fresh token for that job (the page's getToken callback)
 *   GET  /  /app.js  /jobwait-client.js → the page, its script, and @jobwait/client bundled for browsers
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { JobwaitClient } from '@jobwait/client';
import { buildSync } from 'esbuild';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** Options of {@link startBackend}. */
export interface BackendOptions {
  /** Where jobwait is; a function when it is known only after this server listens (its origin goes into jobwait's --cors-origin). */
  jobwaitUrl: string | (() => string);
  /** The API key: server side only. */
  apiKey: string;
  /** Life of each minted token, in seconds (jobwait's default when absent). */
  tokenTtlSeconds?: number | undefined;
  port?: number | undefined;
  host?: string | undefined;
}

/** A listening backend. */
export interface Backend {
  server: Server;
  /** The page's origin, as the browser sees it (`http://localhost:<port>`). */
  origin: string;
  port: number;
  /** Tokens minted so far (the first and every refresh). */
  readonly minted: number;
  close(): Promise<void>;
}

/** @jobwait/client as one ES module for the page, bundled from the package's own entry. */
function clientBundle(): string {
  const entry = fileURLToPath(import.meta.resolve('@jobwait/client'));
  const result = buildSync({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
  return result.outputFiles[0]!.text;
}

/** Starts the backend. */
export async function startBackend(options: BackendOptions): Promise<Backend> {
  const jobwaitUrl = typeof options.jobwaitUrl === 'function' ? options.jobwaitUrl : () => options.jobwaitUrl as string;
  const files: Record<string, [type: string, body: string]> = {
    '/': ['text/html; charset=utf-8', readFileSync(`${HERE}page.html`, 'utf8')],
    '/app.js': ['text/javascript; charset=utf-8', readFileSync(`${HERE}app.js`, 'utf8')],
    '/jobwait-client.js': ['text/javascript; charset=utf-8', clientBundle()],
  };
  let minted = 0;

  /** Asks jobwait, with the API key, for a token that reads job `jobId` only. */
  async function mint(jobId: string): Promise<{ token: string; expiresAt: string }> {
    const response = await fetch(`${jobwaitUrl()}/v1/read-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jobs: [jobId], ...(options.tokenTtlSeconds ? { ttlSeconds: options.tokenTtlSeconds } : {}) }),
    });
    if (!response.ok) throw new Error(`minting a read token failed: ${response.status} ${await response.text()}`);
    minted++;
    return (await response.json()) as { token: string; expiresAt: string };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://backend').pathname;
    const file = req.method === 'GET' ? files[path] : undefined;
    if (file) return void res.writeHead(200, { 'content-type': file[0], 'cache-control': 'no-store' }).end(file[1]);
    if (req.method === 'POST' && path === '/api/videos') {
      const body = JSON.parse((await readBody(req)) || '{}') as { seconds?: number };
      // A real product checks its user's session here and starts real work.
      const jobs = new JobwaitClient({ baseUrl: jobwaitUrl(), apiKey: options.apiKey });
      const job = await jobs.createJob({ duration: Math.min(Math.max(Number(body.seconds) || 8, 1), 60), metadata: { kind: 'video-encode' } });
      return json(res, 201, { jobId: job.id, jobwaitUrl: jobwaitUrl(), ...(await mint(job.id)) });
    }
    const refresh = /^\/api\/videos\/(job_[\w-]+)\/token$/.exec(path);
    if (req.method === 'POST' && refresh) {
      // A real product checks that this user owns the job before minting.
      return json(res, 200, await mint(refresh[1]!));
    }
    json(res, 404, { error: 'not found' });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => json(res, 502, { error: error instanceof Error ? error.message : String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    origin: `http://localhost:${port}`,
    get minted() {
      return minted;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}
