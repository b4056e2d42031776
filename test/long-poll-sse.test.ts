/**
 * Issue 3: learning of completion at once. Long-poll and server-sent events
 * on the real server, the `eventsource` package as a third-party reader, and
 * the client's `auto` strategy choosing from what the server answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { EventSource } from 'eventsource';
import { HttpError, JobwaitClient, TimerClient, hasErrorCode, type Job } from '@jobwait/client';
import { SseParser } from '@jobwait/client/internal';
import { startProxy } from './helpers/http-proxy.js';
import { startSeedServer } from './helpers/seed-server.js';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

let server: TestServer;
let client: JobwaitClient;

before(async () => {
  server = await startTestServer({ store: 'sqlite', heartbeatMs: 200 });
  client = new JobwaitClient({ baseUrl: server.url });
});
after(() => server.close());

async function readEvents(response: Response): Promise<{ id: string | undefined; event: string; data: string }[]> {
  const parser = new SseParser();
  const events = [];
  const text = await response.text();
  for (const e of parser.push(text)) if (e.event === 'job') events.push(e);
  return events;
}

describe('long-poll GET /v1/jobs/{id}', () => {
  it('answers as soon as the job completes, long before the requested wait', async () => {
    const job = await client.createJob({ duration: 0.4 });
    const t0 = Date.now();
    const res = await fetch(`${server.url}/v1/jobs/${job.id}`, { headers: { prefer: 'wait=20' } });
    const body = (await res.json()) as Job;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('preference-applied'), 'wait=20');
    assert.equal(body.status, 'completed');
    assert.equal(body.version, 2);
    assert.ok(Date.now() - t0 < 10_000, 'held far less than the 20 s asked for');
  });

  it('holds for N seconds and answers the unchanged job when nothing happens (?wait=N)', async () => {
    const job = await client.createJob({ duration: 60 });
    const t0 = Date.now();
    const res = await fetch(`${server.url}/v1/jobs/${job.id}?wait=1`);
    const body = (await res.json()) as Job;
    assert.ok(Date.now() - t0 >= 950, 'held about a second');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('preference-applied'), 'wait=1');
    assert.equal(body.status, 'pending');
    assert.ok(Number(res.headers.get('retry-after')) >= 58);
    await client.cancelJob(job.id);
  });

  it('answers 304 after N seconds when If-None-Match names the current version', async () => {
    const job = await client.createJob({ duration: 60 });
    const first = await fetch(`${server.url}/v1/jobs/${job.id}`);
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const res = await fetch(`${server.url}/v1/jobs/${job.id}`, { headers: { prefer: 'wait=1', 'if-none-match': etag } });
    assert.equal(res.status, 304);
    assert.equal(res.headers.get('etag'), etag);
    await client.cancelJob(job.id);
  });

  it('wakes a held request when the job is canceled', async () => {
    const job = await client.createJob({ duration: 60 });
    const held = fetch(`${server.url}/v1/jobs/${job.id}`, { headers: { prefer: 'wait=30' } });
    await delay(150);
    await client.cancelJob(job.id);
    const body = (await (await held).json()) as Job;
    assert.equal(body.status, 'canceled');
  });

  it('caps the hold at the server maximum and says so in Preference-Applied', async () => {
    const job = await client.createJob({ duration: 0.2 });
    const res = await fetch(`${server.url}/v1/jobs/${job.id}`, { headers: { prefer: 'wait=600' } });
    assert.equal(res.headers.get('preference-applied'), 'wait=60');
    assert.equal(((await res.json()) as Job).status, 'completed');
  });

  it('long-polls the seed /status too, keeping the seed body', async () => {
    const timer = new TimerClient({ baseUrl: server.url });
    await timer.startTimer(0.3);
    const res = await fetch(`${server.url}/status`, { headers: { prefer: 'wait=10' } });
    assert.equal(res.headers.get('preference-applied'), 'wait=10');
    assert.equal(await res.text(), '{"result":"completed"}');
  });
});

describe('server-sent events', () => {
  it('streams each version with id: and closes after the final state', async () => {
    const job = await client.createJob({ duration: 0.3 });
    const res = await fetch(`${server.url}/v1/jobs/${job.id}/events`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = await readEvents(res);
    assert.deepEqual(
      events.map((e) => [e.id, (JSON.parse(e.data) as Job).status]),
      [
        ['1', 'pending'],
        ['2', 'completed'],
      ],
    );
  });

  it('replays what was missed after Last-Event-ID, and answers 204 once the client has the final state', async () => {
    const job = await client.createJob({ duration: 0.1 });
    await client.waitForJob(job.id);
    const resumed = await fetch(`${server.url}/v1/jobs/${job.id}/events`, { headers: { 'last-event-id': '1' } });
    const events = await readEvents(resumed);
    assert.deepEqual(
      events.map((e) => e.id),
      ['2'],
    );
    const done = await fetch(`${server.url}/v1/jobs/${job.id}/events`, { headers: { 'last-event-id': '2' } });
    assert.equal(done.status, 204);
  });

  it('sends heartbeats while a job is pending', async () => {
    const job = await client.createJob({ duration: 60 });
    const controller = new AbortController();
    const res = await fetch(`${server.url}/v1/jobs/${job.id}/events`, { signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    const until = Date.now() + 3000;
    while (!text.includes(': heartbeat') && Date.now() < until) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    await client.cancelJob(job.id);
    assert.match(text, /: heartbeat/);
  });

  it('is read by the eventsource npm package, which stops once the job is final', async () => {
    const job = await client.createJob({ duration: 0.3 });
    const source = new EventSource(`${server.url}/v1/jobs/${job.id}/events`);
    const statuses: string[] = [];
    const closed = new Promise<void>((resolve) => {
      source.addEventListener('job', (event) => {
        statuses.push((JSON.parse(event.data) as Job).status);
      });
      // After the final event the server closes; the reconnect with Last-Event-ID gets 204 and the source gives up.
      source.addEventListener('error', () => {
        if (source.readyState === EventSource.CLOSED) resolve();
      });
    });
    await Promise.race([closed, delay(8000)]);
    source.close();
    assert.deepEqual(statuses, ['pending', 'completed']);
    assert.equal(source.readyState, EventSource.CLOSED);
  });

  it('GET /v1/events streams every job of the caller and resumes after Last-Event-ID', async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/v1/events`, { signal: controller.signal });
    const parser = new SseParser();
    const reader = res.body!.getReader();
    const job = await client.createJob({ duration: 0.2 });
    const seen: { id: string | undefined; job: Job }[] = [];
    while (!seen.some((e) => e.job.id === job.id && e.job.status === 'completed')) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const e of parser.push(new TextDecoder().decode(value))) if (e.event === 'job') seen.push({ id: e.id, job: JSON.parse(e.data) as Job });
    }
    controller.abort();
    const mine = seen.filter((e) => e.job.id === job.id);
    assert.deepEqual(
      mine.map((e) => e.job.status),
      ['pending', 'completed'],
    );
    // Resume from the creation event: the completion is replayed.
    const resume = new AbortController();
    const again = await fetch(`${server.url}/v1/events`, { headers: { 'last-event-id': mine[0]!.id! }, signal: resume.signal });
    const r2 = again.body!.getReader();
    const p2 = new SseParser();
    const replayed: Job[] = [];
    const until = Date.now() + 3000;
    while (!replayed.some((j) => j.id === job.id && j.status === 'completed') && Date.now() < until) {
      const { value, done } = await r2.read();
      if (done) break;
      for (const e of p2.push(new TextDecoder().decode(value))) if (e.event === 'job') replayed.push(JSON.parse(e.data) as Job);
    }
    resume.abort();
    assert.ok(replayed.some((j) => j.id === job.id && j.status === 'completed'));
  });

  it('answers 404 problem for another or unknown job, without opening a stream', async () => {
    const res = await fetch(`${server.url}/v1/jobs/job_00000000000000000000000000/events`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'JOBWAIT_ERR_JOB_NOT_FOUND');
  });
});

describe('client strategy auto', () => {
  it('uses long-poll against jobwait: one status request for a short job', async () => {
    const proxy = await startProxy(server.url);
    try {
      const c = new JobwaitClient({ baseUrl: proxy.url });
      const job = await c.createJob({ duration: 0.5 });
      const done = await c.waitForJob(job.id);
      assert.equal(done.status, 'completed');
      assert.equal(proxy.count('GET', `/v1/jobs/${job.id}`), 1);
      assert.equal(proxy.count('GET', `/v1/jobs/${job.id}/events`), 0);
    } finally {
      await proxy.close();
    }
  });

  it('falls back to server-sent events when the server ignores Prefer: wait', async () => {
    const proxy = await startProxy(server.url, () => ({ kind: 'forward', headers: { prefer: undefined } }));
    try {
      const c = new JobwaitClient({ baseUrl: proxy.url });
      const job = await c.createJob({ duration: 0.5 });
      const updates: string[] = [];
      const done = await c.waitForJob(job.id, { onUpdate: (j) => updates.push(j.status) });
      assert.equal(done.status, 'completed');
      assert.equal(proxy.count('GET', `/v1/jobs/${job.id}/events`), 1);
      assert.deepEqual(updates.at(-1), 'completed');
    } finally {
      await proxy.close();
    }
  });

  it('falls back to ETA-hinted polling when there is neither long-poll nor a stream', async () => {
    const proxy = await startProxy(server.url, (req) =>
      req.url?.endsWith('/events') ? { kind: 'answer', status: 404, body: 'not here' } : { kind: 'forward', headers: { prefer: undefined } },
    );
    try {
      const c = new JobwaitClient({ baseUrl: proxy.url });
      const job = await c.createJob({ duration: 1 });
      const done = await c.waitForJob(job.id);
      assert.equal(done.status, 'completed');
      // First look, then one look at the hinted ETA (maybe one more if it lands a hair early).
      const looks = proxy.count('GET', `/v1/jobs/${job.id}`) - proxy.count('GET', `/v1/jobs/${job.id}/events`);
      assert.ok(looks >= 2 && looks <= 3, `looks: ${looks}`);
    } finally {
      await proxy.close();
    }
  });

  it('TimerClient waits for the timer it started, then the bounded schedule, against the seed-only server', async () => {
    const seed = await startSeedServer();
    try {
      const timer = new TimerClient({ baseUrl: seed.url });
      assert.deepEqual(await timer.startTimer(1.2), { message: 'Timer started for 1.2 seconds' });
      const t0 = Date.now();
      const status = await timer.getTimerStatus({ timeoutMs: 10_000 });
      const late = Date.now() - t0 - 1200;
      assert.deepEqual(status, { result: 'completed' });
      assert.ok(late <= 0.2 * 1200 + 500 + 200, `late by ${late} ms`);
      // No look before the timer it started can have ended: one look at its end (two if a timer
      // fired a millisecond early), where 1 s polling takes 2-3 and the schedule alone took 5.
      assert.ok(seed.statusRequests() >= 1 && seed.statusRequests() <= 2, `requests: ${seed.statusRequests()}`);
    } finally {
      await seed.close();
    }
  });

  it('reconnects a dropped stream with Last-Event-ID and still sees the final state', async () => {
    let streams = 0;
    const lastEventIds: (string | undefined)[] = [];
    const proxy = await startProxy(server.url, (req) => {
      if (!req.url?.endsWith('/events')) return { kind: 'forward' };
      streams++;
      lastEventIds.push(req.headers['last-event-id'] as string | undefined);
      return streams === 1 ? { kind: 'forward', afterFirstChunk: 'destroy' } : { kind: 'forward' };
    });
    try {
      const c = new JobwaitClient({ baseUrl: proxy.url, retry: { baseDelayMs: 10 } });
      const job = await c.createJob({ duration: 0.6 });
      const states: number[] = [];
      for await (const j of c.watchJob(job.id)) states.push(j.version);
      assert.ok(streams >= 2, 'the stream was reopened');
      assert.equal(states.at(-1), 2);
      assert.ok(lastEventIds.slice(1).every((id) => id === undefined || /^\d+$/.test(id)));
    } finally {
      await proxy.close();
    }
  });

  it('watchJob against a server without event streams rejects with an HttpError carrying the status', async () => {
    const proxy = await startProxy(server.url, (req) => (req.url?.endsWith('/events') ? { kind: 'answer', status: 404, body: 'not here' } : { kind: 'forward' }));
    try {
      const c = new JobwaitClient({ baseUrl: proxy.url });
      const job = await c.createJob({ duration: 0.5 });
      await assert.rejects(c.watchJob(job.id).next(), (error: unknown) => {
        assert.ok(hasErrorCode(error, 'JOBWAIT_ERR_HTTP'), String(error));
        assert.ok(error instanceof HttpError);
        assert.equal(error.status, 404);
        assert.match(error.message, /no job event stream/);
        return true;
      });
    } finally {
      await proxy.close();
    }
  });
});

describe('abort', () => {
  it('closes an SSE wait and releases its subscription on the server', async () => {
    const job = await client.createJob({ duration: 60 });
    const controller = new AbortController();
    const waiting = client.waitForJob(job.id, { strategy: 'sse', signal: controller.signal });
    await delay(200);
    assert.ok(server.app.jobs.subscriptions() >= 1);
    controller.abort();
    await assert.rejects(waiting, { code: 'JOBWAIT_ERR_ABORTED' });
    const until = Date.now() + 2000;
    while (server.app.jobs.subscriptions() > 0 && Date.now() < until) await delay(20);
    assert.equal(server.app.jobs.subscriptions(), 0);
    await client.cancelJob(job.id);
  });

  it('ends a held long-poll on the server when the client aborts', async () => {
    const job = await client.createJob({ duration: 60 });
    const controller = new AbortController();
    const waiting = client.waitForJob(job.id, { strategy: 'long-poll', signal: controller.signal });
    await delay(200);
    assert.equal(server.app.jobs.heldWaits(), 1);
    controller.abort();
    await assert.rejects(waiting, { code: 'JOBWAIT_ERR_ABORTED' });
    const until = Date.now() + 2000;
    while (server.app.jobs.heldWaits() > 0 && Date.now() < until) await delay(20);
    assert.equal(server.app.jobs.heldWaits(), 0);
    await client.cancelJob(job.id);
  });
});
