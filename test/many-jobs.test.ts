/**
 * Many jobs at once (issue 18) on the real server: batches (all or none, idempotent), reads of
 * many, counts, and waits on a set — the long-poll and the event streams of a watch, a tag and a
 * batch, resumed with Last-Event-ID — with tenant isolation and request limits.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { buildServer, generateApiKey, type ServerOptions } from '@jobwait/server';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';

interface Api {
  url: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
}

async function start(t: TestContext, options: ServerOptions = {}, key?: string): Promise<Api & { as(key: string): Api }> {
  const app = await buildServer({ store: 'memory', logLevel: 'silent', rateLimit: 0, maxDurationSeconds: 100, ...options });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  const api = (bearer?: string): Api => ({
    url,
    async call(method, path, body, headers = {}) {
      const response = await fetch(url + path, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
        body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    },
  });
  return { ...api(key), as: (other) => api(other) };
}

interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** Reads server-sent events from `path` until the stream ends or `stopAfter` says so. */
async function readEvents(url: string, headers: Record<string, string>, stopAfter?: (event: SseEvent, all: SseEvent[]) => boolean): Promise<{ status: number; events: SseEvent[] }> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  if (response.status !== 200) return { status: response.status, events };
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body! as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event: Partial<SseEvent> & { lines: string[] } = { lines: [] };
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) event.id = line.slice(4);
          else if (line.startsWith('event: ')) event.event = line.slice(7);
          else if (line.startsWith('data: ')) event.lines.push(line.slice(6));
        }
        if (event.event === undefined) continue;
        const parsed: SseEvent = { event: event.event, data: JSON.parse(event.lines.join('\n')) };
        if (event.id !== undefined) parsed.id = event.id;
        events.push(parsed);
        if (stopAfter?.(parsed, events)) {
          controller.abort();
          return { status: 200, events };
        }
      }
    }
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
  }
  return { status: 200, events };
}

/** The last `id:` among `events`. */
function lastId(events: SseEvent[]): string | undefined {
  return events.findLast((event) => event.id !== undefined)?.id;
}

describe('many jobs at once', () => {
  it('creates a batch all or none, each invalid job named by its index', async (t) => {
    const api = await start(t);
    const bad = await api.call('POST', '/v1/batches', { tags: ['cat'], jobs: [{ duration: 1 }, { duration: 1000 }, { duration: 2 }, { outcome: 'error' }] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'JOBWAIT_ERR_VALIDATION');
    assert.deepEqual(
      bad.body.errors.map((e: { index: number }) => e.index),
      [1, 3],
    );
    const schemaBad = await api.call('POST', '/v1/batches', { jobs: [{ duration: 1 }, { duration: 'x' }] });
    assert.equal(schemaBad.status, 400);
    assert.match(JSON.stringify(schemaBad.body.errors), /\/jobs\/1\/duration/);
    const tooManyTags = await api.call('POST', '/v1/batches', { tags: ['a', 'b', 'c', 'd', 'e', 'f'], jobs: [{ duration: 1, tags: ['g', 'h', 'i', 'j', 'k'] }] });
    assert.equal(tooManyTags.status, 400);
    // Nothing was created by the refused batches.
    assert.deepEqual((await api.call('GET', '/v1/jobs?limit=100')).body.jobs, []);

    const ok = await api.call('POST', '/v1/batches', { tags: ['cat'], jobs: [{ duration: 50 }, { duration: 60, tags: ['fr'] }, { metadata: { n: 3 } }] });
    assert.equal(ok.status, 201);
    assert.match(ok.body.batch.id, /^bat_/);
    assert.equal(ok.headers.get('location'), `/v1/batches/${ok.body.batch.id}`);
    assert.deepEqual(ok.body.batch.counts, { total: 3, pending: 3, completed: 0, error: 0, canceled: 0, progress: 0 });
    assert.deepEqual(
      ok.body.jobs.map((job: { tags: string[]; batchId: string }) => [job.tags, job.batchId]),
      [[['cat'], ok.body.batch.id], [['cat', 'fr'], ok.body.batch.id], [['cat'], ok.body.batch.id]],
    );
    assert.match(ok.body.jobs[2].reportToken, /^jwr_/, 'a reported job of a batch gets its report token');
    assert.equal(ok.body.jobs[0].reportToken, undefined);
  });

  it('replays a batch by its Idempotency-Key and refuses the key with another body', async (t) => {
    const api = await start(t);
    const body = { jobs: [{ duration: 10 }, { duration: 20 }] };
    const first = await api.call('POST', '/v1/batches', body, { 'idempotency-key': 'b-1' });
    const again = await api.call('POST', '/v1/batches', body, { 'idempotency-key': 'b-1' });
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.batch.id, first.body.batch.id);
    assert.deepEqual(
      again.body.jobs.map((job: { id: string }) => job.id),
      first.body.jobs.map((job: { id: string }) => job.id),
    );
    assert.equal((await api.call('GET', '/v1/jobs?limit=100')).body.jobs.length, 2, 'no twins');
    const other = await api.call('POST', '/v1/batches', { jobs: [{ duration: 11 }] }, { 'idempotency-key': 'b-1' });
    assert.equal(other.status, 422);
    assert.equal(other.body.code, 'JOBWAIT_ERR_IDEMPOTENCY_MISMATCH');
  });

  it('reads many jobs by id, lists and counts a tag or a batch', async (t) => {
    const api = await start(t);
    const a = await api.call('POST', '/v1/batches', { tags: ['cat'], jobs: [{ duration: 0.05, outcome: 'error' }, { duration: 0.05 }, { duration: 60, tags: ['slow'] }] });
    await api.call('POST', '/v1/jobs', { duration: 0.05, tags: ['cat'] });
    const ids = a.body.jobs.map((job: { id: string }) => job.id);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lookup = await api.call('POST', '/v1/jobs/lookup', { ids: [ids[2], 'job_00000000000000000000000000', 'nonsense', ids[0]] });
    assert.equal(lookup.status, 200);
    assert.deepEqual(
      lookup.body.jobs.map((job: { id: string; status: string }) => [job.id, job.status]),
      [
        [ids[2], 'pending'],
        [ids[0], 'error'],
      ],
    );
    const batch = await api.call('GET', `/v1/batches/${a.body.batch.id}`);
    assert.deepEqual(batch.body.counts, { total: 3, pending: 1, completed: 1, error: 1, canceled: 0, progress: 0.667 });
    const tagCounts = await api.call('GET', '/v1/jobs/counts?tag=cat');
    assert.deepEqual([tagCounts.body.total, tagCounts.body.counts, tagCounts.body.progress], [4, { pending: 1, completed: 2, error: 1, canceled: 0 }, 0.75]);
    const batchCounts = await api.call('GET', `/v1/jobs/counts?batch=${a.body.batch.id}`);
    assert.equal(batchCounts.body.total, 3);
    assert.deepEqual(
      (await api.call('GET', '/v1/jobs?tag=slow')).body.jobs.map((job: { id: string }) => job.id),
      [ids[2]],
    );
    assert.equal((await api.call('GET', `/v1/jobs?batch=${a.body.batch.id}&status=pending`)).body.jobs.length, 1);
    assert.equal((await api.call('GET', '/v1/batches/bat_00000000000000000000000000')).status, 404);
  });

  it('refuses 1,001 ids or jobs and bodies past the limit with a clear 4xx; 1,000 jobs fit', async (t) => {
    const api = await start(t);
    const ids = Array.from({ length: 1001 }, (_, i) => `job_${String(i).padStart(26, '0')}`);
    for (const [path, body] of [
      ['/v1/jobs/lookup', { ids }],
      ['/v1/watches', { ids }],
      ['/v1/batches', { jobs: ids.map(() => ({ duration: 1 })) }],
    ] as const) {
      const answer = await api.call('POST', path, body);
      assert.equal(answer.status, 400, path);
      assert.equal(answer.body.code, 'JOBWAIT_ERR_VALIDATION');
      assert.match(answer.body.detail, /1000/);
    }
    // 1,000 jobs with some metadata: far past the 64 KiB of other routes, within the batch route's limit.
    const jobs = Array.from({ length: 1000 }, (_, i) => ({ duration: 30, metadata: { video: `catalogue/${i}.mp4`, language: 'fr', note: 'x'.repeat(100) } }));
    const big = await api.call('POST', '/v1/batches', { tags: ['big'], jobs });
    assert.ok(JSON.stringify({ jobs }).length > 65_536);
    assert.equal(big.status, 201);
    assert.equal(big.body.jobs.length, 1000);
    const huge = await api.call('POST', '/v1/batches', { jobs: [{ duration: 1, metadata: { pad: 'x'.repeat(5 * 1024 * 1024) } }] });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.code, 'JOBWAIT_ERR_BODY_TOO_LARGE');
    const hugeLookup = await api.call('POST', '/v1/jobs/lookup', { ids: ['x'.repeat(100_000)] });
    assert.equal(hugeLookup.status, 413);
    assert.equal((await api.call('POST', '/v1/watches', { tag: 'a', batch: 'bat_00000000000000000000000000' })).status, 400);
  });

  it("shows nothing of another key's jobs in a lookup, a watch, a batch or a tag", async (t) => {
    const alice = generateApiKey();
    const bob = generateApiKey();
    const server = await start(t, { apiKeys: [alice.key, bob.key] }, alice.key);
    const asBob = server.as(bob.key);
    const made = await server.call('POST', '/v1/batches', { tags: ['shared-name'], jobs: [{ duration: 0.05 }, { duration: 60 }] });
    const ids = made.body.jobs.map((job: { id: string }) => job.id);
    assert.deepEqual((await asBob.call('POST', '/v1/jobs/lookup', { ids })).body.jobs, []);
    assert.equal((await asBob.call('GET', `/v1/batches/${made.body.batch.id}`)).status, 404);
    assert.equal((await asBob.call('POST', '/v1/watches', { batch: made.body.batch.id })).status, 404);
    assert.equal((await asBob.call('GET', '/v1/jobs/counts?tag=shared-name')).body.total, 0);
    const bobWatch = await asBob.call('POST', '/v1/watches', { ids });
    assert.equal(bobWatch.status, 201);
    assert.equal(bobWatch.body.counts.total, 0);
    const poll = await asBob.call('GET', `/v1/watches/${bobWatch.body.id}?until=all&wait=5`);
    assert.deepEqual([poll.body.done, poll.body.jobs], [true, []]);
    // Bob's stream of the tag has only Bob's jobs: none, so it ends at once.
    const stream = await readEvents(`${server.url}/v1/tags/shared-name/events`, { authorization: `Bearer ${bob.key}` });
    assert.deepEqual(
      stream.events.map((event) => [event.event, event.data.total]),
      [
        ['counts', 0],
        ['end', 0],
      ],
    );
    // Alice's watch is not Bob's.
    const aliceWatch = await server.call('POST', '/v1/watches', { ids });
    assert.equal((await asBob.call('GET', `/v1/watches/${aliceWatch.body.id}`)).status, 404);
    assert.equal((await readEvents(`${server.url}/v1/watches/${aliceWatch.body.id}/events`, { authorization: `Bearer ${bob.key}` })).status, 404);
  });

  it('streams a tag: an event per change, the end when all ended', async (t) => {
    const api = await start(t);
    const made = await api.call('POST', '/v1/batches', { tags: ['wave'], jobs: [{ duration: 0.3 }, { duration: 0.6, outcome: 'error' }, { duration: 60 }] });
    const ids: string[] = made.body.jobs.map((job: { id: string }) => job.id);
    const reading = readEvents(`${api.url}/v1/tags/wave/events`, {}, (event) => {
      // The long job is canceled once the other two have ended.
      if (event.event === 'job' && event.data.id === ids[1]) void api.call('DELETE', `/v1/jobs/${ids[2]}`);
      return false;
    });
    const { events } = await reading;
    assert.equal(events[0]!.event, 'counts');
    assert.deepEqual(events[0]!.data, { total: 3, pending: 3, completed: 0, error: 0, canceled: 0, progress: 0 });
    const jobs = events.filter((event) => event.event === 'job').map((event) => [event.data.id, event.data.status]);
    assert.deepEqual(jobs, [
      [ids[0], 'completed'],
      [ids[1], 'error'],
      [ids[2], 'canceled'],
    ]);
    assert.deepEqual(events.at(-1), { id: events.at(-1)!.id, event: 'end', data: { total: 3, pending: 0, completed: 1, error: 1, canceled: 1, progress: 1 } });
    const eventIds = events.filter((event) => event.id !== undefined).map((event) => Number(event.id));
    assert.deepEqual(eventIds, [...eventIds].sort((x, y) => x - y), 'event ids never decrease');
  });

  it('resumes a watch stream with Last-Event-ID and misses nothing; a stream of a finished set answers 204', async (t) => {
    const api = await start(t);
    const made = await api.call('POST', '/v1/batches', { jobs: [{ duration: 0.2 }, { duration: 0.5 }, { duration: 0.8 }, { duration: 0.05 }] });
    const ids: string[] = made.body.jobs.map((job: { id: string }) => job.id);
    const watch = await api.call('POST', '/v1/watches', { ids: [...ids, 'job_00000000000000000000000000'] });
    assert.equal(watch.status, 201);
    assert.equal(watch.body.counts.total, 4);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // First connection: cut after the first live job event.
    const first = await readEvents(`${api.url}${watch.body.events}`, {}, (event, all) => event.event === 'job' && all.filter((e) => e.event === 'job').length >= 2);
    const seen = new Set(first.events.filter((event) => event.event === 'job').map((event) => event.data.id as string));
    const resumeFrom = lastId(first.events)!;
    assert.ok(resumeFrom, 'the first connection got an id');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const second = await readEvents(`${api.url}${watch.body.events}`, { 'last-event-id': resumeFrom });
    for (const event of second.events) if (event.event === 'job') seen.add(event.data.id);
    assert.deepEqual([...seen].sort(), [...ids].sort(), 'every job of the set came over the two connections');
    assert.equal(second.events.at(-1)!.event, 'end');
    const third = await readEvents(`${api.url}${watch.body.events}`, { 'last-event-id': String(Number(lastId(second.events)) + 10_000) });
    assert.equal(third.status, 204);
  });

  it('on Redis: a batch all or none and idempotent, its stream ends when all ended, another key sees none of it', async (t) => {
    const alice = generateApiKey();
    const bob = generateApiKey();
    const prefix = uniquePrefix('many');
    t.after(() => deleteKeys(prefix));
    const api = await start(t, { store: 'redis', redisUrl: TEST_REDIS_URL, redisPrefix: prefix, apiKeys: [alice.key, bob.key] }, alice.key);
    const bad = await api.call('POST', '/v1/batches', { tags: ['r'], jobs: [{ duration: 0.2 }, { duration: 1000 }] });
    assert.deepEqual([bad.status, bad.body.errors[0].index], [400, 1]);
    const body = { tags: ['r'], jobs: [{ duration: 0.2 }, { duration: 0.4, outcome: 'error' }, { timeoutSeconds: 0.6 }] };
    const made = await api.call('POST', '/v1/batches', body, { 'idempotency-key': 'r-1' });
    assert.equal(made.status, 201);
    const again = await api.call('POST', '/v1/batches', body, { 'idempotency-key': 'r-1' });
    assert.equal(again.body.batch.id, made.body.batch.id);
    const ids: string[] = made.body.jobs.map((job: { id: string }) => job.id);
    assert.equal((await api.as(bob.key).call('POST', '/v1/jobs/lookup', { ids })).body.jobs.length, 0);
    const { events } = await readEvents(`${api.url}/v1/batches/${made.body.batch.id}/events`, { authorization: `Bearer ${alice.key}` });
    assert.deepEqual(
      events.filter((event) => event.event === 'job').map((event) => event.data.id).sort(),
      [...ids].sort(),
    );
    assert.deepEqual(events.at(-1)!.data, { total: 3, pending: 0, completed: 1, error: 2, canceled: 0, progress: 1 });
    assert.equal((await api.call('GET', '/v1/jobs/counts?tag=r')).body.total, 3);
  });

  it('long-polls a set until any change, any end, or all have ended', async (t) => {
    const api = await start(t);
    const made = await api.call('POST', '/v1/batches', { jobs: [{ duration: 0.2 }, { duration: 0.6 }] });
    const ids: string[] = made.body.jobs.map((job: { id: string }) => job.id);
    const watch = await api.call('POST', '/v1/watches', { batch: made.body.batch.id });
    const first = await api.call('GET', `/v1/watches/${watch.body.id}?until=end&wait=10`);
    assert.equal(first.body.done, false);
    assert.deepEqual(
      first.body.jobs.map((job: { id: string; status: string }) => [job.id, job.status]),
      [[ids[0], 'completed']],
    );
    const second = await api.call('GET', `/v1/watches/${watch.body.id}?until=end&after=${first.body.cursor}`, undefined, { prefer: 'wait=10' });
    assert.equal(second.headers.get('preference-applied'), 'wait=10');
    assert.deepEqual(
      second.body.jobs.map((job: { id: string }) => job.id),
      [ids[1]],
    );
    assert.equal(second.body.done, true);
    const all = await api.call('GET', `/v1/watches/${watch.body.id}?until=all&wait=10`);
    assert.deepEqual([all.body.done, all.body.jobs.length, all.body.counts.completed], [true, 2, 2]);
    // Nothing changes after the end: a poll after the last cursor holds, then answers with nothing new.
    const idle = await api.call('GET', `/v1/watches/${watch.body.id}?until=change&wait=1&after=${all.body.cursor}`);
    assert.deepEqual([idle.body.done, idle.body.jobs], [true, []]);
  });
});
