/**
 * Issue 9: `GET /metrics` moves as a job lives — created, waited on by a
 * long-poll and a stream, finished, how late the waiters learnt of it, its
 * webhook delivered — plus rate-limit rejections, store errors, route labels
 * and the token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Job } from '@jobwait/client';
import { openEngine, SERVER_DEFAULTS, type JobStore } from '@jobwait/server';
import { metricValue, parseMetrics, scrape, type Sample } from './helpers/prometheus.js';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';
import { startWebhookReceiver } from './helpers/webhook-receiver.js';

/** Scrapes until `check` passes (the gauges follow requests the server is still taking in). */
async function until(url: string, check: (samples: Sample[]) => boolean, what: string, timeoutMs = 15_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape(url);
    if (check(samples)) return samples;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}

async function createJob(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Job> {
  const res = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as Job;
}

describe('GET /metrics', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ store: 'memory' });
  });
  after(() => server.close());

  it('serves the Prometheus text format with process metrics, event-loop delay included', async () => {
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.ok(res.headers.get('x-request-id'), 'carries a request id like every answer');
    const samples = parseMetrics(await res.text());
    for (const name of ['nodejs_eventloop_lag_p99_seconds', 'process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes', 'jobwait_waiters']) {
      assert.ok(samples.some((s) => s.name === name), `${name} is exposed`);
    }
  });

  it("follows a job's life: created once, held by a long-poll and a stream, finished, waiters woken", async () => {
    const before = await scrape(server.url);
    const created0 = metricValue(before, 'jobwait_jobs_created_total');
    const completed0 = metricValue(before, 'jobwait_jobs_finished_total', { outcome: 'completed' });

    const job = await createJob(server.url, { duration: 1.5 }, { 'idempotency-key': 'metrics-life' });
    await createJob(server.url, { duration: 1.5 }, { 'idempotency-key': 'metrics-life' }); // a replay is not a new job
    let samples = await scrape(server.url);
    assert.equal(metricValue(samples, 'jobwait_jobs_created_total') - created0, 1, 'one job created, the replay not counted');
    assert.equal(metricValue(samples, 'jobwait_http_requests_total', { route: '/v1/jobs', method: 'POST', status: '201' }), 2);

    const longPoll = fetch(`${server.url}/v1/jobs/${job.id}`, { headers: { prefer: 'wait=30' } });
    const stream = fetch(`${server.url}/v1/jobs/${job.id}/events`).then((res) => res.text());
    samples = await until(
      server.url,
      (s) => metricValue(s, 'jobwait_waiters', { transport: 'long-poll' }) === 1 && metricValue(s, 'jobwait_waiters', { transport: 'sse' }) === 1,
      'one long-poll and one stream held',
    );
    assert.equal(metricValue(samples, 'jobwait_jobs_finished_total', { outcome: 'completed' }), completed0, 'not finished yet');

    const answer = (await (await longPoll).json()) as Job;
    assert.equal(answer.status, 'completed');
    assert.match(await stream, /"status":"completed"/);
    samples = await until(server.url, (s) => metricValue(s, 'jobwait_waiters', { transport: 'sse' }) === 0, 'the stream to close');
    assert.equal(metricValue(samples, 'jobwait_waiters', { transport: 'long-poll' }), 0);
    assert.equal(metricValue(samples, 'jobwait_jobs_finished_total', { outcome: 'completed' }) - completed0, 1);

    for (const transport of ['long-poll', 'sse']) {
      assert.equal(metricValue(samples, 'jobwait_wake_delay_seconds_count', { transport }), 1, `one ${transport} wake observed`);
      const seconds = metricValue(samples, 'jobwait_wake_delay_seconds_sum', { transport });
      assert.ok(seconds >= 0 && seconds < 5, `${transport} woke ${seconds} s after dueAt`);
    }
    // The held long-poll is counted as a request but kept out of the latency histogram.
    assert.equal(metricValue(samples, 'jobwait_http_requests_total', { route: '/v1/jobs/:id', method: 'GET', status: '200' }), 1);
    assert.equal(metricValue(samples, 'jobwait_http_request_duration_seconds_count', { route: '/v1/jobs/:id', method: 'GET' }), 0);
    assert.ok(metricValue(samples, 'jobwait_http_request_duration_seconds_count', { route: '/v1/jobs', method: 'POST', status: '201' }) >= 2);
  });

  it('counts finished jobs by outcome: error and canceled', async () => {
    const before = await scrape(server.url);
    const failing = await createJob(server.url, { duration: 0.2, outcome: 'error' });
    const doomed = await createJob(server.url, { duration: 60 });
    assert.equal((await fetch(`${server.url}/v1/jobs/${doomed.id}`, { method: 'DELETE' })).status, 200);
    const answer = (await (await fetch(`${server.url}/v1/jobs/${failing.id}?wait=30`)).json()) as Job;
    assert.equal(answer.status, 'error');
    const samples = await until(server.url, (s) => metricValue(s, 'jobwait_jobs_finished_total', { outcome: 'error' }) > metricValue(before, 'jobwait_jobs_finished_total', { outcome: 'error' }), 'the error');
    assert.equal(metricValue(samples, 'jobwait_jobs_finished_total', { outcome: 'error' }) - metricValue(before, 'jobwait_jobs_finished_total', { outcome: 'error' }), 1);
    assert.equal(metricValue(samples, 'jobwait_jobs_finished_total', { outcome: 'canceled' }) - metricValue(before, 'jobwait_jobs_finished_total', { outcome: 'canceled' }), 1);
  });

  it('labels requests by route pattern, and unmatched paths as "unmatched", never by raw URL', async () => {
    await (await fetch(`${server.url}/v1/jobs/job_01ARZ3NDEKTSV4RRFFQ69G5FAV`)).arrayBuffer();
    await (await fetch(`${server.url}/no/such/path/42`)).arrayBuffer();
    const samples = await scrape(server.url);
    assert.ok(metricValue(samples, 'jobwait_http_requests_total', { route: '/v1/jobs/:id', method: 'GET', status: '404' }) >= 1);
    assert.ok(metricValue(samples, 'jobwait_http_requests_total', { route: 'unmatched', status: '404' }) >= 1);
    const routes = new Set(samples.filter((s) => s.name === 'jobwait_http_requests_total').map((s) => s.labels.route));
    for (const route of routes) assert.ok(!/job_|\/42/.test(route ?? ''), `route label ${route} is a pattern`);
  });

  it('keeps one registry per server: a second server in the same process starts from zero', async () => {
    const other = await startTestServer({ store: 'memory' });
    try {
      const samples = await scrape(other.url);
      assert.equal(metricValue(samples, 'jobwait_jobs_created_total'), 0);
      assert.ok(metricValue(await scrape(server.url), 'jobwait_jobs_created_total') >= 3);
    } finally {
      await other.close();
    }
  });
});

describe('webhook deliveries', () => {
  it('counts each attempt by result: a failed one that will be retried, then the delivery', async () => {
    const receiver = await startWebhookReceiver((n) => ({ status: n === 0 ? 503 : 204 }));
    const server = await startTestServer({ store: 'memory', webhookAllowHosts: ['127.0.0.1'], webhookRetryScheduleMs: [20, 20] });
    try {
      await createJob(server.url, { duration: 0.05, callbackUrl: `${receiver.url}/hook` });
      await receiver.waitFor(2, 15_000);
      const samples = await until(server.url, (s) => metricValue(s, 'jobwait_deliveries_total', { kind: 'webhook', result: 'delivered' }) === 1, 'the delivery');
      assert.equal(metricValue(samples, 'jobwait_deliveries_total', { kind: 'webhook', result: 'retrying' }), 1);
      assert.equal(metricValue(samples, 'jobwait_deliveries_total', { result: 'failed' }), 0);
      assert.equal(metricValue(samples, 'jobwait_jobs_finished_total', { outcome: 'completed' }), 1);
    } finally {
      await server.close();
      await receiver.close();
    }
  });
});

describe('rate-limit rejections', () => {
  it('counts every 429 in jobwait_rate_limited_total, per IP when open', async () => {
    const server = await startTestServer({ store: 'memory', rateLimit: 0.1, rateBurst: 2 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${server.url}/v1/jobs`);
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      const refused = statuses.filter((s) => s === 429).length;
      assert.equal(refused, 3, `statuses ${statuses.join(',')}`);
      // /metrics is public: scraping is never rate-limited.
      const samples = await scrape(server.url);
      assert.equal(metricValue(samples, 'jobwait_rate_limited_total', { scope: 'ip' }), refused);
      assert.equal(metricValue(samples, 'jobwait_http_requests_total', { route: '/v1/jobs', status: '429' }), refused);
    } finally {
      await server.close();
    }
  });
});

/** A memory engine whose job store fails on demand, the way a broken disk or a lost Redis would. */
function flakyEngine() {
  const engine = openEngine({ ...SERVER_DEFAULTS, store: 'memory' });
  const inner = engine.jobs;
  const store = Object.assign(Object.create(inner) as JobStore, {
    failing: false,
    async get(this: { failing: boolean }, tenant: string, id: string) {
      if (this.failing) throw new Error('store is down');
      return inner.get(tenant, id);
    },
    async ping(this: { failing: boolean }): Promise<void> {
      if (this.failing) throw new Error('store is down');
    },
  });
  return { store, engine: { ...engine, jobs: store } };
}

describe('store errors', () => {
  it('counts failed store calls by operation, from the routes and from /readyz', async () => {
    const { store, engine } = flakyEngine();
    const server = await startTestServer({}, { engine });
    try {
      const job = await createJob(server.url, { duration: 60 });
      store.failing = true;
      const read = await fetch(`${server.url}/v1/jobs/${job.id}`);
      assert.equal(read.status, 500);
      assert.equal(((await read.json()) as { code: string }).code, 'JOBWAIT_ERR_INTERNAL');
      assert.equal((await fetch(`${server.url}/readyz`)).status, 503);
      const samples = await scrape(server.url);
      assert.equal(metricValue(samples, 'jobwait_store_errors_total', { component: 'store', operation: 'get' }), 1);
      assert.equal(metricValue(samples, 'jobwait_store_errors_total', { component: 'store', operation: 'ping' }), 1);
      store.failing = false;
      assert.equal((await fetch(`${server.url}/v1/jobs/${job.id}`)).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('metrics token', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ store: 'memory', metricsToken: 'scrape-me-0123456789' });
  });
  after(() => server.close());

  it('answers 401 with WWW-Authenticate without the token or with a wrong one', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'scrape-me-0123456789' }]) {
      const res = await fetch(`${server.url}/metrics`, { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="jobwait-metrics"');
      assert.equal(((await res.json()) as { code: string }).code, 'JOBWAIT_ERR_UNAUTHORIZED');
    }
  });

  it('serves the metrics with Authorization: Bearer <token>', async () => {
    const samples = await scrape(server.url, { authorization: 'Bearer scrape-me-0123456789' });
    assert.ok(samples.some((s) => s.name === 'jobwait_jobs_created_total'));
  });
});
