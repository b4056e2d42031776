/**
 * Fastify's own floor for `bench/server.ts`: the plain answers of `bench/bare-server.ts` (same bodies,
 * same header lines), served by a minimal Fastify of the version jobwait uses — no plugins, no
 * hooks, logger off, one route each. Its ratio to the bare handler is the most a Fastify server can
 * reach on this machine before it does anything of its own (auth, metrics, request log, store).
 *
 * Prints `listening <port>` once it listens. Usage:
 * `node bench/fastify-minimal-server.ts <port> '<job JSON>' '<job headers JSON>' '<status headers JSON>'` (through tsx).
 */
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 0);
const job = JSON.parse(process.argv[3] ?? '{}') as Record<string, unknown>;
const jobHeaders = JSON.parse(process.argv[4] ?? '{}') as Record<string, string>;
const statusHeaders = JSON.parse(process.argv[5] ?? '{}') as Record<string, string>;
const dueAt = Date.now() + 3_600_000;
const STATUS_BODY = JSON.stringify({ result: 'pending' });

const app = Fastify({ logger: false });
app.get('/status', (_request, reply) => {
  // A string body with a content type: Fastify sends it as it is, no serializer, as jobwait's pre-serialized bodies.
  reply.headers(statusHeaders).type('application/json; charset=utf-8').send(STATUS_BODY);
});
app.get('/v1/jobs/:id', (_request, reply) => {
  // Serialized per request, as the bare handler does (its etaMs changes).
  reply.headers(jobHeaders).type('application/json; charset=utf-8').send(JSON.stringify({ ...job, etaMs: Math.max(0, dueAt - Date.now()) }));
});
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`listening ${port}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
