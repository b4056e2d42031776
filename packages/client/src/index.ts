/**
 * `@jobwait/client`: start long-running jobs and wait on them with the least
 * delay and the fewest requests the server allows. Zero dependencies; Node >= 20 and browsers.
 *
 * The public surface is the two clients, the generic `poll()`, the errors with
 * their guards, and the types of what goes in and comes out. How requests are
 * sent and retried stays private; jobwait's own dashboard and benchmarks reach
 * a few building blocks through `@jobwait/client/internal`, which is not stable.
 */
export { JobwaitClient } from './jobs/jobwait-client.js';
export { TimerClient, type TimerStatus, type TimerStatusOptions } from './timer/timer-client.js';
export { poll, type PollOptions } from './wait/poll.js';
export type { ClientOptions } from './client-options.js';
export type { Batch, CreatedBatch, CreatedJob, CreateJobInput, DurationQuantiles, ExpectedEnd, Job, JobPage, JobStatus, SetCounts } from './jobs/job.js';
export type { JobSet, JobsWait, WaitForJobsOptions } from './jobs/wait-for-jobs.js';
export type { WaitForJobOptions, WaitStrategy } from './jobs/wait-for-job.js';
export type { FailureInput, JobReporter, JobReporterOptions, ProgressDetails } from './report/job-reporter.js';
export type { ScheduleOptions } from './wait/schedule.js';
export type { PredictedScheduleOptions } from './wait/predicted-schedule.js';
export {
  AbortError,
  AttemptsExhaustedError,
  BadResponseError,
  HttpError,
  InvalidOptionError,
  JobCanceledError,
  JobwaitError,
  NetworkError,
  RequestTimeoutError,
  TimeoutError,
  hasErrorCode,
  isJobwaitError,
  type JobwaitErrorCode,
} from './errors/errors.js';
