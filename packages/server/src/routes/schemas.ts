/**
 * JSON schemas of the jobs API (TypeBox). Fastify validates every request
 * against them and serializes answers with them; `/openapi.json` is built from them.
 */
import { Type, type Static } from 'typebox';

/**
 * A free-form JSON object kept with a job. The JSON schema is a plain open object; its static
 * type is a record (rather than TypeBox's `object`) so that it reads as the client's `Job` does.
 */
function Metadata(options: { maxProperties?: number } = {}) {
  return Type.Unsafe<Record<string, unknown>>(Type.Object({}, { additionalProperties: true, ...options }));
}

/** Most tags one job carries (Trigger.dev allows 10 per run). */
export const MAX_TAGS = 10;

/** One tag: a short label, safe in a URL path segment and a Redis key. */
export const TagSchema = tagSchema('a short label');

/** The schema of one tag, described as `description`. */
export function tagSchema(description: string) {
  return Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$', examples: ['catalogue-2026'], description });
}

/** A job's tags. */
export const TagsSchema = Type.Array(TagSchema, { maxItems: MAX_TAGS, uniqueItems: true, description: `up to ${MAX_TAGS} short labels (1-64 of A-Z a-z 0-9 _ . : -) to list, count and wait on jobs together` });

/** Status of a job as the API shows it. */
export const JobStatusSchema = Type.Union([Type.Literal('pending'), Type.Literal('completed'), Type.Literal('error'), Type.Literal('canceled')]);

/** A job's kind: a short label, like a tag. */
export const KindSchema = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$',
  examples: ['transcode'],
  description: 'what kind of work the job is (1-64 of A-Z a-z 0-9 _ . : -): the server learns how long finished jobs of a kind take and predicts the end of pending ones',
});

/** Largest `size` a job may give. */
export const MAX_SIZE = 1e9;

/** Quantiles of a duration, in milliseconds. */
const QuantilesSchema = Type.Object(
  {
    p50Ms: Type.Integer({ minimum: 1 }),
    p90Ms: Type.Integer({ minimum: 1 }),
    p99Ms: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

/** A pending job's expected end and what it rests on (docs/predicted-waits.md). */
export const ExpectedEndSchema = Type.Object(
  {
    basis: Type.Union([Type.Literal('timer'), Type.Literal('worker'), Type.Literal('history')], {
      description: "timer: exact (etaMs, dueAt); worker: the worker's own ETA (etaMs, dueAt); history: predicted from finished jobs of the same kind",
    }),
    cold: Type.Optional(Type.Boolean({ description: 'history: too few finished jobs of this kind: nothing is predicted' })),
    samples: Type.Optional(Type.Integer({ minimum: 0, description: 'history: finished jobs of this kind the prediction rests on' })),
    p50Ms: Type.Optional(Type.Integer({ minimum: 1, description: 'history: milliseconds until the job has ended with probability 50%, given it still runs (never 0)' })),
    p90Ms: Type.Optional(Type.Integer({ minimum: 1, description: 'history: the same at 90%' })),
    p99Ms: Type.Optional(Type.Integer({ minimum: 1, description: 'history: the same at 99%' })),
    length: Type.Optional({ ...QuantilesSchema, description: 'history: quantiles of the whole length (from creation) of jobs like this one, scaled by its size: what a client plans its looks from' }),
    ageMs: Type.Optional(Type.Integer({ minimum: 0, description: 'history: the job\'s age at this answer' })),
    overdue: Type.Optional(Type.Boolean({ description: 'history: the job runs past its p99 by the overdue factor' })),
  },
  { additionalProperties: false, description: 'pending jobs: when the job is expected to end, and on what basis' },
);

/**
 * A job: the one definition of its wire shape. The server's `JobView` is its static type, and
 * `test/job-wire-shape.test.ts` holds the client's zero-dependency `Job` type equal to it.
 */
export const JobSchema = Type.Object(
  {
    id: Type.String({ description: 'job_ followed by a ULID', examples: ['job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2'] }),
    status: JobStatusSchema,
    progress: Type.Number({ minimum: 0, maximum: 1, description: "fraction done: a timer's elapsed share, or what the worker reported (0 until it does)" }),
    etaMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          "milliseconds until the known end (a timer's due time, or the end the worker estimated), as of this answer; absent while no end is known (never 0 for unknown); 0 once final",
      }),
    ),
    createdAt: Type.String({ format: 'date-time' }),
    dueAt: Type.Optional(Type.String({ format: 'date-time', description: "a timer's due time, or the end the worker last estimated; absent when none is known" })),
    updatedAt: Type.String({ format: 'date-time' }),
    duration: Type.Optional(Type.Number({ description: 'seconds a simulated job runs; absent on a reported job (created without duration)' })),
    version: Type.Integer({ minimum: 1, description: 'increases on every change a reader can see (not on a bare heartbeat); the ETag and SSE id carry it' }),
    startedAt: Type.Optional(Type.String({ format: 'date-time', description: "reported jobs: when the worker first reported (absent while no worker has)" })),
    message: Type.Optional(Type.String({ description: "reported jobs: the worker's last short note on what it is doing" })),
    result: Type.Optional(Type.Unknown({ description: 'completed reported jobs: what the worker produced (any JSON value)' })),
    error: Type.Optional(
      Type.Object(
        { code: Type.String(), message: Type.String() },
        { description: "why the job failed: the worker's own code, JOB_FAILED for a simulated failure, JOBWAIT_ERR_JOB_STALLED (no heartbeat within its timeout) or JOBWAIT_ERR_JOB_EXPIRED (not finished within its timeout)" },
      ),
    ),
    heartbeatTimeoutSeconds: Type.Optional(Type.Number({ description: 'reported jobs: a started job with no report for this long fails as JOBWAIT_ERR_JOB_STALLED' })),
    timeoutSeconds: Type.Optional(Type.Number({ description: 'reported jobs: a job not finished this long after its creation fails as JOBWAIT_ERR_JOB_EXPIRED' })),
    metadata: Type.Optional(Metadata()),
    tags: Type.Optional(Type.Array(Type.String(), { description: 'labels given at creation (with its batch\'s)' })),
    kind: Type.Optional(Type.String({ description: 'what kind of work the job is: the server predicts its end from finished jobs of the same kind' })),
    size: Type.Optional(Type.Number({ description: 'how much work the job is (e.g. minutes of video): predictions scale with it' })),
    expectedEnd: Type.Optional(ExpectedEndSchema),
    batchId: Type.Optional(Type.String({ description: 'the batch (POST /v1/batches) that created the job' })),
    callbackUrl: Type.Optional(Type.String()),
    notifyEmail: Type.Optional(Type.String()),
  },
  { $id: 'Job', additionalProperties: false },
);

/** Body of `POST /v1/jobs`: with `duration` a simulated timer, without it a job a worker reports on. */
export const CreateJobBody = Type.Object(
  {
    duration: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'seconds the simulated job runs; leave it out for a job a worker reports on' })),
    outcome: Type.Optional(Type.Union([Type.Literal('completed'), Type.Literal('error')], { description: 'simulated jobs: force the outcome' })),
    heartbeatTimeoutSeconds: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 86_400, description: 'reported jobs: fail as JOBWAIT_ERR_JOB_STALLED when a started job has no report this long (default: never)' }),
    ),
    timeoutSeconds: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 31_536_000, description: "reported jobs: fail as JOBWAIT_ERR_JOB_EXPIRED when still pending this long after creation (default: the server's --job-timeout)" }),
    ),
    webhookEvents: Type.Optional(
      Type.Array(Type.Union([Type.Literal('job.progress'), Type.Literal('job.overdue')]), {
        maxItems: 2,
        uniqueItems: true,
        description: 'extra webhook events: job.progress at most every 500 ms per job; job.overdue once when a job of a known kind runs past its p99 by the overdue factor (final events always go out)',
      }),
    ),
    callbackUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, pattern: '^https?://' })),
    notifyEmail: Type.Optional(Type.String({ minLength: 3, maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' })),
    metadata: Type.Optional(Metadata({ maxProperties: 64 })),
    tags: Type.Optional(TagsSchema),
    kind: Type.Optional(KindSchema),
    size: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_SIZE, description: 'how much work the job is (e.g. minutes of video): a kind is learnt and predicted per unit of size' })),
  },
  { additionalProperties: false },
);
/** Type of {@link CreateJobBody}. */
export type CreateJobBody = Static<typeof CreateJobBody>;

/**
 * Answer of `POST /v1/jobs`: the job, and for a reported job the `reportToken` its worker reports
 * with. Only this answer (and its Idempotency-Key replays) carries the token; no read, list,
 * stream, webhook or email does.
 */
export const CreatedJobSchema = Type.Object(
  {
    ...JobSchema.properties,
    reportToken: Type.Optional(
      Type.String({ description: "reported jobs: the worker's capability for this one job (Authorization: Bearer jwr_… on POST /v1/jobs/{id}/reports); shown only here" }),
    ),
  },
  { additionalProperties: false },
);

/** `:id` of the job routes (shape checked in the service: a malformed id is simply not found). */
export const JobParams = Type.Object({ id: Type.String() });
/** Type of {@link JobParams}. */
export type JobParams = Static<typeof JobParams>;

/** Query of `GET /v1/jobs/{id}`. */
export const GetJobQuery = Type.Object(
  { wait: Type.Optional(Type.Integer({ minimum: 0, description: 'long-poll: seconds to hold until the job changes (capped at 60)' })) },
  { additionalProperties: false },
);
/** Type of {@link GetJobQuery}. */
export type GetJobQuery = Static<typeof GetJobQuery>;

/** Query of `GET /v1/jobs`. */
export const ListJobsQuery = Type.Object(
  {
    status: Type.Optional(JobStatusSchema),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ pattern: '^job_[0-9A-HJKMNP-TV-Z]{26}$', description: 'nextCursor of the previous page' })),
    tag: Type.Optional(tagSchema('only jobs with this tag')),
    batch: Type.Optional(Type.String({ pattern: '^bat_[0-9A-HJKMNP-TV-Z]{26}$', description: 'only jobs of this batch' })),
  },
  { additionalProperties: false },
);
/** Type of {@link ListJobsQuery}. */
export type ListJobsQuery = Static<typeof ListJobsQuery>;

/** A page of jobs. */
export const JobPageSchema = Type.Object({ jobs: Type.Array(Type.Ref('Job')), nextCursor: Type.Optional(Type.String()) });

/** Answer of `GET /v1/jobs/counts`. */
export const JobCountsSchema = Type.Object(
  {
    counts: Type.Object(
      {
        pending: Type.Integer({ minimum: 0 }),
        completed: Type.Integer({ minimum: 0 }),
        error: Type.Integer({ minimum: 0 }),
        canceled: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false, description: "the key's jobs by status, as reads show them at `at`" },
    ),
    total: Type.Integer({ minimum: 0, description: 'the sum of the counts' }),
    progress: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'with ?tag= or ?batch=: the share of those jobs that have ended' })),
    at: Type.String({ format: 'date-time', description: 'when the server counted' }),
  },
  { additionalProperties: false },
);

/** An RFC 9457 problem. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'stable machine-readable code, e.g. JOBWAIT_ERR_JOB_NOT_FOUND' }),
    instance: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

/** Headers the job routes read. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' })),
});

/** One try at sending a delivery. */
export const DeliveryAttemptSchema = Type.Object(
  {
    at: Type.String({ format: 'date-time' }),
    durationMs: Type.Integer({ minimum: 0 }),
    statusCode: Type.Optional(Type.Integer({ description: 'HTTP status (webhook) or SMTP reply code (email)' })),
    error: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** A notification about a job's final state (webhook or email) or, opt-in, its progress (webhook), with its attempts. */
export const DeliverySchema = Type.Object(
  {
    id: Type.String({ description: 'stable across attempts; the webhook-id header', examples: ['msg_job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2_completed'] }),
    kind: Type.Union([Type.Literal('webhook'), Type.Literal('email')]),
    event: Type.Union([Type.Literal('job.completed'), Type.Literal('job.failed'), Type.Literal('job.canceled'), Type.Literal('job.progress'), Type.Literal('job.overdue')], {
      description: 'job.progress only for jobs created with webhookEvents ["job.progress"] (webhooks, at most one per job per --progress-webhook-interval-ms); job.overdue only for jobs created with webhookEvents ["job.overdue"]',
    }),
    target: Type.String({ description: 'URL (webhook) or address (email)' }),
    source: Type.Union([Type.Literal('job'), Type.Literal('tenant')], { description: "the job's callbackUrl/notifyEmail, or the key's default endpoint" }),
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed'), Type.Literal('disabled')]),
    attempts: Type.Array(DeliveryAttemptSchema),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    nextAttemptAt: Type.Optional(Type.String({ format: 'date-time', description: 'while pending: when the next attempt is due at the latest' })),
    note: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** Answer of `GET /v1/jobs/{id}/deliveries`. */
export const DeliveryListSchema = Type.Object({ deliveries: Type.Array(DeliverySchema) }, { additionalProperties: false });

/** Answer of `GET /v1/webhooks/secret`. */
export const WebhookSecretSchema = Type.Object(
  { secret: Type.String({ description: 'whsec_ followed by base64: verify webhook-signature with it (Standard Webhooks)' }) },
  { additionalProperties: false },
);
