/**
 * The seed's two endpoints, with bodies and codes exactly as its README:
 * `POST /start-timer` and `GET /status`. Errors here are the seed's
 * `{"error": "..."}`, not problem+json. `/status` also honours `Prefer: wait=N`
 * and sends `Retry-After` while pending; both are headers, so the bodies stay the seed's.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isStoreUnreachable } from '../errors/errors.js';
import { effectiveState, type JobRecord } from '../jobs/job-record.js';
import type { JobService } from '../jobs/job-service.js';
import { answerStatusRead } from '../http/read-answer.js';
import { requestedWait } from '../http/prefer.js';
import { whileConnected } from '../http/while-connected.js';
import type { HeldConnections, Hold } from '../limits/held-connections.js';
import { holdIfFree } from '../limits/hold-request.js';
import { tenantOf } from './tenant.js';

/** The hold of a server without held-connection limits. */
const NO_LIMIT: Hold = { release() {} };

/** Options of {@link timerRoutes}. */
export interface TimerRoutesOptions {
  service: JobService;
  maxDurationSeconds: number;
  maxWaitSeconds: number;
  /** Long-polls held at once: past a limit, `/status` answers at once instead of holding. */
  held?: HeldConnections | undefined;
}

/** The seed's `{"error": ...}` answer. */
function seedError(reply: FastifyReply, status: number, error: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error });
}

/**
 * `JSON.parse`, plus the bare `NaN`, `Infinity` and `-Infinity` that Python's `json` (the seed's
 * Flask server, and `json.dumps(float('nan'))` in Python clients) reads and writes. They become
 * `null` here, so `{"duration": NaN}` answers "Invalid duration value" as DESIGN.md requires.
 */
function parseSeedJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    let out = '';
    let inString = false;
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]!;
      if (inString) {
        if (c === '\\') {
          out += c + (raw[i + 1] ?? '');
          i++;
          continue;
        }
        if (c === '"') inString = false;
        out += c;
        continue;
      }
      if (c === '"') inString = true;
      const constant = ['-Infinity', 'Infinity', 'NaN'].find((word) => raw.startsWith(word, i));
      if (constant) {
        out += 'null';
        i += constant.length - 1;
        continue;
      }
      out += c;
    }
    if (out === raw) throw error;
    return JSON.parse(out);
  }
}

/** Registers `POST /start-timer` and `GET /status`. */
export async function timerRoutes(app: FastifyInstance, options: TimerRoutesOptions): Promise<void> {
  const { service, maxDurationSeconds, maxWaitSeconds, held } = options;

  // Read any body as text and parse it here: the seed's error messages, not Fastify's, must answer.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.setErrorHandler((error: { statusCode?: unknown }, request, reply) => {
    // A store that does not answer is an outage, said as /readyz says it: 503 with Retry-After.
    if (isStoreUnreachable(error)) {
      request.log.error({ err: error }, 'request failed: the store does not answer');
      return seedError(reply.header('retry-after', '1'), 503, 'Service unavailable, retry shortly');
    }
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return seedError(reply, status, status === 413 ? 'Request body too large' : status >= 500 ? 'Internal server error' : 'Bad request');
  });

  app.post('/start-timer', { config: { seed: true } }, async (request, reply) => {
    const raw = typeof request.body === 'string' ? request.body : '';
    if (raw.trim() === '') return seedError(reply, 400, 'No duration provided');
    let body: unknown;
    try {
      body = parseSeedJson(raw);
    } catch {
      return seedError(reply, 400, 'Malformed JSON body: expected {"duration": <seconds>}');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body) || !Object.hasOwn(body, 'duration')) {
      return seedError(reply, 400, 'No duration provided');
    }
    const { duration } = body as { duration: unknown };
    if (typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0 || duration > maxDurationSeconds) {
      return seedError(reply, 400, 'Invalid duration value');
    }
    const tenant = tenantOf(request);
    await service.startTimer(tenant, duration);
    return reply.code(200).type('application/json; charset=utf-8').send({ message: `Timer started for ${duration} seconds` });
  });

  /** The seed's answer for `job` as it reads now (the early path sends the same: http/read-answer.ts). */
  function sendStatus(reply: FastifyReply, job: JobRecord): FastifyReply {
    const { status, headers, body } = answerStatusRead(job, service.now());
    return reply.code(status).headers(headers).send(body);
  }

  app.get('/status', { config: { seed: true } }, (request, reply) => {
    // The common read (no wait asked, the timer in the store's memory) answers without a promise.
    if (request.headers.prefer === undefined) {
      const job = service.peekCurrentTimer(tenantOf(request));
      if (job) return void sendStatus(reply, job);
    }
    return readStatus(request, reply);
  });

  /**
   * A read that waits for the store or a change (long-poll). It resolves to nothing once the answer
   * is sent: resolving to the reply, a thenable, would cost Fastify two more ticks per answer.
   */
  async function readStatus(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const tenant = tenantOf(request);
    let job = await service.currentTimer(tenant);
    if (!job) {
      seedError(reply, 404, 'No timer started');
      return;
    }
    const wait = requestedWait(request.headers.prefer, undefined);
    // The seed's contract has no refusal: past the held-connection limits, /status answers at once without holding.
    const slot = wait !== undefined && wait > 0 ? (held ? holdIfFree(held, request, 'long-poll') : NO_LIMIT) : undefined;
    if (wait !== undefined && wait > 0 && slot) {
      const hold = Math.min(wait, maxWaitSeconds);
      reply.header('preference-applied', `wait=${hold}`).header('vary', 'Prefer');
      try {
        if (effectiveState(job, service.now()).status === 'pending') {
          const id = job.id;
          job = (await whileConnected(request.raw, (signal) => service.waitForChange(tenant, id, hold * 1000, undefined, signal))).job;
        }
      } finally {
        slot.release();
      }
    } else if (wait !== undefined && wait > 0) {
      reply.header('vary', 'Prefer');
    }
    sendStatus(reply, job);
  }
}
