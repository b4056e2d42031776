/**
 * Waiting on many jobs at once. A set is named by a resource, never by its ids in a URL
 * (a thousand ids do not fit Node's 16 KiB of headers): a watch (`POST /v1/watches` with ids, a
 * tag or a batch), a batch, or a tag. Over a set:
 * - `GET /v1/watches/{id}` — a long-poll (`Prefer: wait=N`) answering when any job of the set
 *   changes, or any ends, or all have ended (`?until=change|end|all`), after the cursor `?after=`;
 * - `GET /v1/{watches/{id},batches/{id},tags/{tag}}/events` — server-sent events: `counts` first,
 *   then a `job` event per change, and `end` (with the counts) once every job has ended, when the
 *   stream closes. `Last-Event-ID` resumes it: jobs changed since (less a margin, so a job whose
 *   end was published late is not skipped) are sent again; the same version may come twice.
 * Each held wait follows its set on one subscription to the key's changes (jobs/job-set-follower.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { jobBody } from '../http/job-answer.js';
import { requestedWait } from '../http/prefer.js';
import type { SseHub, SseStream } from '../http/sse-hub.js';
import { whileConnected } from '../http/while-connected.js';
import { effectiveState, isFinal, jobView, type JobRecord, type JobStatus } from '../jobs/job-record.js';
import type { JobService } from '../jobs/job-service.js';
import { JobSetFollower } from '../jobs/job-set-follower.js';
import { countSet } from '../jobs/job-set.js';
import type { HeldConnections, Hold } from '../limits/held-connections.js';
import { holdFor } from '../limits/hold-request.js';
import type { WaitObserver } from '../metrics/metrics.js';
import type { JobSelector, WatchRecord } from '../store/job-store.js';
import { BatchParams, CreateWatchBody, TagParams, WatchParams, WatchPollQuery, WatchPollSchema, WatchSchema } from './job-set-schemas.js';
import { ProblemSchema } from './schemas.js';
import { tenantOf } from './tenant.js';

/** A resumed stream sends again what changed this long before its Last-Event-ID: a settle published late (a lagging scheduler, the follower's fallback) carries its earlier due time. */
export const RESUME_OVERLAP_MS = 5000;

/** The hold of a server without held-connection limits. */
const NO_LIMIT: Hold = { release() {} };

/** Options of {@link setWaitRoutes}. */
export interface SetWaitRoutesOptions {
  service: JobService;
  hub: SseHub;
  /** Reconnect delay suggested to stream clients, in milliseconds. */
  retryMs: number;
  maxWaitSeconds: number;
  waits?: WaitObserver | undefined;
  held?: HeldConnections | undefined;
}

const problems = { 400: ProblemSchema, 404: ProblemSchema };
const streamResponse = { 200: { description: 'text/event-stream: `counts`, then `job` per change, then `end` when every job has ended', type: 'string' }, ...problems };

/** A watch as the API shows it. */
function watchView(watch: WatchRecord, counts: object): Record<string, unknown> {
  return {
    id: watch.id,
    createdAt: new Date(watch.createdAt).toISOString(),
    expiresAt: new Date(watch.expiresAt).toISOString(),
    ...watch.selector,
    counts,
    events: `/v1/watches/${watch.id}/events`,
  };
}

/** Registers the watch routes and the event streams of watches, batches and tags. */
export async function setWaitRoutes(app: FastifyInstance, options: SetWaitRoutesOptions): Promise<void> {
  const { service, hub, retryMs, held, waits } = options;
  const holdOf = (request: FastifyRequest, kind: 'sse' | 'long-poll'): Hold => (held ? holdFor(held, request, kind) : NO_LIMIT);

  app.removeContentTypeParser('text/plain');

  app.post<{ Body: CreateWatchBody }>(
    '/v1/watches',
    {
      schema: {
        summary: 'Make a watch of up to 1,000 job ids, a tag or a batch, to wait on with one long-poll or one event stream',
        body: CreateWatchBody,
        response: { 201: WatchSchema, ...problems },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const { ids, tag, batch } = request.body;
      if (batch !== undefined) await service.getBatch(tenant, batch);
      const selector: JobSelector = ids !== undefined ? { ids: [...new Set(ids)] } : batch !== undefined ? { batch } : { tag: tag! };
      const watch = await service.createWatch(tenant, selector);
      const counts = countSet(await service.select(tenant, selector), service.now());
      reply.header('location', `/v1/watches/${watch.id}`);
      return reply.code(201).send(watchView(watch, counts));
    },
  );

  app.get<{ Params: WatchParams; Querystring: WatchPollQuery }>(
    '/v1/watches/:id',
    {
      schema: {
        summary: 'Long-poll a set: with Prefer: wait=N, hold until any job changes, any ends or all have ended (?until=), after the cursor ?after=',
        params: WatchParams,
        querystring: WatchPollQuery,
        response: { 200: WatchPollSchema, ...problems },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const watch = await service.getWatch(tenant, request.params.id);
      const until = request.query.until ?? 'change';
      const after = request.query.after === undefined ? undefined : Number(request.query.after);
      const wait = Math.min(requestedWait(request.headers.prefer, request.query.wait) ?? 0, options.maxWaitSeconds);
      const baseline = after ?? service.now();
      // Only what the answer will carry is kept while holding: jobs changed after the cursor (or, without one, every ended job).
      const shown = new Map<string, JobRecord>();
      let woken = false;
      const consider = (job: JobRecord, status: JobStatus, initial: boolean): void => {
        const changed = effectiveState(job, service.now()).updatedAt > baseline;
        if (changed || (initial && after === undefined && isFinal(status))) shown.set(job.id, job);
        if (changed && (until === 'change' || (until === 'end' && isFinal(status)))) woken = true;
      };
      const slot = wait > 0 ? holdOf(request, 'long-poll') : NO_LIMIT;
      let follower: JobSetFollower | undefined;
      try {
        const opened = await JobSetFollower.open(service, tenant, watch.selector);
        follower = opened.follower;
        const now = service.now();
        for (const job of opened.jobs) consider(job, effectiveState(job, now).status, true);
        const satisfied = (): boolean => woken || (until === 'all' && follower!.ended);
        if (wait > 0 && !satisfied()) {
          waits?.holding(request);
          const active = follower;
          reply.header('preference-applied', `wait=${wait}`);
          await whileConnected(
            request.raw,
            (signal) =>
              new Promise<void>((resolve) => {
                const end = (): void => {
                  clearTimeout(timer);
                  signal.removeEventListener('abort', end);
                  resolve();
                };
                const timer = setTimeout(end, wait * 1000);
                signal.addEventListener('abort', end, { once: true });
                active.listen((job, status) => {
                  consider(job, status, false);
                  if (satisfied()) end();
                });
              }),
          );
        }
        const answeredAt = service.now();
        const counts = { ...follower.counts };
        reply.header('cache-control', 'no-store');
        return {
          watch: watch.id,
          counts,
          done: follower.ended,
          cursor: String(answeredAt),
          jobs: [...shown.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map((job) => jobView(job, answeredAt)),
        };
      } finally {
        follower?.close();
        slot.release();
      }
    },
  );

  /** Streams the set `selector` names to `reply` (see the file's comment). */
  async function streamSet(request: FastifyRequest, reply: FastifyReply, selector: JobSelector): Promise<void> {
    const tenant = tenantOf(request);
    const since = parseEventId(request.headers['last-event-id']);
    const openedAt = service.now();
    const slot = holdOf(request, 'sse');
    let opened: Awaited<ReturnType<typeof JobSetFollower.open>>;
    try {
      opened = await JobSetFollower.open(service, tenant, selector);
    } catch (error) {
      slot.release();
      throw error;
    }
    const { follower } = opened;
    const now = service.now();
    const resend = opened.jobs.filter((job) => {
      const state = effectiveState(job, now);
      return since === undefined ? isFinal(state.status) : state.updatedAt >= since - RESUME_OVERLAP_MS;
    });
    if (since !== undefined && follower.ended && resend.length === 0) {
      // The client has every end already; 204 tells an EventSource to stop reconnecting.
      follower.close();
      slot.release();
      return reply.code(204).send();
    }
    waits?.holding(request);
    reply.hijack();
    const stream: SseStream = hub.open(reply.raw, replyHeaders(reply), retryMs);
    stream.onClose(() => {
      follower.close();
      slot.release();
    });
    // Ids are send times, never decreasing. The snapshot's events carry none but its last: a stream cut
    // half-way through it resumes from the previous id, so nothing of the snapshot is skipped.
    let lastId = since ?? 0;
    const nextId = (): string => String((lastId = Math.max(lastId, service.now())));
    const countsData = (): string => JSON.stringify(follower.counts);
    const sendJob = (job: JobRecord, withId: boolean): void => {
      const at = service.now();
      const state = effectiveState(job, at);
      if (isFinal(state.status) && state.updatedAt >= openedAt) waits?.woke('sse', at - state.updatedAt);
      stream.send(job.id, { ...(withId ? { id: nextId() } : {}), event: 'job', data: jobBody(job, at) });
    };
    stream.send('counts', { ...(resend.length === 0 ? { id: nextId() } : {}), event: 'counts', data: countsData() });
    resend.forEach((job, i) => sendJob(job, i === resend.length - 1));
    if (follower.ended) return stream.end({ id: nextId(), event: 'end', data: countsData() });
    follower.listen((job) => {
      if (stream.isClosed) return;
      sendJob(job, true);
      if (follower.ended) stream.end({ id: nextId(), event: 'end', data: countsData() });
    });
  }

  app.get<{ Params: WatchParams }>(
    '/v1/watches/:id/events',
    { schema: { summary: "A watch's jobs as server-sent events, until all have ended; resumes after Last-Event-ID", params: WatchParams, produces: ['text/event-stream'], response: streamResponse } },
    async (request, reply) => {
      const watch = await service.getWatch(tenantOf(request), request.params.id);
      return streamSet(request, reply, watch.selector);
    },
  );

  app.get<{ Params: BatchParams }>(
    '/v1/batches/:id/events',
    { schema: { summary: "A batch's jobs as server-sent events, until all have ended; resumes after Last-Event-ID", params: BatchParams, produces: ['text/event-stream'], response: streamResponse } },
    async (request, reply) => {
      const batch = await service.getBatch(tenantOf(request), request.params.id);
      return streamSet(request, reply, { batch: batch.id });
    },
  );

  app.get<{ Params: TagParams }>(
    '/v1/tags/:tag/events',
    {
      schema: {
        summary: "The jobs with a tag as server-sent events (jobs tagged later join), until all have ended; resumes after Last-Event-ID",
        params: TagParams,
        produces: ['text/event-stream'],
        response: streamResponse,
      },
    },
    async (request, reply) => streamSet(request, reply, { tag: request.params.tag }),
  );
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
