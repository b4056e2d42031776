/**
 * `jobwait_http_requests_total` and `jobwait_http_request_duration_seconds`:
 * counted on every answer, so counted cheaply. prom-client validates and
 * hashes the labels on every `inc()` and `observe()` (~3 µs, a tenth of a
 * hot read in bench/server, issue 8); here a route × method × status is looked
 * up once and each answer adds to plain numbers. The registry reads them at
 * scrape time through the same `get()` its own metrics answer, so the
 * exposition is prom-client's.
 */
import type { Metric, MetricValueWithName, Registry } from 'prom-client';

/** The answers of one route pattern, method and status. */
export class RequestSeries {
  /** Answers, held or not. */
  count = 0;
  /** Answers timed (not held), their total seconds, and how many fell in each bucket (not cumulative; the last is +Inf). */
  timed = 0;
  sum = 0;
  readonly buckets: Float64Array;

  constructor(
    readonly labels: Readonly<{ route: string; method: string; status: string }>,
    private readonly bounds: readonly number[],
  ) {
    this.buckets = new Float64Array(bounds.length + 1);
  }

  /** Counts one answer, timed unless it was held (`seconds` undefined). */
  add(seconds: number | undefined): void {
    this.count++;
    if (seconds === undefined) return;
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.buckets[i]!++;
    this.timed++;
    this.sum += seconds;
  }
}

/** The two request metrics of one server, registered in its registry. */
export class RequestMetrics {
  private readonly series = new Map<string, RequestSeries>();

  constructor(registry: Registry, bounds: readonly number[]) {
    const all = (): RequestSeries[] => [...this.series.values()];
    const count = 'jobwait_http_requests_total';
    const duration = 'jobwait_http_request_duration_seconds';
    register(registry, count, 'HTTP requests answered, by route pattern, method and status', 'counter', () =>
      all().map((s) => ({ labels: s.labels, value: s.count })),
    );
    register(registry, duration, 'Time to answer a request that was not held (long-polls and event streams are left out)', 'histogram', () =>
      all()
        .filter((s) => s.timed > 0)
        .flatMap((s) => {
          const values: MetricValueWithName<string>[] = [];
          let cumulative = 0;
          bounds.forEach((le, i) => {
            cumulative += s.buckets[i]!;
            values.push({ metricName: `${duration}_bucket`, labels: { ...s.labels, le }, value: cumulative });
          });
          values.push({ metricName: `${duration}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.timed });
          values.push({ metricName: `${duration}_sum`, labels: s.labels, value: s.sum });
          values.push({ metricName: `${duration}_count`, labels: s.labels, value: s.timed });
          return values;
        }),
    );
    this.bounds = bounds;
  }

  private readonly bounds: readonly number[];

  /** The series of `route` (a route pattern, never a raw URL), `method` and `status`: keep it, and `add()` to it per answer. */
  of(route: string, method: string, status: number): RequestSeries {
    const name = `${route} ${method} ${status}`;
    let series = this.series.get(name);
    if (!series) this.series.set(name, (series = new RequestSeries({ route, method, status: String(status) }, this.bounds)));
    return series;
  }
}

/**
 * Adds a metric that the registry reads like its own: it asks every metric for `get()` (name, help,
 * type, values) when scraped. Only those members are read, hence the cast to prom-client's `Metric`.
 */
function register(registry: Registry, name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValueWithName<string>[]): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    reset: () => undefined,
  };
  registry.registerMetric(metric as unknown as Metric);
}
