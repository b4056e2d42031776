/**
 * The request log: one `request completed` line per request at `debug`
 * (at `info` when the log is for a person: the pretty format on a terminal),
 * and a summary of the requests at `info` once a minute and at close. Writing
 * a JSON line per request synchronously cost about two thirds of the read
 * throughput at the old default (docs/benchmarks.md); a service's log at
 * `info` now says how much it served and how it went, not every request.
 */
import type { FastifyBaseLogger } from 'fastify';

/** How often the summary is written. */
export const SUMMARY_EVERY_MS = 60_000;

/** Options of {@link RequestLog}. */
export interface RequestLogOptions {
  /** Level of the per-request line: `debug` for machines, `info` for a person at a terminal. */
  lineLevel: 'debug' | 'info';
  /**
   * Interval of the summary line, ms; 0 for none but the one at close.
   * @default 60000
   */
  summaryEveryMs?: number;
}

/** Requests counted since the last summary. */
interface Period {
  requests: number;
  /** By status class: `2xx` … `5xx` (1xx and odd codes go with `other`). */
  statuses: Record<'2xx' | '3xx' | '4xx' | '5xx' | 'other', number>;
  /** Slowest plain (not held) answer, ms. */
  slowestMs: number;
}

const emptyPeriod = (): Period => ({ requests: 0, statuses: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 }, slowestMs: 0 });

/** A level check that also works for loggers without pino's `isLevelEnabled` (they get every line). */
function levelCheck(log: FastifyBaseLogger): (level: string) => boolean {
  const check = (log as Partial<{ isLevelEnabled(level: string): boolean }>).isLevelEnabled;
  return typeof check === 'function' ? (level) => check.call(log, level) : () => true;
}

/** Writes the request lines and the summaries of one server. */
export class RequestLog {
  private period = emptyPeriod();
  private total = 0;
  private readonly enabled: (level: string) => boolean;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: FastifyBaseLogger,
    private readonly options: RequestLogOptions,
  ) {
    this.enabled = levelCheck(log);
    const every = options.summaryEveryMs ?? SUMMARY_EVERY_MS;
    if (every > 0) {
      this.timer = setInterval(() => this.summarize(false), every);
      // A summary is no reason to keep the process alive.
      this.timer.unref();
    }
  }

  /**
   * Counts one answered request, and writes its line when that level is on. `ms` is undefined for
   * a held request (long-poll, stream): its duration is a wait, not a response time.
   */
  record(reqId: string, method: string, url: string, statusCode: number, ms: number | undefined): void {
    const period = this.period;
    period.requests++;
    this.total++;
    const statusClass = statusCode >= 200 && statusCode < 600 ? (`${Math.floor(statusCode / 100)}xx` as '2xx') : 'other';
    period.statuses[statusClass]++;
    if (ms !== undefined && ms > period.slowestMs) period.slowestMs = ms;
    const level = this.options.lineLevel;
    if (!this.enabled(level)) return;
    this.log[level]({ reqId, method, url, statusCode, ...(ms === undefined ? { held: true } : { ms: Math.round(ms * 100) / 100 }) }, 'request completed');
  }

  /** Writes the summary of the requests since the last one: skipped when there were none, unless `always`. */
  summarize(always: boolean): void {
    const { requests, statuses, slowestMs } = this.period;
    if (requests === 0 && !always) return;
    this.period = emptyPeriod();
    const counts = Object.fromEntries(Object.entries(statuses).filter(([, n]) => n > 0));
    this.log.info({ requests, ...counts, slowestMs: Math.round(slowestMs * 100) / 100, totalRequests: this.total }, 'requests since the last summary');
  }

  /** Stops the timer and writes the last summary (always, so a run's log ends with its totals). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.summarize(true);
  }
}
