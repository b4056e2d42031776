/**
 * `jobwait_http_requests_total` and `jobwait_http_request_duration_seconds`:
 * counted on every answer, so counted with plain numbers (metrics/plain-series.ts):
 * a route × method × status is looked up once and each answer adds to it.
 */
import type { Registry } from 'prom-client';
import { histogramValues, PlainSeries, registerPlainMetric } from './plain-series.js';

/** The two request metrics of one server, registered in its registry. */
export class RequestMetrics {
  private readonly series = new Map<string, PlainSeries>();

  constructor(
    registry: Registry,
    private readonly bounds: readonly number[],
  ) {
    const all = (): PlainSeries[] => [...this.series.values()];
    const duration = 'jobwait_http_request_duration_seconds';
    registerPlainMetric(registry, 'jobwait_http_requests_total', 'HTTP requests answered, by route pattern, method and status', 'counter', () =>
      all().map((s) => ({ labels: s.labels, value: s.count })),
    );
    registerPlainMetric(registry, duration, 'Time to answer a request that was not held (long-polls and event streams are left out)', 'histogram', () =>
      histogramValues(
        duration,
        all().filter((s) => s.timed > 0),
        bounds,
      ),
    );
  }

  /** The series of `route` (a route pattern, never a raw URL), `method` and `status`: keep it, and `add()` to it per answer. */
  of(route: string, method: string, status: number): PlainSeries {
    const name = `${route} ${method} ${status}`;
    let series = this.series.get(name);
    if (!series) this.series.set(name, (series = new PlainSeries({ route, method, status: String(status) }, this.bounds)));
    return series;
  }
}
