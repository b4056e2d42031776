/**
 * Request loggers made on their first line. Fastify makes a pino child logger for every request,
 * and pino runs each child's bindings (`reqId`) through the redaction of `log-options.ts`, whose
 * wildcard paths (`*.authorization`, ...) match every key: about 5% of the CPU of a
 * `GET /v1/jobs/{id}` at `--log-level warn` (bench/server), for a logger that most
 * requests never write with. The real child is made when a line is logged at an enabled level,
 * or when anything else of it is used.
 */
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

/** Fastify's `childLoggerFactory` option (the type itself is not exported by fastify). */
type ChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>;

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** pino's level check; loggers without one (custom `loggerInstance`s) get their child made at once. */
type LevelAware = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };

/** A request's logger that makes its pino child only when it is needed. */
export class LazyChildLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: LevelAware & { isLevelEnabled: (level: string) => boolean },
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return (this.made ?? this.parent).level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  fatal(...args: unknown[]): void {
    this.log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.log('error', args);
  }
  warn(...args: unknown[]): void {
    this.log('warn', args);
  }
  info(...args: unknown[]): void {
    this.log('info', args);
  }
  debug(...args: unknown[]): void {
    this.log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.log('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  private log(level: Level, args: unknown[]): void {
    if (!this.made && !this.parent.isLevelEnabled(level)) return;
    const logger = this.real();
    (logger[level] as (...a: unknown[]) => void).apply(logger, args);
  }

  private real(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }
}

/**
 * Fastify's `childLoggerFactory`: a {@link LazyChildLogger}, or the plain child when the route
 * sets its own level or serializers (the child then differs from its parent from the start).
 * @example Fastify({ logger: jobwaitLoggerOptions('warn'), childLoggerFactory: lazyChildLoggerFactory })
 */
export const lazyChildLoggerFactory: ChildLoggerFactory = function (logger, bindings, options) {
  const parent = logger as LevelAware;
  if (options.level !== undefined || options.serializers !== undefined || typeof parent.isLevelEnabled !== 'function') return logger.child(bindings, options);
  return new LazyChildLogger(parent as LevelAware & { isLevelEnabled: (level: string) => boolean }, bindings, options);
};
