/** Read tokens in the client: sent instead of a key, renewed through `getToken` when the server says they expired. */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { HttpError, InvalidOptionError } from '../errors/errors.js';
import { JobwaitClient } from '../jobs/jobwait-client.js';
import type { Job } from '../jobs/job.js';

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
}

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let handle: (req: Seen, res: ServerResponse, n: number) => void = (_req, res) => res.end();

const job = (status: Job['status'], version: number): Job => ({
  id: 'job_1',
  status,
  progress: status === 'pending' ? 0.5 : 1,
  etaMs: status === 'pending' ? 2500 : 0,
  createdAt: '2025-01-01T00:00:00.000Z',
  dueAt: '2025-01-01T00:00:05.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  duration: 5,
  version,
});

function problem(res: ServerResponse, status: number, code: string): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ status, code, detail: code }));
}

/** Answers reads of job_1 to the holder of `valid`, and "expired" to any other `jwb_` token. */
function readsFor(valid: () => string, answer: (res: ServerResponse) => void) {
  return (req: Seen, res: ServerResponse): void => {
    if (req.headers.authorization !== `Bearer ${valid()}`) return problem(res, 401, 'JOBWAIT_ERR_TOKEN_EXPIRED');
    answer(res);
  };
}

before(async () => {
  server = createServer((req, res) => {
    const entry = { url: req.url ?? '', headers: req.headers };
    seen.push(entry);
    req.resume();
    req.on('end', () => handle(entry, res, seen.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());
beforeEach(() => {
  seen = [];
});

describe('client with a read token', () => {
  test('refuses an API key together with a token', () => {
    assert.throws(() => new JobwaitClient({ baseUrl, apiKey: 'jw_x', token: 'jwb_x' }), InvalidOptionError);
    assert.throws(() => new JobwaitClient({ baseUrl, token: '' }), InvalidOptionError);
  });

  test('sends the token as a Bearer header, never in the URL', async () => {
    handle = (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(job('pending', 1)));
    await new JobwaitClient({ baseUrl, token: 'jwb_first.sig' }).getJob('job_1');
    assert.equal(seen[0]!.headers.authorization, 'Bearer jwb_first.sig');
    assert.equal(seen[0]!.url.includes('jwb_'), false);
  });

  test('asks getToken once for the first token, shared by concurrent requests', async () => {
    let calls = 0;
    handle = (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(job('pending', 1)));
    const client = new JobwaitClient({ baseUrl, getToken: async () => `jwb_${++calls}.sig` });
    await Promise.all([client.getJob('job_1'), client.getJob('job_1'), client.getJob('job_1')]);
    assert.equal(calls, 1);
    assert.deepEqual(seen.map((s) => s.headers.authorization), ['Bearer jwb_1.sig', 'Bearer jwb_1.sig', 'Bearer jwb_1.sig']);
  });

  test('on 401 expired fetches one fresh token for requests that failed together, and repeats them', async () => {
    let current = 'jwb_old.sig';
    let calls = 0;
    handle = readsFor(() => 'jwb_new.sig', (res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(job('pending', 1))));
    const client = new JobwaitClient({
      baseUrl,
      token: current,
      retry: false,
      getToken: async () => {
        calls++;
        current = 'jwb_new.sig';
        return current;
      },
    });
    const jobs = await Promise.all([client.getJob('job_1'), client.getJob('job_1')]);
    assert.equal(jobs.length, 2);
    assert.equal(calls, 1, 'one renewal for both');
    assert.equal(seen.filter((s) => s.headers.authorization === 'Bearer jwb_new.sig').length, 2);
  });

  test('without getToken, or for a refusal other than expiry, the 401 is the answer', async () => {
    handle = (_req, res) => problem(res, 401, 'JOBWAIT_ERR_TOKEN_EXPIRED');
    await assert.rejects(new JobwaitClient({ baseUrl, token: 'jwb_old.sig', retry: false }).getJob('job_1'), (e: unknown) => e instanceof HttpError && e.serverCode === 'JOBWAIT_ERR_TOKEN_EXPIRED');
    let calls = 0;
    handle = (_req, res) => problem(res, 401, 'JOBWAIT_ERR_UNAUTHORIZED');
    const client = new JobwaitClient({ baseUrl, retry: false, getToken: () => `jwb_${++calls}.sig` });
    await assert.rejects(client.getJob('job_1'), (e: unknown) => e instanceof HttpError && e.status === 401);
    assert.equal(calls, 1, 'only the first token was fetched');
  });

  test('gives up after a few fresh tokens that are all expired', async () => {
    let calls = 0;
    handle = (_req, res) => problem(res, 401, 'JOBWAIT_ERR_TOKEN_EXPIRED');
    const client = new JobwaitClient({ baseUrl, retry: false, getToken: () => `jwb_${++calls}.sig` });
    await assert.rejects(client.getJob('job_1'), HttpError);
    assert.ok(calls <= 4, `asked ${calls} times`);
  });

  test('a stream ended at its token\'s expiry resumes with a fresh token after the last event, and gets the final one', async () => {
    let valid = 'jwb_old.sig';
    handle = readsFor(
      () => valid,
      (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (valid === 'jwb_old.sig') {
          // The first token's stream: one state, then the server ends it as the token expires.
          res.end(`id: 1\nevent: job\ndata: ${JSON.stringify(job('pending', 1))}\n\nretry: 0\n\n`);
          valid = 'jwb_new.sig';
          return;
        }
        res.end(`id: 2\nevent: job\ndata: ${JSON.stringify(job('completed', 2))}\n\n`);
      },
    );
    let calls = 0;
    const client = new JobwaitClient({ baseUrl, token: 'jwb_old.sig', getToken: () => (calls++, 'jwb_new.sig') });
    const states: string[] = [];
    for await (const state of client.watchJob('job_1')) states.push(`${state.status}@${state.version}`);
    assert.deepEqual(states, ['pending@1', 'completed@2']);
    assert.equal(calls, 1);
    assert.deepEqual(
      seen.map((s) => [s.headers.authorization, s.headers['last-event-id']]),
      [
        ['Bearer jwb_old.sig', undefined],
        ['Bearer jwb_old.sig', '1'],
        ['Bearer jwb_new.sig', '1'],
      ],
    );
  });
});
