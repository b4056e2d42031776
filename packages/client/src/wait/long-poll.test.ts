import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createTransport } from '../client-options.js';
import { AttemptsExhaustedError, TimeoutError } from '../errors/errors.js';
import type { Transport } from '../http/transport.js';
import { Deadline } from './deadline.js';
import { followLooks, holdSeconds, longPoll, type Look } from './long-poll.js';

let transport: Transport;
let seen: IncomingHttpHeaders[] = [];
let answer: (res: ServerResponse) => void = (res) => res.end();
const server = createServer((req, res) => {
  seen.push(req.headers);
  answer(res);
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  transport = createTransport({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, retry: false });
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
});

function json(headers: Record<string, string> = {}, status = 200, body: unknown = { result: 'pending' }) {
  return (res: ServerResponse): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(status === 304 ? undefined : JSON.stringify(body));
  };
}

describe('longPoll', () => {
  test('asks for a hold with Prefer and a change from the ETag with If-None-Match, and reads Preference-Applied', async () => {
    answer = json({ 'preference-applied': 'wait=7' });
    const got = await longPoll(transport, { path: '/status', holdSeconds: 7, etag: 'W/"a.1"' });
    assert.equal(seen[0]?.prefer, 'wait=7');
    assert.equal(seen[0]?.['if-none-match'], 'W/"a.1"');
    assert.equal(got.heldSeconds, 7);
  });

  test('sends a plain GET without a hold, even with an ETag in hand', async () => {
    answer = json();
    await longPoll(transport, { path: '/status', holdSeconds: 0, etag: 'W/"a.1"' });
    assert.equal(seen[0]?.prefer, undefined);
    assert.equal(seen[0]?.['if-none-match'], undefined);
  });

  test('reports no hold from a server that ignores Prefer (the seed), and its Retry-After in ms', async () => {
    answer = json({ 'retry-after': '3' });
    const got = await longPoll(transport, { path: '/status', holdSeconds: 30 });
    assert.equal(got.heldSeconds, 0);
    assert.equal(got.retryAfterMs, 3000);
  });

  test('a refused hold (JOBWAIT_ERR_TOO_MANY_HELD) is read again at once without holding, not failed', async () => {
    const answers = [
      json({ 'retry-after': '5', 'content-type': 'application/problem+json' }, 429, { code: 'JOBWAIT_ERR_TOO_MANY_HELD', status: 429, limit: 3 }),
      json({ 'retry-after': '2' }),
    ];
    answer = (res) => answers.shift()!(res);
    const got = await longPoll(transport, { path: '/v1/jobs/a', holdSeconds: 30, etag: 'W/"a.1"' });
    assert.equal(seen.length, 2);
    assert.equal(seen[0]?.prefer, 'wait=30');
    assert.equal(seen[1]?.prefer, undefined, 'the second look is not held');
    assert.equal(got.holdRefused, true);
    assert.equal(got.heldSeconds, 0);
    assert.equal(got.retryAfterMs, 2000, 'the sooner of the two Retry-After');
  });

  test('another 429 (the rate limit) is not taken for a refused hold', async () => {
    answer = json({ 'retry-after': '1' }, 429, { code: 'JOBWAIT_ERR_RATE_LIMITED', status: 429 });
    await assert.rejects(longPoll(transport, { path: '/v1/jobs/a', holdSeconds: 30 }), (error: Error & { status?: number }) => error.status === 429);
    assert.equal(seen.length, 1);
  });

  test('takes a 304 as an answer to a conditional hold, and as an error otherwise', async () => {
    answer = json({ 'preference-applied': 'wait=1' }, 304);
    const got = await longPoll(transport, { path: '/v1/jobs/a', holdSeconds: 1, etag: 'W/"a.1"' });
    assert.equal(got.status, 304);
    await assert.rejects(longPoll(transport, { path: '/status', holdSeconds: 1 }), { code: 'JOBWAIT_ERR_HTTP', status: 304 });
  });
});

describe('holdSeconds', () => {
  test('is the asked hold while the deadline is far, cut to the whole seconds left near it, and 0 for the final look', () => {
    assert.equal(holdSeconds(30, { deadline: new Deadline(undefined), final: false }), 30);
    assert.equal(holdSeconds(30, { deadline: new Deadline(2_500), final: false }), 2);
    assert.equal(holdSeconds(30, { deadline: new Deadline(900), final: false }), 0);
    assert.equal(holdSeconds(30, { deadline: new Deadline(60_000), final: true }), 0);
  });
});

describe('followLooks', () => {
  const SLOW = { initialDelayMs: 10_000, factor: 1, minDelayMs: 10_000, maxRelativeDelay: 1, maxDelayMs: 10_000 };

  test('follows a held answer that is still pending at once, whatever the schedule says', async () => {
    let n = 0;
    const value = await followLooks<number>(async () => ({ value: ++n, heldSeconds: 30, hintMs: 60_000 }), { isDone: (v) => v === 3, schedule: SLOW });
    assert.equal(value, 3);
  });

  test('sleeps as the server hints between plain looks, unless hints are turned off', async () => {
    let n = 0;
    const look = async (): Promise<Look<number>> => ({ value: ++n, heldSeconds: 0, hintMs: 0 });
    assert.equal(await followLooks(look, { isDone: (v) => v === 3, schedule: SLOW, timeoutMs: 5_000 }), 3);
    // Without hints the 10 s schedule applies: one look, then only the final look at the deadline.
    n = 0;
    await assert.rejects(followLooks(look, { isDone: (v) => v === 3, schedule: SLOW, useHints: false, timeoutMs: 50 }), (error: unknown) => {
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.lastValue, 2);
      return true;
    });
  });

  test('hands back the state, not the look, in TimeoutError and AttemptsExhaustedError', async () => {
    const look = async (): Promise<Look<string>> => ({ value: 'pending', heldSeconds: 0, hintMs: undefined });
    await assert.rejects(followLooks(look, { isDone: () => false, timeoutMs: 20, schedule: SLOW }), (error: unknown) => {
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.lastValue, 'pending');
      return true;
    });
    await assert.rejects(followLooks(look, { isDone: () => false, maxAttempts: 2, schedule: { ...SLOW, initialDelayMs: 1, minDelayMs: 1, maxDelayMs: 1 } }), (error: unknown) => {
      assert.ok(error instanceof AttemptsExhaustedError);
      assert.equal(error.lastValue, 'pending');
      return true;
    });
  });

  test('passes each state seen to onPoll', async () => {
    let n = 0;
    const seenStates: number[] = [];
    await followLooks<number>(async () => ({ value: ++n, heldSeconds: 1, hintMs: undefined }), { isDone: (v) => v === 3, onPoll: (v) => seenStates.push(v) });
    assert.deepEqual(seenStates, [1, 2, 3]);
  });
});
