/**
 * The dashboard: `index.html` at `/` and its assets under `/assets/`, read from the
 * dashboard's build output (`packages/dashboard/dist`). Only files the build wrote are served,
 * with a strict Content-Security-Policy; without a build, `/` answers a 503 problem saying how
 * to make one.
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The type augmentation used here (`schema.hide`), so the file also compiles on its own.
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problem, sendProblem } from '../errors/problem-handler.js';

/** Options of {@link dashboardRoutes}. */
export interface DashboardRoutesOptions {
  /**
   * Folder of the built dashboard (`index.html` and `assets/`).
   * @default packages/dashboard/dist, found from this module: `src/routes` and `dist/routes` sit
   * at the same depth, so the path holds both under tsx and once compiled.
   */
  distDir?: string;
}

/** Where `npm run build` puts the dashboard. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));

/** Sent with every dashboard answer: the page loads nothing from elsewhere and cannot be framed. */
const SECURITY_HEADERS = Object.freeze({
  'content-security-policy': "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
});

/** Media types of what the build writes; anything else is not served. */
const MEDIA_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
});

/** A plain file name: no folders, no leading dot. */
const ASSET_NAME = /^[\w-]+(?:\.[\w-]+)+$/;
/** Names with a content hash (`app-5X2KQ7ZB.js`) never change content: cache them for a year. */
const HASHED_NAME = /-[A-Z0-9]{8}\.[a-z]+$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The page itself is revalidated on every visit, so a new build shows at once. */
const REVALIDATE = 'no-cache';

/** Registers `/` and `/assets/:name`. */
export async function dashboardRoutes(app: FastifyInstance, options: DashboardRoutesOptions = {}): Promise<void> {
  const distDir = options.distDir ?? DEFAULT_DASHBOARD_DIR;
  const indexFile = join(distDir, 'index.html');

  // Encapsulated in this plugin: the API's own answers keep their headers.
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });

  // Public: the page must load before it can ask for a key; the API calls it makes are keyed.
  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    if (await sendFile(request, reply, indexFile, REVALIDATE)) return reply;
    return notBuilt(request, reply);
  });

  app.get<{ Params: { name: string } }>('/assets/:name', { schema: { hide: true } }, async (request, reply) => {
    const { name } = request.params;
    if (ASSET_NAME.test(name) && MEDIA_TYPES[extname(name)] !== undefined) {
      if (await sendFile(request, reply, join(distDir, 'assets', name), HASHED_NAME.test(name) ? IMMUTABLE : REVALIDATE)) return reply;
    }
    if ((await readOptional(indexFile)) === undefined) return notBuilt(request, reply);
    return sendProblem(reply, { ...problem('JOBWAIT_ERR_ROUTE_NOT_FOUND', `the dashboard has no asset ${JSON.stringify(name)}`), instance: request.url });
  });
}

function notBuilt(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  request.log.warn('dashboard requested but not built');
  return sendProblem(reply, {
    ...problem('JOBWAIT_ERR_UNAVAILABLE', 'the dashboard is not built: run `npm run build` (or `npm run build -w @jobwait/dashboard`) and reload'),
    instance: request.url,
  });
}

/**
 * Sends `file` (its `.gz` twin when the client takes gzip); false when it does not exist.
 * A boolean, not the reply: a Fastify reply is thenable, so awaiting one resolves to undefined
 * and the caller took a page that was sent for one that was missing.
 */
async function sendFile(request: FastifyRequest, reply: FastifyReply, file: string, cacheControl: string): Promise<boolean> {
  const type = MEDIA_TYPES[extname(file)];
  if (type === undefined) return false;
  const compressible = extname(file) !== '.map';
  const gzipped = compressible && acceptsGzip(request.headers['accept-encoding']) ? await readOptional(`${file}.gz`) : undefined;
  const body = gzipped ?? (await readOptional(file));
  if (body === undefined) return false;
  if (compressible) reply.header('vary', 'accept-encoding');
  if (gzipped) reply.header('content-encoding', 'gzip');
  reply.type(type).header('cache-control', cacheControl).send(body);
  return true;
}

/** True when `Accept-Encoding` allows gzip (listed, or `*`, with a q-value above 0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (name === 'gzip' || name === 'x-gzip') gzip = q;
    else if (name === '*') any = q;
  }
  const q = gzip ?? any ?? 0;
  return Number.isFinite(q) && q > 0;
}

/** The file's bytes, or undefined when there is no such file. */
async function readOptional(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw error;
  }
}
