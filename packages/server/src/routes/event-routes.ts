/**
 * Server-sent events: one job's states (`GET /v1/jobs/{id}/events`, closes
 * after the final one) and every job of the key (`GET /v1/events`, for the
 * dashboard). Both subscribe to the change feed before reading the state.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Predictor } from '../predict/predictor.js';
import type { JobChange } from '../feed/change-feed.js';
import type { SseHub, SseStream } from '../http/sse-hub.js';
import { jobBody } from '../http/job-answer.js';
import { effectiveState, isFinal, type JobRecord, type JobStatus } from '../jobs/job-record.js';
import type { JobService } from '../jobs/job-service.js';
import type { WaitObserver } from '../metrics/metrics.js';
import { JobParams } from './schemas.js';
import type { HeldConnections, Hold } from '../limits/held-connections.js';
import { holdFor } from '../limits/hold-request.js';
import { tenantOf } from './tenant.js';

/** The hold of a server without held-connection limits. */
const NO_LIMIT: Hold = { release() {} };

/** Options of {@link eventRoutes}. */
export interface EventRoutesOptions {
  service: JobService;
  hub: SseHub;
  /** Reconnect delay suggested to clients, in milliseconds. */
  retryMs: number;
  /** Told of open streams and of how late they delivered a final state (metrics). */
  waits?: WaitObserver | undefined;
  /** Streams held at once, per key and in total: past a limit a stream is refused (429/503). */
  held?: HeldConnections | undefined;
  /** Attaches what this instance holds of a job's kind, so streamed views show its expected end. */
  predictor?: Predictor | undefined;
}

/** Jobs replayed at most on a `/v1/events` resume. */
const RESUME_LIMIT = 1000;

const streamResponse = { 200: { description: 'text/event-stream of `job` events', type: 'string' } };

/** Registers the event-stream routes. */
export async function eventRoutes(app: FastifyInstance, options: EventRoutesOptions): Promise<void> {
  const { service, hub, retryMs, waits, held, predictor } = options;
  /** `job` with its kind's history when this instance holds it (a stream never waits for a read). */
  const withHistory = (job: JobRecord): JobRecord => (predictor ? predictor.attachCached(job) : job);
  /** The stream's hold, taken before anything else (nothing is subscribed when it is refused). */
  const holdStream = (request: FastifyRequest): Hold => (held ? holdFor(held, request, 'sse') : NO_LIMIT);
  /** Observes the wake delay of a final state a stream opened at `openedAt` just sent. */
  const sentFinal = (status: JobStatus, updatedAt: number, openedAt: number, now: number): void => {
    if (isFinal(status) && updatedAt >= openedAt) waits?.woke('sse', now - updatedAt);
  };

  app.get<{ Params: JobParams }>(
    '/v1/jobs/:id/events',
    {
      config: { readToken: true },
      schema: { summary: "A job's states as server-sent events; resumes after Last-Event-ID", params: JobParams, produces: ['text/event-stream'], response: streamResponse },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const { id } = request.params;
      const tokenEnd = request.readScope?.expiresAt;
      const openedAt = service.now();
      const lastSeen = parseEventId(request.headers['last-event-id']);
      const slot = holdStream(request);
      // Subscribe first, read second: a change in between is buffered, not lost.
      const early: JobChange[] = [];
      let stream: SseStream | undefined;
      let sent = lastSeen ?? 0;
      const deliver = (job: JobRecord): void => {
        if (!stream || stream.isClosed) return;
        const now = service.now();
        // A read token's stream ends with the token, before any later event: the client resumes with a fresh one after Last-Event-ID.
        if (tokenEnd !== undefined && now >= tokenEnd) return stream.close(0);
        const { version, status, updatedAt } = effectiveState(job, now);
        const final = isFinal(status);
        if (version > sent) {
          sent = version;
          // Every stream of a job is handed the same record when it settles: its JSON is made once (jobBody).
          const event = { id: String(version), event: 'job', data: jobBody(withHistory(job), now) };
          sentFinal(status, updatedAt, openedAt, now);
          if (final) return stream.end(event);
          stream.send(job.id, event);
        }
        if (final) stream.close();
      };
      let unsubscribe: () => void;
      let job: JobRecord;
      try {
        unsubscribe = await service.subscribeJob(id, (change) => (stream ? deliver(change.job) : early.push(change)));
      } catch (error) {
        slot.release();
        throw error;
      }
      try {
        job = await service.get(tenant, id);
      } catch (error) {
        unsubscribe();
        slot.release();
        throw error;
      }
      const state = effectiveState(job, service.now());
      if (isFinal(state.status) && lastSeen !== undefined && lastSeen >= state.version) {
        // The client has the final state already; 204 tells an EventSource to stop reconnecting.
        unsubscribe();
        slot.release();
        return reply.code(204).send();
      }
      waits?.holding(request);
      reply.hijack();
      stream = hub.open(reply.raw, replyHeaders(reply), retryMs);
      stream.onClose(unsubscribe);
      stream.onClose(() => slot.release());
      if (tokenEnd !== undefined) closeAt(stream, tokenEnd - service.now());
      deliver(job);
      for (const change of early) deliver(change.job);
      // A job past due whose settle event is still to come reads final already: deliver() closed the stream.
    },
  );

  app.get(
    '/v1/events',
    { schema: { summary: "Every change of this key's jobs as server-sent events; resumes after Last-Event-ID", produces: ['text/event-stream'], response: streamResponse } },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const openedAt = service.now();
      const since = parseEventId(request.headers['last-event-id']);
      const slot = holdStream(request);
      const early: JobChange[] = [];
      let stream: SseStream | undefined;
      const deliver = (job: JobRecord): void => {
        const now = service.now();
        const { updatedAt, status } = effectiveState(job, now);
        if (!stream || stream.isClosed) return;
        stream.send(job.id, { id: String(updatedAt), event: 'job', data: jobBody(withHistory(job), now) });
        sentFinal(status, updatedAt, openedAt, now);
      };
      let unsubscribe: () => void;
      try {
        unsubscribe = await service.subscribeTenant(tenant, (change) => (stream ? deliver(change.job) : early.push(change)));
      } catch (error) {
        slot.release();
        throw error;
      }
      let missed: JobRecord[] = [];
      try {
        if (since !== undefined) missed = await service.changesSince(tenant, since, RESUME_LIMIT);
      } catch (error) {
        unsubscribe();
        slot.release();
        throw error;
      }
      waits?.holding(request);
      reply.hijack();
      stream = hub.open(reply.raw, replyHeaders(reply), retryMs);
      stream.onClose(unsubscribe);
      stream.onClose(() => slot.release());
      for (const job of missed) deliver(job);
      for (const change of early) deliver(change.job);
    },
  );
}

/** Ends `stream` (reconnect at once: `retry: 0`) in `ms`, unless it ended before. */
function closeAt(stream: SseStream, ms: number): void {
  // setTimeout's limit is 2^31-1 ms; tokens live a day at most.
  const timer = setTimeout(() => stream.close(0), Math.max(0, ms));
  timer.unref();
  stream.onClose(() => clearTimeout(timer));
}

/** Headers already set on the reply (request id, rate limit), for a hijacked stream. */
function replyHeaders(reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : String(value);
  return out;
}

/** `Last-Event-ID` as a number, or undefined when absent or not ours. */
function parseEventId(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
