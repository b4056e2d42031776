/**
 * `@jobwait/client/internal`: building blocks of the client that jobwait's own
 * dashboard, benchmarks and tests reuse (the SSE parser, the job guards, the
 * polling schedule, the retry decision).
 *
 * NOT A STABLE API: anything here may change or disappear in any release,
 * without a major version. Applications import from `@jobwait/client`.
 */
export type { FetchLike } from './http/transport.js';
export { STREAM_IDLE_TIMEOUT_MS } from './jobs/job-stream.js';
export { isJob, isTerminal, type TerminalJobStatus } from './jobs/job.js';
export { predictedRange } from './jobs/predicted-range.js';
export {
  MAX_TIMER_DELAY_MS,
  RETRY_DEFAULTS,
  backoffDelay,
  decideRetry,
  normalizeRetryOptions,
  parseRetryAfter,
  type AttemptFailure,
  type NormalizedRetryOptions,
  type RetryDecision,
  type RetryOptions,
} from './retry/retry-policy.js';
export { SseParser, readServerSentEvents, type ServerSentEvent } from './sse/parser.js';
export { SCHEDULE_DEFAULTS, SEED_SCHEDULE, nextPollDelay, normalizeScheduleOptions, type NormalizedScheduleOptions } from './wait/schedule.js';
export { sleep } from './wait/sleep.js';
export { EndDistribution, isEndPrediction, normalCdf, type EndPrediction } from './wait/end-distribution.js';
export {
  PREDICTED_SCHEDULE_DEFAULTS,
  nextPredictedDelay,
  normalizePredictedScheduleOptions,
  type NormalizedPredictedScheduleOptions,
  type PredictedLength,
  type PredictedScheduleOptions,
  type PredictedWaitState,
} from './wait/predicted-schedule.js';
