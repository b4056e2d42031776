/**
 * The worker's report, `POST /v1/jobs/{id}/reports` (TypeBox), and the rules across its members
 * that a JSON schema says poorly: which event may carry a result or an error, a real `at`, and
 * a result within the size limit. Fastify validates the schema; {@link parseReportBody} the rest.
 */
import { Type, type Static } from 'typebox';
import type { Report } from '../jobs/transition.js';

/** Longest `message` a worker may report. */
export const MAX_REPORT_MESSAGE_LENGTH = 1000;

/** Room the report body takes beyond its `result`: the route's body limit is the result limit plus this. */
export const REPORT_BODY_OVERHEAD_BYTES = 16 * 1024;

/** RFC 3339 date-time with a zone, as `toISOString()` writes it (ajv here checks patterns, not formats). */
const DATE_TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$';

/** How a job failed: a stable code of the worker's choosing and a message for people. */
export const JobErrorSchema = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 100, pattern: '^[\\x21-\\x7e]+$', description: 'stable machine-readable code, e.g. ASR_TIMEOUT' }),
    message: Type.String({ maxLength: MAX_REPORT_MESSAGE_LENGTH }),
  },
  { additionalProperties: false },
);

/** What happened, as the worker reports it. */
export const ReportEventSchema = Type.Union(
  [Type.Literal('started'), Type.Literal('progress'), Type.Literal('heartbeat'), Type.Literal('completed'), Type.Literal('failed')],
  { description: 'started / progress / heartbeat keep the job pending (any report is a heartbeat); completed / failed end it' },
);

/** Body of `POST /v1/jobs/{id}/reports`. */
export const ReportBody = Type.Object(
  {
    event: ReportEventSchema,
    progress: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'fraction done' })),
    message: Type.Optional(Type.String({ maxLength: MAX_REPORT_MESSAGE_LENGTH, description: 'what the worker is doing, shown to people' })),
    etaSeconds: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 31_536_000, description: 'seconds from `at` until the worker expects to finish; omit when unknown (never 0 for unknown)' }),
    ),
    result: Type.Optional(Type.Unknown({ description: 'only with completed: what the job produced, any JSON value, within --max-result-bytes' })),
    error: Type.Optional(JobErrorSchema),
    at: Type.Optional(Type.String({ pattern: DATE_TIME_PATTERN, description: 'when the worker observed this; orders reports that arrive out of order (default: arrival)' })),
  },
  { additionalProperties: false },
);
/** Type of {@link ReportBody}. */
export type ReportBody = Static<typeof ReportBody>;

/** `Authorization: Bearer jwr_…` of the report route (checked by the route, so it may be absent here). */
export const ReportHeaders = Type.Object({ authorization: Type.Optional(Type.String()) });

/** Why a report body that fits the schema cannot be applied. */
export type ReportBodyProblem = { kind: 'invalid'; message: string } | { kind: 'result-too-large'; bytes: number; limit: number };

/**
 * The {@link Report} a schema-valid body stands for, or the problem with it: `result` only with
 * `completed`, `error` only with `failed`, an `at` that is a real time, and a result whose JSON
 * is at most `maxResultBytes` bytes (a 413, never a truncation).
 */
export function parseReportBody(body: ReportBody, maxResultBytes: number): { report: Report } | { problem: ReportBodyProblem } {
  if (body.result !== undefined && body.event !== 'completed') return invalid('result is only allowed with event "completed"');
  if (body.error !== undefined && body.event !== 'failed') return invalid('error is only allowed with event "failed"');
  let at: number | undefined;
  if (body.at !== undefined) {
    at = Date.parse(body.at);
    if (!Number.isFinite(at)) return invalid(`at is not a valid date-time: ${JSON.stringify(body.at)}`);
  }
  if (body.result !== undefined) {
    const bytes = Buffer.byteLength(JSON.stringify(body.result));
    if (bytes > maxResultBytes) return { problem: { kind: 'result-too-large', bytes, limit: maxResultBytes } };
  }
  const report: Report = { event: body.event };
  if (body.progress !== undefined) report.progress = body.progress;
  if (body.message !== undefined) report.message = body.message;
  if (body.etaSeconds !== undefined) report.etaSeconds = body.etaSeconds;
  if (body.result !== undefined) report.result = body.result;
  if (body.error !== undefined) report.error = { code: body.error.code, message: body.error.message };
  if (at !== undefined) report.at = at;
  return { report };
}

/** Body limit of the report route for a result limit: the result plus room for the other members. */
export function reportBodyLimit(maxResultBytes: number): number {
  return maxResultBytes + REPORT_BODY_OVERHEAD_BYTES;
}

function invalid(message: string): { problem: ReportBodyProblem } {
  return { problem: { kind: 'invalid', message } };
}
