/**
 * Metrics counted with plain numbers, for what is counted per answer or per
 * waiter. prom-client validates and hashes the labels on every `inc()` and
 * `observe()`; here one label set is resolved once and each event adds to
 * numbers. The registry reads them at scrape time through the same `get()`
 * its own metrics answer, so the exposition is prom-client's.
 */
import type { Metric, MetricValueWithName, Registry } from 'prom-client';

/** The events of one label set: counted, and timed into histogram buckets. */
export class PlainSeries {
  /** Events, timed or not. */
  count = 0;
  /** Events timed, their total seconds, and how many fell in each bucket (not cumulative; the last is +Inf). */
  timed = 0;
  sum = 0;
  readonly buckets: Float64Array;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.buckets = new Float64Array(bounds.length + 1);
  }

  /** Counts one event, timed unless `seconds` is undefined. */
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

/** The histogram samples of `series` named `name` (`_bucket` cumulative with `le`, `_sum`, `_count`), as prom-client writes them. */
export function histogramValues(name: string, series: Iterable<PlainSeries>, bounds: readonly number[]): MetricValueWithName<string>[] {
  const values: MetricValueWithName<string>[] = [];
  for (const s of series) {
    let cumulative = 0;
    bounds.forEach((le, i) => {
      cumulative += s.buckets[i]!;
      values.push({ metricName: `${name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
    });
    values.push({ metricName: `${name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.timed });
    values.push({ metricName: `${name}_sum`, labels: s.labels, value: s.sum });
    values.push({ metricName: `${name}_count`, labels: s.labels, value: s.timed });
  }
  return values;
}

/**
 * Adds a metric that the registry reads like its own: it asks every metric for `get()` (name, help,
 * type, values) when scraped. Only those members are read, hence the cast to prom-client's `Metric`.
 */
export function registerPlainMetric(registry: Registry, name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValueWithName<string>[]): void {
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
