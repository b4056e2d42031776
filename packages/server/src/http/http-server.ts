/**
 * The node:http server Fastify serves on, made by us (Fastify's `serverFactory`) so that the hot
 * reads can sit in front of its handler, and set up as Fastify sets up its own HTTP/1.1 server.
 */
import { createServer, type Server, type ServerOptions } from 'node:http';
import type { FastifyServerOptions } from 'fastify';
import type { RequestListener } from './hot-reads.js';

/** An HTTP/1.1 server with Fastify's timeouts (keep-alive, request, connection) and per-socket request cap. */
export function createHttpServer(options: FastifyServerOptions & { http?: ServerOptions | null }, listener: RequestListener): Server {
  const server = createServer(options.http ?? {}, listener);
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
  if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
  if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
  if (options.maxRequestsPerSocket !== undefined && options.maxRequestsPerSocket !== null && options.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
  return server;
}
