/** The error of a bad option: the binaries print its message and exit 2. */

/** Thrown at start for a bad option; names the option as the user gave it. */
export class ConfigError extends Error {
  readonly code = 'JOBWAIT_ERR_CONFIG';

  constructor(
    /** The option, as named in the message (`max-wait`, `--port`, `JOBWAIT_MAX_WAIT`, `port (in config.json)`). */
    readonly option: string,
    /** What is wrong with it. */
    readonly detail: string,
  ) {
    super(`invalid ${option}: ${detail}`);
    this.name = 'ConfigError';
  }
}
