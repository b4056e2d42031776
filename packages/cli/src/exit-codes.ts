/** Exit codes of the `jobwait` command, stable for scripts. */
export const EXIT = Object.freeze({
  /** The job completed (or the command succeeded). */
  ok: 0,
  /** The job ended in `error` or `canceled`. */
  jobFailed: 1,
  /** Bad command line. */
  usage: 2,
  /** The wait reached `--timeout`. */
  timeout: 3,
  /** The server could not be reached or refused the request. */
  requestFailed: 4,
  /** Interrupted by Ctrl-C. */
  interrupted: 130,
});

/** A command-line mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
