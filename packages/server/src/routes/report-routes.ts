/**
 * `POST /v1/jobs/{id}/reports`: a worker's report, authorized by the job's report token (not an
 * API key). The token is checked before the job is looked up, so a wrong token says nothing of
 * which jobs exist; the decision is the state machine's (jobs/transition.ts). The body limit of
 * this route follows `--max-result-bytes`, while other routes keep `--body-limit`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ReportTokens } from '../auth/report-token.js';
import {
  BadRequestError,
  JobNotFoundError,
  ReportConflictError,
  ReportTokenError,
  ReportTokenMissingError,
  ResultTooLargeError,
  ServerError,
} from '../errors/errors.js';
import { jobHeaders } from '../http/job-answer.js';
import { jobView } from '../jobs/job-record.js';
import type { JobService } from '../jobs/job-service.js';
import type { RateLimiter, RateLimitPolicy } from '../ratelimit/rate-limiter.js';
import { parseReportBody, ReportBody, reportBodyLimit } from './report-schemas.js';
import { JobParams, ProblemSchema } from './schemas.js';

/** Options of {@link reportRoutes}. */
export interface ReportRoutesOptions {
  service: JobService;
  /** The report tokens (loaded from the engine on first use). */
  tokens: () => Promise<ReportTokens>;
  /** Largest result, in bytes of JSON. */
  maxResultBytes: number;
  /** Each job's own bucket of reports (a runaway worker slows down alone); `undefined` for none. */
  limiter?: RateLimiter | undefined;
  policy?: RateLimitPolicy | undefined;
}

/** A 409 of a report: the problem, and the job as it ended (or was canceled), so the worker knows what became of it. */
const ReportConflictSchema = Type.Object(
  { ...ProblemSchema.properties, job: Type.Unsafe<unknown>({ $ref: 'Job#' }) },
  {
    additionalProperties: true,
    description: 'code JOBWAIT_ERR_JOB_FINISHED (a different final report), JOBWAIT_ERR_JOB_CANCELED (stop working) or JOBWAIT_ERR_JOB_SIMULATED (a timer), with the job',
  },
);

const problems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ReportConflictSchema, 413: ProblemSchema, 429: ProblemSchema };

/** Registers the report route. */
export async function reportRoutes(app: FastifyInstance, options: ReportRoutesOptions): Promise<void> {
  const { service, tokens, maxResultBytes } = options;
  app.removeContentTypeParser('text/plain');

  app.post<{ Params: JobParams; Body: ReportBody }>(
    '/v1/jobs/:id/reports',
    {
      bodyLimit: reportBodyLimit(maxResultBytes),
      // Checked before the body is read: a wrong token costs no parse of a large result.
      onRequest: async (request) => {
        const token = bearerToken(request);
        if (token === undefined) throw new ReportTokenMissingError();
        if (!(await tokens()).verify((request.params as JobParams).id, token)) throw new ReportTokenError();
      },
      schema: {
        summary: "Report on a job as its worker (progress, heartbeat, completed with a result, failed with an error), with the job's report token",
        description:
          'Authorization: Bearer <reportToken of the create>. Any report is a heartbeat. A final report repeated with the same content answers 200; ' +
          'a different one 409 JOBWAIT_ERR_JOB_FINISHED; a report to a canceled job 409 JOBWAIT_ERR_JOB_CANCELED (stop working): both carry the job. ' +
          'A progress or heartbeat older (by `at`) than the last applied is ignored.',
        params: JobParams,
        body: ReportBody,
        security: [{ reportToken: [] }],
        response: { 200: { $ref: 'Job#' }, ...problems },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const parsed = parseReportBody(request.body, maxResultBytes);
      if ('problem' in parsed) {
        if (parsed.problem.kind === 'result-too-large') throw new ResultTooLargeError(parsed.problem.bytes, parsed.problem.limit);
        throw new BadRequestError(parsed.problem.message);
      }
      if (options.limiter && options.policy) {
        const decision = await options.limiter.take(`report:${id}`, options.policy);
        if (!decision.allowed) {
          reply.header('retry-after', String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))));
          throw new ServerError('JOBWAIT_ERR_RATE_LIMITED', `this job's reports are limited to ${options.policy.perSecond}/s (burst ${options.policy.burst}); report less often`);
        }
      }
      const result = await service.report(id, parsed.report);
      if (result.kind === 'missing') throw new JobNotFoundError(id);
      const now = service.now();
      const view = jobView(result.job, now);
      if (result.kind === 'finished') throw new ReportConflictError('JOBWAIT_ERR_JOB_FINISHED', id, view);
      if (result.kind === 'canceled') throw new ReportConflictError('JOBWAIT_ERR_JOB_CANCELED', id, view);
      if (result.kind === 'simulated') throw new ReportConflictError('JOBWAIT_ERR_JOB_SIMULATED', id, view);
      reply.headers(jobHeaders(result.job, now));
      return reply.code(200).send(view);
    },
  );
}

/** The `jwr_…` token of `Authorization: Bearer`, or undefined when there is none. */
function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  // Any other bearer (an API key) is no report token: ReportTokens.verify refuses it, a 403.
  return match ? match[1] : undefined;
}
