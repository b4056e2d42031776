/**
 * The seed's two endpoints (`POST /start-timer`, `GET /status`) on the real
 * server, byte for byte as seed/timer-service-README.md and DESIGN.md give
 * them, driven by raw fetch (as clients the team did not write would) and by
 * `TimerClient`.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { HttpError, TimerClient } from '@jobwait/client';
import { buildServer, type ServerOptions } from '@jobwait/server';

/** The largest duration the servers of this file accept. */
const MAX_DURATION = 100;

interface Running {
  url: string;
  timer: TimerClient;
}

/** A fresh in-memory server on a free port, closed when the test ends. */
async function startServer(t: TestContext, options: ServerOptions = {}): Promise<Running> {
  const app = await buildServer({ store: 'memory', logLevel: 'silent', maxDurationSeconds: MAX_DURATION, ...options });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  return { url, timer: new TimerClient({ baseUrl: url, retry: false }) };
}

interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
  headers: Headers;
}

async function raw(url: string, init: RequestInit = {}): Promise<RawAnswer> {
  const response = await fetch(url, init);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text(), headers: response.headers };
}

/** `POST /start-timer` with `body` sent exactly as given. */
function startTimer(url: string, body: BodyInit | undefined, contentType: string | undefined = 'application/json'): Promise<RawAnswer> {
  const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };
  return raw(`${url}/start-timer`, { method: 'POST', headers, ...(body === undefined ? {} : { body }) });
}

function status(url: string): Promise<RawAnswer> {
  return raw(`${url}/status`);
}

/** Asserts a JSON answer with exactly `text` as its body. */
function assertJson(answer: RawAnswer, code: number, text: string, what = ''): void {
  assert.equal(answer.status, code, `${what} status (body ${answer.text})`);
  assert.match(answer.contentType, /^application\/json\b/, `${what} content-type`);
  assert.equal(answer.text, text, `${what} body`);
}

const NO_DURATION = '{"error":"No duration provided"}';
const INVALID_DURATION = '{"error":"Invalid duration value"}';

/** Reads `/status` until it is no longer pending (bounded by `timeoutMs`). */
async function statusWhenSettled(url: string, timeoutMs = 5000): Promise<RawAnswer> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const answer = await status(url);
    if (answer.text !== '{"result":"pending"}' || Date.now() > end) return answer;
    await delay(50);
  }
}

/** How many jobs the server holds (every timer is a job), read through the jobs API. */
async function jobCount(url: string): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = (await (await fetch(`${url}/v1/jobs?limit=100${cursor ? `&cursor=${cursor}` : ''}`)).json()) as { jobs: unknown[]; nextCursor?: string };
    count += page.jobs.length;
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}

describe('GET /status before any timer', () => {
  test('answers 404 {"error":"No timer started"} as JSON', async (t) => {
    const { url } = await startServer(t);
    assertJson(await status(url), 404, '{"error":"No timer started"}');
  });

  test('makes TimerClient.getTimerStatus reject with HttpError 404 carrying the seed error', async (t) => {
    const { timer } = await startServer(t);
    await assert.rejects(timer.getTimerStatus({ wait: false }), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.code, 'JOBWAIT_ERR_HTTP');
      assert.equal(error.status, 404);
      assert.deepEqual(error.body, { error: 'No timer started' });
      return true;
    });
  });
});

describe('POST /start-timer with a valid duration', () => {
  test('answers 200 {"message":"Timer started for 10 seconds"} as JSON, byte for byte', async (t) => {
    const { url } = await startServer(t);
    assertJson(await startTimer(url, '{"duration": 10}'), 200, '{"message":"Timer started for 10 seconds"}');
    assertJson(await status(url), 200, '{"result":"pending"}');
  });

  test('echoes a fractional duration in the message', async (t) => {
    const { url } = await startServer(t);
    assertJson(await startTimer(url, '{"duration":2.5}'), 200, '{"message":"Timer started for 2.5 seconds"}');
  });

  test('accepts a duration equal to the configured maximum', async (t) => {
    const { url } = await startServer(t);
    assertJson(await startTimer(url, `{"duration":${MAX_DURATION}}`), 200, `{"message":"Timer started for ${MAX_DURATION} seconds"}`);
  });

  test('TimerClient.startTimer returns the server message', async (t) => {
    const { timer } = await startServer(t);
    assert.deepEqual(await timer.startTimer(10), { message: 'Timer started for 10 seconds' });
    assert.deepEqual(await timer.getTimerStatus({ wait: false }), { result: 'pending' });
  });
});

describe('POST /start-timer without a duration', () => {
  const cases: [string, BodyInit | undefined][] = [
    ['an empty object', '{}'],
    ['an object without the duration key', '{"durations": 10}'],
    ['an empty body', ''],
    ['a body of whitespace', '  \n '],
    ['no body at all', undefined],
    ['a top-level array', '[]'],
    ['a top-level null', 'null'],
    ['a top-level number', '10'],
  ];
  for (const [name, body] of cases) {
    test(`answers 400 {"error":"No duration provided"} for ${name}`, async (t) => {
      const { url } = await startServer(t);
      assertJson(await startTimer(url, body), 400, NO_DURATION, name);
      assertJson(await status(url), 404, '{"error":"No timer started"}', 'status after');
    });
  }
});

describe('POST /start-timer with a bad duration value', () => {
  const values: [string, string][] = [
    ['true', 'true'],
    ['false', 'false'],
    ['a numeric string', '"10"'],
    ['an empty string', '""'],
    ['null', 'null'],
    ['an empty array', '[]'],
    ['an array of a number', '[10]'],
    ['an empty object', '{}'],
    ['an object', '{"seconds": 10}'],
    ['a negative number', '-1'],
    ['a negative fraction', '-0.5'],
    ['zero', '0'],
    ['negative zero', '-0'],
    ['zero as a float', '0.0'],
    ['a value just above the configured maximum', String(MAX_DURATION + 0.001)],
    ['a value far above the configured maximum', '1e9'],
    ['a number too large for a double (parses to Infinity)', '1e400'],
    // Not JSON, but what Python's json.dumps writes for float('nan') / float('inf'), and what Flask reads.
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['-Infinity', '-Infinity'],
  ];
  for (const [name, value] of values) {
    test(`answers 400 {"error":"Invalid duration value"} for ${name}`, async (t) => {
      const { url } = await startServer(t);
      assertJson(await startTimer(url, `{"duration": ${value}}`), 400, INVALID_DURATION, name);
      assertJson(await status(url), 404, '{"error":"No timer started"}', 'status after');
      assert.equal(await jobCount(url), 0, 'no job created');
    });
  }

  test('leaves the words NaN and Infinity inside strings alone', async (t) => {
    const { url } = await startServer(t);
    assertJson(await startTimer(url, '{"duration": "NaN"}'), 400, INVALID_DURATION);
    assertJson(await startTimer(url, '{"duration": 3, "note": "NaN or Infinity \\" NaN"}'), 200, '{"message":"Timer started for 3 seconds"}');
  });
});

describe('POST /start-timer with malformed JSON', () => {
  const bodies: [string, string][] = [
    ['a truncated object', '{"duration": '],
    ['unquoted keys', '{duration: 10}'],
    ['a trailing comma', '{"duration": 10,}'],
    ['plain text', 'duration=10'],
    ['single quotes', "{'duration': 10}"],
    ['a signed NaN (not even Python reads it)', '{"duration": -NaN}'],
  ];
  for (const [name, body] of bodies) {
    test(`answers 400 with a clear error string for ${name}`, async (t) => {
      const { url } = await startServer(t);
      const answer = await startTimer(url, body);
      assert.equal(answer.status, 400);
      assert.match(answer.contentType, /^application\/json\b/);
      const parsed = JSON.parse(answer.text) as Record<string, unknown>;
      assert.deepEqual(Object.keys(parsed), ['error'], 'only an error member, like the seed');
      assert.equal(typeof parsed.error, 'string');
      assert.match(parsed.error as string, /JSON/, 'says the body is not JSON');
      assert.notEqual(parsed.error, 'No duration provided');
      assertJson(await status(url), 404, '{"error":"No timer started"}', 'status after');
    });
  }
});

describe('the timer runs from pending to completed', () => {
  test('as seen by raw GET /status, with a Retry-After hint while pending', async (t) => {
    const { url } = await startServer(t);
    assertJson(await startTimer(url, '{"duration": 0.5}'), 200, '{"message":"Timer started for 0.5 seconds"}');
    const pending = await status(url);
    assertJson(pending, 200, '{"result":"pending"}');
    assert.match(pending.headers.get('retry-after') ?? '', /^[1-9]\d*$/, 'Retry-After in whole seconds');
    const settled = await statusWhenSettled(url);
    assertJson(settled, 200, '{"result":"completed"}');
    assert.equal(settled.headers.get('retry-after'), null, 'no Retry-After once final');
  });

  test('as seen by TimerClient.getTimerStatus, which waits until it is completed', async (t) => {
    const { timer } = await startServer(t);
    await timer.startTimer(0.3);
    assert.deepEqual(await timer.getTimerStatus({ wait: false }), { result: 'pending' });
    const started = Date.now();
    const seen: string[] = [];
    assert.deepEqual(await timer.getTimerStatus({ timeoutMs: 5000, onPoll: (s) => seen.push(s.result) }), { result: 'completed' });
    assert.ok(Date.now() - started < 4000, 'returned well before its deadline');
    assert.equal(seen.at(-1), 'completed');
  });

  test('as seen by TimerClient.getTimerStatus with the plain polling strategy', async (t) => {
    const { timer } = await startServer(t);
    await timer.startTimer(0.3);
    const result = await timer.getTimerStatus({ strategy: 'poll', timeoutMs: 5000, initialDelayMs: 100, minDelayMs: 100 });
    assert.deepEqual(result, { result: 'completed' });
  });

  test('reports {"result":"error"} for a timer whose simulated job fails', async (t) => {
    const { url, timer } = await startServer(t, { errorRate: 1 });
    assertJson(await startTimer(url, '{"duration": 0.2}'), 200, '{"message":"Timer started for 0.2 seconds"}');
    assert.deepEqual(await timer.getTimerStatus({ timeoutMs: 5000 }), { result: 'error' });
    assertJson(await status(url), 200, '{"result":"error"}');
  });

  test('reports the latest timer started, not an earlier one', async (t) => {
    const { url } = await startServer(t);
    await startTimer(url, '{"duration": 0.2}');
    await statusWhenSettled(url);
    await startTimer(url, '{"duration": 60}');
    assertJson(await status(url), 200, '{"result":"pending"}');
  });
});

describe('a bad request changes nothing', () => {
  const bad: [string, string | undefined][] = [
    ['no body', undefined],
    ['{}', '{}'],
    ['a string duration', '{"duration":"10"}'],
    ['a zero duration', '{"duration":0}'],
    ['a too large duration', `{"duration":${MAX_DURATION + 1}}`],
    ['NaN', '{"duration":NaN}'],
    ['malformed JSON', '{"duration":'],
  ];

  test('status still reports the pending timer started before', async (t) => {
    const { url } = await startServer(t);
    await startTimer(url, '{"duration": 60}');
    const before = await jobCount(url);
    for (const [name, body] of bad) {
      assert.equal((await startTimer(url, body)).status, 400, name);
      assertJson(await status(url), 200, '{"result":"pending"}', `after ${name}`);
    }
    assert.equal(await jobCount(url), before, 'no job was created');
  });

  test('status still reports the completed timer started before', async (t) => {
    const { url } = await startServer(t);
    await startTimer(url, '{"duration": 0.2}');
    assertJson(await statusWhenSettled(url), 200, '{"result":"completed"}');
    for (const [name, body] of bad) {
      assert.equal((await startTimer(url, body)).status, 400, name);
      assertJson(await status(url), 200, '{"result":"completed"}', `after ${name}`);
    }
    assert.equal(await jobCount(url), 1);
  });
});

describe('POST /start-timer is lenient about the content type, like the seed clients expect', () => {
  const encoder = new TextEncoder();
  const cases: [string, string | undefined, BodyInit][] = [
    ['text/plain', 'text/plain', '{"duration": 60}'],
    ['application/x-www-form-urlencoded (curl -d)', 'application/x-www-form-urlencoded', '{"duration": 60}'],
    ['application/json; charset=utf-8', 'application/json; charset=utf-8', '{"duration": 60}'],
    ['no content type at all', undefined, encoder.encode('{"duration": 60}')],
  ];
  for (const [name, contentType, body] of cases) {
    test(`starts the timer for a JSON body sent as ${name}`, async (t) => {
      const { url } = await startServer(t);
      assertJson(await startTimer(url, body, contentType), 200, '{"message":"Timer started for 60 seconds"}', name);
      assertJson(await status(url), 200, '{"result":"pending"}');
      const page = (await (await fetch(`${url}/v1/jobs`)).json()) as { jobs: { duration: number }[] };
      assert.deepEqual(
        page.jobs.map((j) => j.duration),
        [60],
        'exactly one job, with the duration sent',
      );
    });
  }

  test('still answers the seed errors for a non-JSON content type', async (t) => {
    const { url } = await startServer(t);
    assertJson(await startTimer(url, '{}', 'text/plain'), 400, NO_DURATION);
    assertJson(await startTimer(url, '{"duration": true}', 'text/plain'), 400, INVALID_DURATION);
  });
});
