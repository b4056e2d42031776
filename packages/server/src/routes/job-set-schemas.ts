/**
 * JSON schemas of many jobs at once: batches, lookups by id, counts of a tag or batch,
 * and watches (a set of jobs made with a POST, waited on with a long-poll or an event stream).
 */
import { Type, type Static } from 'typebox';
import { MAX_SET_IDS } from '../jobs/job-set.js';
import { CreatedJobSchema, CreateJobBody, tagSchema, TagsSchema } from './schemas.js';

/** Shape of a batch id. */
const BATCH_ID = '^bat_[0-9A-HJKMNP-TV-Z]{26}$';

/** Counts of a set of jobs, after OpenAI's batch `request_counts`. */
export const SetCountsSchema = Type.Object(
  {
    total: Type.Integer({ minimum: 0 }),
    pending: Type.Integer({ minimum: 0 }),
    completed: Type.Integer({ minimum: 0 }),
    error: Type.Integer({ minimum: 0 }),
    canceled: Type.Integer({ minimum: 0 }),
    progress: Type.Number({ minimum: 0, maximum: 1, description: 'share of the jobs that have ended (1 for an empty set)' }),
  },
  { additionalProperties: false, description: 'jobs by status as reads show them now (a job past its due time counts as its outcome)' },
);

/** Body of `POST /v1/batches`. */
export const CreateBatchBody = Type.Object(
  {
    jobs: Type.Array(CreateJobBody, { minItems: 1, maxItems: MAX_SET_IDS, description: `1 to ${MAX_SET_IDS} jobs, each as POST /v1/jobs takes it` }),
    tags: Type.Optional(TagsSchema),
  },
  { additionalProperties: false },
);
/** Type of {@link CreateBatchBody}. */
export type CreateBatchBody = Static<typeof CreateBatchBody>;

/** A batch with its counts. */
export const BatchSchema = Type.Object(
  {
    id: Type.String({ description: 'bat_ followed by a ULID' }),
    createdAt: Type.String({ format: 'date-time' }),
    total: Type.Integer({ minimum: 1, description: 'jobs created with the batch' }),
    tags: Type.Optional(Type.Array(Type.String())),
    counts: SetCountsSchema,
  },
  { additionalProperties: false },
);

/** Answer of `POST /v1/batches`. */
export const CreatedBatchSchema = Type.Object(
  { batch: BatchSchema, jobs: Type.Array(CreatedJobSchema, { description: 'in the order of the request' }) },
  { additionalProperties: false },
);

/** `:id` of the batch routes. */
export const BatchParams = Type.Object({ id: Type.String() });
/** Type of {@link BatchParams}. */
export type BatchParams = Static<typeof BatchParams>;

/** `:tag` of the tag routes. */
export const TagParams = Type.Object({ tag: tagSchema('the tag') });
/** Type of {@link TagParams}. */
export type TagParams = Static<typeof TagParams>;

/** Ids of jobs named in a body. */
const Ids = Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: MAX_SET_IDS, description: `1 to ${MAX_SET_IDS} job ids` });

/** Body of `POST /v1/jobs/lookup`. */
export const LookupBody = Type.Object({ ids: Ids }, { additionalProperties: false });
/** Type of {@link LookupBody}. */
export type LookupBody = Static<typeof LookupBody>;

/** Answer of `POST /v1/jobs/lookup`. */
export const LookupSchema = Type.Object(
  { jobs: Type.Array(Type.Ref('Job'), { description: "the key's jobs among the ids, in their order; another key's and unknown ids are simply absent" }) },
  { additionalProperties: false },
);

/** Query of `GET /v1/jobs/counts`. */
export const CountsQuery = Type.Object(
  { tag: Type.Optional(tagSchema('count only jobs with this tag')), batch: Type.Optional(Type.String({ pattern: BATCH_ID, description: 'count only jobs of this batch' })) },
  { additionalProperties: false },
);
/** Type of {@link CountsQuery}. */
export type CountsQuery = Static<typeof CountsQuery>;

/** Body of `POST /v1/watches`: exactly one of `ids`, `tag`, `batch`. */
export const CreateWatchBody = Type.Object(
  { ids: Type.Optional(Ids), tag: Type.Optional(tagSchema('watch the jobs with this tag')), batch: Type.Optional(Type.String({ pattern: BATCH_ID, description: 'watch the jobs of this batch' })) },
  { additionalProperties: false, minProperties: 1, maxProperties: 1 },
);
/** Type of {@link CreateWatchBody}. */
export type CreateWatchBody = Static<typeof CreateWatchBody>;

/** A watch. */
export const WatchSchema = Type.Object(
  {
    id: Type.String({ description: 'wch_ followed by a ULID' }),
    createdAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time', description: 'the watch (not its jobs) is gone after this' }),
    ids: Type.Optional(Type.Array(Type.String())),
    tag: Type.Optional(Type.String()),
    batch: Type.Optional(Type.String()),
    counts: SetCountsSchema,
    events: Type.String({ description: 'path of its event stream (GET, text/event-stream)' }),
  },
  { additionalProperties: false },
);

/** `:id` of the watch routes. */
export const WatchParams = Type.Object({ id: Type.String() });
/** Type of {@link WatchParams}. */
export type WatchParams = Static<typeof WatchParams>;

/** When a long-poll over a set answers. */
export const UntilSchema = Type.Union([Type.Literal('change'), Type.Literal('end'), Type.Literal('all')], {
  description: 'change: when any job of the set changes; end: when any ends; all: when all have ended',
});

/** Query of `GET /v1/watches/{id}` (the long-poll over a set). */
export const WatchPollQuery = Type.Object(
  {
    wait: Type.Optional(Type.Integer({ minimum: 0, description: 'seconds to hold (capped at the server\'s max wait); also Prefer: wait=N' })),
    until: Type.Optional(UntilSchema),
    after: Type.Optional(Type.String({ pattern: '^\\d{1,15}$', description: 'the cursor of the previous answer: only changes after it count and show' })),
  },
  { additionalProperties: false },
);
/** Type of {@link WatchPollQuery}. */
export type WatchPollQuery = Static<typeof WatchPollQuery>;

/** Answer of the long-poll over a set. */
export const WatchPollSchema = Type.Object(
  {
    watch: Type.String(),
    counts: SetCountsSchema,
    done: Type.Boolean({ description: 'every job of the set has ended' }),
    cursor: Type.String({ description: 'pass as `after` to hear only of what changes next' }),
    jobs: Type.Array(Type.Ref('Job'), { description: 'jobs of the set that changed after `after` (every job that has ended, without it)' }),
  },
  { additionalProperties: false },
);

