import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createTransport, type ClientOptions } from '../client-options.js';
import { AbortError, BadResponseError, HttpError, InvalidOptionError, NetworkError, RequestTimeoutError } from '../errors/errors.js';
import { JobwaitClient } from '../jobs/jobwait-client.js';
import type { Job } from '../jobs/job.js';
import { Deadline } from '../wait/deadline.js';
import type { Transport } from './transport.js';

interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Handler = (request: SeenRequest, res: ServerResponse, n: number) => void;

let server: Server;
let baseUrl: string;
let seen: SeenRequest[] = [];
let handle: Handler = (_req, res) => res.end();
/** Responses a "never answers" handler holds open, ended on teardown. */
const held: ServerResponse[] = [];

const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5 };

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const JOB: Job = {
  id: 'job_1',
  status: 'pending',
  progress: 0,
  etaMs: 5000,
  createdAt: '2025-01-01T00:00:00.000Z',
  dueAt: '2025-01-01T00:00:05.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  duration: 5,
  version: 1,
};

function transport(options: Partial<ClientOptions> = {}): Transport {
  return createTransport({ baseUrl, retry: FAST_RETRY, ...options });
}

function client(options: Partial<ClientOptions> = {}): JobwaitClient {
  return new JobwaitClient({ baseUrl, retry: FAST_RETRY, ...options });
}

before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(request);
      handle(request, res, seen.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

beforeEach(() => {
  seen = [];
  handle = (_req, res) => json(res, 500, { error: 'no handler set' });
});

describe('Transport', () => {
  test('retries a 503 and returns the answer that follows', async () => {
    handle = (_req, res, n) => (n < 3 ? json(res, 503, { error: 'busy' }) : json(res, 200, { ok: true, n }));
    const answer = await transport().request<{ ok: boolean; n: number }>({ method: 'GET', path: '/thing' });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { ok: true, n: 3 });
    assert.equal(answer.headers.get('content-type'), 'application/json');
    assert.deepEqual(
      seen.map((r) => `${r.method} ${r.url}`),
      ['GET /thing', 'GET /thing', 'GET /thing'],
    );
  });

  test('reports each retry with its attempt number, delay and error', async () => {
    handle = (_req, res, n) => (n < 3 ? json(res, 502, {}) : json(res, 200, {}));
    const retries: { attempt: number; delayMs: number; status: unknown }[] = [];
    await transport().request({
      method: 'GET',
      path: '/thing',
      onRetry: ({ attempt, delayMs, error }) => retries.push({ attempt, delayMs, status: (error as HttpError).status }),
    });
    assert.deepEqual(
      retries.map((r) => [r.attempt, r.status]),
      [
        [1, 502],
        [2, 502],
      ],
    );
    for (const r of retries) assert.ok(r.delayMs >= 0 && r.delayMs <= 5, `delay ${r.delayMs} ms is outside the 5 ms cap`);
  });

  test('honours Retry-After: 0 and retries at once, even with a long backoff configured', async () => {
    handle = (_req, res, n) => (n === 1 ? json(res, 503, { error: 'busy' }, { 'retry-after': '0' }) : json(res, 200, { ok: true }));
    const transport = createTransport({ baseUrl, retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 } });
    const delays: number[] = [];
    const started = performance.now();
    const answer = await transport.request({ method: 'GET', path: '/thing', onRetry: ({ delayMs }) => delays.push(delayMs) });
    assert.deepEqual(answer.body, { ok: true });
    assert.deepEqual(delays, [0]);
    assert.equal(seen.length, 2);
    assert.ok(performance.now() - started < 1000, 'waited for the backoff instead of Retry-After');
  });

  test('does not retry a 400 and surfaces status, body and server code from problem+json', async () => {
    const problem = {
      type: 'https://jobwait.dev/problems/invalid-duration',
      title: 'Invalid duration',
      status: 400,
      detail: 'duration must be a number > 0',
      code: 'JOBWAIT_ERR_INVALID_DURATION',
    };
    handle = (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify(problem));
    };
    const error = await transport()
      .request({ method: 'POST', path: '/v1/jobs', body: { duration: -1 } })
      .then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof HttpError, String(error));
    assert.equal(error.code, 'JOBWAIT_ERR_HTTP');
    assert.equal(error.status, 400);
    assert.deepEqual(error.body, problem);
    assert.equal(error.serverCode, 'JOBWAIT_ERR_INVALID_DURATION');
    assert.match(error.message, /^POST http:\/\/127\.0\.0\.1:\d+\/v1\/jobs answered 400: duration must be a number > 0$/);
    assert.equal(seen.length, 1);
  });

  test('surfaces the seed server\'s {"error"} body on a 404 without retrying', async () => {
    handle = (_req, res) => json(res, 404, { error: 'No timer started' });
    await assert.rejects(transport().request({ method: 'GET', path: '/status' }), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 404);
      assert.deepEqual(error.body, { error: 'No timer started' });
      assert.equal(error.serverCode, undefined);
      assert.match(error.message, /answered 404: No timer started$/);
      return true;
    });
    assert.equal(seen.length, 1);
  });

  test('keeps a non-JSON error page as the detail of the HttpError', async () => {
    handle = (_req, res) => {
      res.writeHead(403, { 'content-type': 'text/html' });
      res.end('<h1>Forbidden by proxy</h1>');
    };
    await assert.rejects(transport().request({ method: 'GET', path: '/x' }), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 403);
      assert.deepEqual(error.body, { detail: '<h1>Forbidden by proxy</h1>' });
      return true;
    });
  });

  test('gives up with the last HttpError and its Retry-After once retries run out', async () => {
    handle = (_req, res) => json(res, 503, { error: 'down' }, { 'retry-after': '0' });
    await assert.rejects(transport({ retry: { ...FAST_RETRY, limit: 2 } }).request({ method: 'GET', path: '/x' }), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 503);
      assert.equal(error.retryAfter, '0');
      return true;
    });
    assert.equal(seen.length, 3);
  });

  test('sends a request once when retries are off', async () => {
    handle = (_req, res) => json(res, 503, {});
    await assert.rejects(transport({ retry: false }).request({ method: 'GET', path: '/x' }), HttpError);
    assert.equal(seen.length, 1);
  });

  test('retries garbage JSON on a 200, then rejects with BadResponseError', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status": "pend');
    };
    await assert.rejects(transport({ retry: { ...FAST_RETRY, limit: 2 } }).request({ method: 'GET', path: '/x' }), (error: unknown) => {
      assert.ok(error instanceof BadResponseError, String(error));
      assert.equal(error.code, 'JOBWAIT_ERR_BAD_RESPONSE');
      assert.ok(error.cause instanceof SyntaxError);
      return true;
    });
    assert.equal(seen.length, 3);
  });

  test('recovers when garbage JSON is followed by a good answer', async () => {
    handle = (_req, res, n) => (n === 1 ? res.end('not json') : json(res, 200, { fine: true }));
    assert.deepEqual((await transport().request({ method: 'GET', path: '/x' })).body, { fine: true });
    assert.equal(seen.length, 2);
  });

  test('treats an empty 200 body as unreadable', async () => {
    handle = (_req, res) => res.end();
    await assert.rejects(transport({ retry: false }).request({ method: 'GET', path: '/x' }), BadResponseError);
  });

  test('rejects with RequestTimeoutError when the server never answers, after retrying', async () => {
    handle = (_req, res) => {
      held.push(res);
    };
    const started = performance.now();
    const pending = transport({ requestTimeoutMs: 100, retry: { ...FAST_RETRY, limit: 1 } }).request({ method: 'GET', path: '/hang' });
    await assert.rejects(pending, (error: unknown) => {
      assert.ok(error instanceof RequestTimeoutError, String(error));
      assert.equal(error.code, 'JOBWAIT_ERR_REQUEST_TIMEOUT');
      assert.equal(error.timeoutMs, 100);
      return true;
    });
    const took = performance.now() - started;
    assert.equal(seen.length, 2);
    assert.ok(took >= 180 && took < 2000, `took ${took} ms for two 100 ms attempts`);
  });

  test('times out a response whose body never ends', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":');
      held.push(res);
    };
    await assert.rejects(
      transport({ requestTimeoutMs: 100, retry: false }).request({ method: 'GET', path: '/slow-body' }),
      RequestTimeoutError,
    );
  });

  test('rejects with NetworkError when nothing listens, after retrying', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const retries: number[] = [];
    await assert.rejects(
      createTransport({ baseUrl: `http://127.0.0.1:${port}`, retry: { ...FAST_RETRY, limit: 2 } }).request({
        method: 'GET',
        path: '/x',
        onRetry: ({ attempt }) => retries.push(attempt),
      }),
      (error: unknown) => {
        assert.ok(error instanceof NetworkError, String(error));
        assert.equal(error.code, 'JOBWAIT_ERR_NETWORK');
        return true;
      },
    );
    assert.deepEqual(retries, [1, 2]);
  });

  test('stops retrying when the next retry would pass the deadline', async () => {
    handle = (_req, res) => json(res, 503, {}, { 'retry-after': '5' });
    const started = performance.now();
    await assert.rejects(transport().request({ method: 'GET', path: '/x', deadline: new Deadline(1000) }), HttpError);
    assert.equal(seen.length, 1);
    assert.ok(performance.now() - started < 500, 'slept towards a retry the deadline could not allow');
  });

  test('rejects at once with AbortError when aborted during a retry wait, without another request', async () => {
    handle = (_req, res) => json(res, 503, {}, { 'retry-after': '10' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    await assert.rejects(transport().request({ method: 'GET', path: '/x', signal: controller.signal }), (error: unknown) => {
      assert.ok(error instanceof AbortError, String(error));
      assert.equal(error.code, 'JOBWAIT_ERR_ABORTED');
      return true;
    });
    assert.ok(performance.now() - started < 1000);
    assert.equal(seen.length, 1);
  });

  test('rejects with AbortError, not a timeout or network error, when aborted mid-request', async () => {
    handle = (_req, res) => {
      held.push(res);
    };
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    await assert.rejects(transport().request({ method: 'GET', path: '/hang', signal: controller.signal }), AbortError);
    assert.equal(seen.length, 1);
  });

  test('sends JSON bodies, query strings, extra headers and accepts JSON', async () => {
    handle = (_req, res) => json(res, 200, {});
    await transport({ headers: { 'x-trace': 'abc' } }).request({
      method: 'POST',
      path: '/v1/things',
      query: { a: 1, b: 'x y', skipped: undefined },
      body: { duration: 3 },
    });
    const [request] = seen;
    assert.equal(request?.url, '/v1/things?a=1&b=x+y');
    assert.equal(request?.body, '{"duration":3}');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers.accept, 'application/json');
    assert.equal(request?.headers['x-trace'], 'abc');
  });

  test('keeps a path prefix of baseUrl and drops its trailing slash', async () => {
    handle = (_req, res) => json(res, 200, JOB);
    await new JobwaitClient({ baseUrl: `${baseUrl}/api/`, retry: FAST_RETRY }).getJob('job 1');
    assert.equal(seen[0]?.url, '/api/v1/jobs/job%201');
  });
});

describe('JobwaitClient over the transport', () => {
  test('sends the same Idempotency-Key on every retry of createJob', async () => {
    handle = (_req, res, n) => (n < 3 ? json(res, 503, { error: 'busy' }) : json(res, 201, JOB, { location: '/v1/jobs/job_1' }));
    const job = await client().createJob({ duration: 5, metadata: { video: 'a.mp4' } });
    assert.deepEqual(job, JOB);
    assert.equal(seen.length, 3);
    const keys = seen.map((r) => r.headers['idempotency-key']);
    assert.equal(typeof keys[0], 'string');
    assert.ok((keys[0] as string).length >= 16, `key ${String(keys[0])} is too short to be unique`);
    assert.deepEqual(keys, [keys[0], keys[0], keys[0]]);
    for (const r of seen) {
      assert.equal(`${r.method} ${r.url}`, 'POST /v1/jobs');
      assert.deepEqual(JSON.parse(r.body), { duration: 5, metadata: { video: 'a.mp4' } });
    }
  });

  test('uses a fresh Idempotency-Key per createJob call, or the one given', async () => {
    handle = (_req, res) => json(res, 201, JOB);
    const jobs = client();
    await jobs.createJob({ duration: 1 });
    await jobs.createJob({ duration: 1 });
    await jobs.createJob({ duration: 1 }, { idempotencyKey: 'order-42' });
    const [first, second, given] = seen.map((r) => r.headers['idempotency-key']);
    assert.notEqual(first, second);
    assert.equal(given, 'order-42');
  });

  test('carries the apiKey as a Bearer token in Authorization', async () => {
    handle = (_req, res) => json(res, 200, JOB);
    await client({ apiKey: 'jw_test_secret' }).getJob('job_1');
    assert.equal(seen[0]?.headers.authorization, 'Bearer jw_test_secret');
  });

  test('sends no Authorization header without an apiKey', async () => {
    handle = (_req, res) => json(res, 200, JOB);
    await client().getJob('job_1');
    assert.equal(seen[0]?.headers.authorization, undefined);
  });

  test('rejects a 200 that is not a job with BadResponseError', async () => {
    handle = (_req, res) => json(res, 200, { hello: 'world' });
    await assert.rejects(client().getJob('job_1'), BadResponseError);
  });

  for (const bad of ['not a url', '', '/v1', 'ftp://example.com', 'file:///etc/passwd', 'javascript:alert(1)']) {
    test(`rejects baseUrl ${JSON.stringify(bad)} with InvalidOptionError`, () => {
      assert.throws(
        () => new JobwaitClient({ baseUrl: bad }),
        (error: unknown) => error instanceof InvalidOptionError && error.code === 'JOBWAIT_ERR_INVALID_OPTION',
      );
    });
  }

  test('rejects a missing baseUrl, a bad requestTimeoutMs, an empty apiKey and bad retry options', () => {
    const bad: unknown[] = [
      {},
      undefined,
      { baseUrl, requestTimeoutMs: 0 },
      { baseUrl, requestTimeoutMs: Number.NaN },
      { baseUrl, apiKey: '' },
      { baseUrl, retry: { limit: -1 } },
      { baseUrl, retry: null },
    ];
    for (const options of bad) {
      assert.throws(() => createTransport(options as ClientOptions), InvalidOptionError, JSON.stringify(options));
    }
  });
});
