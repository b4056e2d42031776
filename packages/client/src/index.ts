/**
 * `@jobwait/client`: start long-running jobs and wait on them with the least
 * delay and the fewest requests the server allows. Zero dependencies; Node >= 20 and browsers.
 */
export { JobwaitClient, type CallOptions, type CreateJobOptions, type ListJobsOptions } from './jobs/jobwait-client.js';
export { TimerClient, type StartTimerResponse, type TimerResult, type TimerStatus, type TimerStatusOptions } from './timer/timer-client.js';
export { CLIENT_DEFAULTS, type ClientOptions } from './client-options.js';
export { isJob, isTerminal, type CreateJobInput, type Job, type JobPage, type JobStatus, type TerminalJobStatus } from './jobs/job.js';
export { LONG_POLL_SECONDS, type WaitForJobOptions, type WaitStrategy } from './jobs/wait-for-job.js';
export { STREAM_IDLE_TIMEOUT_MS, StreamUnsupportedError, type StreamJobOptions } from './jobs/job-stream.js';
export { poll, isTransientError, type PollContext, type PollOptions } from './wait/poll.js';
export { Deadline } from './wait/deadline.js';
export { sleep } from './wait/sleep.js';
export { nextPollDelay, normalizeScheduleOptions, SCHEDULE_DEFAULTS, SEED_SCHEDULE, type NormalizedScheduleOptions, type ScheduleOptions } from './wait/schedule.js';
export {
  backoffDelay,
  decideRetry,
  isRetryableFailure,
  normalizeRetryOptions,
  parseRetryAfter,
  MAX_TIMER_DELAY_MS,
  RETRY_DEFAULTS,
  type AttemptFailure,
  type NormalizedRetryOptions,
  type RetryDecision,
  type RetryOptions,
} from './retry/retry-policy.js';
export { SseParser, readServerSentEvents, type ServerSentEvent } from './sse/parser.js';
export { Transport, type FetchLike, type HttpAnswer, type RequestSpec } from './http/transport.js';
export {
  AbortError,
  AttemptsExhaustedError,
  BadResponseError,
  HttpError,
  InvalidOptionError,
  JobwaitError,
  NetworkError,
  RequestTimeoutError,
  TimeoutError,
  hasErrorCode,
  isJobwaitError,
  type JobwaitErrorCode,
  type ProblemBody,
} from './errors/errors.js';
