/**
 * A worker reporting progress as fast as it can, watched by an event stream whose reader does not
 * read: while its socket is full, the stream keeps only the latest version of the job, so when the
 * reader reads at last it gets a handful of versions, not a backlog of every one, and the last
 * is the final state. Counts, never times, are asserted.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

/** Reports the worker makes before its final one. */
const REPORTS = 800;
/**
 * Each snapshot is ~17 KB (metadata, at its limit, rides in every event, and so does the message):
 * the 14 MB of every version are far more than the socket's buffers hold.
 */
const METADATA_BYTES = 16 * 1024 - 20;

interface Created {
  id: string;
  reportToken: string;
}

async function report(server: TestServer, job: Created, body: Record<string, unknown>): Promise<{ version: number }> {
  const res = await fetch(`${server.url}/v1/jobs/${job.id}/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${job.reportToken}` },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { version: number };
}

/** Opens the job's event stream on a raw socket and resolves once the answer's head arrived; the socket is then paused. */
async function openPausedStream(url: string, id: string): Promise<{ socket: Socket; head: Buffer }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.write(`GET /v1/jobs/${id}/events HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`);
  const head = await new Promise<Buffer>((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      // The head and the first event (the job as it is): from here on the reader stops reading.
      if (got.includes('\r\n\r\n') && got.includes('event: job')) {
        socket.off('data', onData);
        socket.pause();
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  return { socket, head };
}

/** Reads the rest of the stream to its end. */
function readToEnd(socket: Socket, head: Buffer): Promise<string> {
  const chunks: Buffer[] = [head];
  return new Promise((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.once('error', reject);
    socket.resume();
  });
}

/** The `job` events of a chunked SSE body: version (the event id), status and progress of each. */
function jobEvents(raw: string): { version: number; status: string; progress: number }[] {
  const events: { version: number; status: string; progress: number }[] = [];
  for (const match of raw.matchAll(/id: (\d+)\nevent: job\ndata: (\{.*?\})\n\n/gs)) {
    const job = JSON.parse(match[2]!) as { status: string; progress: number; version: number };
    assert.equal(job.version, Number(match[1]));
    events.push({ version: job.version, status: job.status, progress: job.progress });
  }
  return events;
}

describe('event stream of a job whose worker reports very fast', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ store: 'memory', rateLimit: 0 });
  });
  after(() => server.close());

  it('gives a reader that does not keep up the latest version, not every one, and ends with the final state', async (t) => {
    const res = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { blob: 'x'.repeat(METADATA_BYTES) } }),
    });
    assert.equal(res.status, 201);
    const job = (await res.json()) as Created;
    const { socket, head } = await openPausedStream(server.url, job.id);
    try {
      // Four reporters at once, like a worker's parallel steps: every report is a new version.
      let next = 1;
      const reporter = async (): Promise<void> => {
        for (let i = next++; i <= REPORTS; i = next++) await report(server, job, { event: 'progress', progress: i / (REPORTS + 1), message: `chunk ${i} `.padEnd(1000, '.') });
      };
      await Promise.all([reporter(), reporter(), reporter(), reporter()]);
      const finalVersion = (await report(server, job, { event: 'completed', result: 'https://cdn.example/out.mp4' })).version;
      const events = jobEvents(await readToEnd(socket, head));
      assert.equal(events.at(-1)?.status, 'completed', 'the last event is the final state');
      assert.equal(events.at(-1)?.version, finalVersion);
      t.diagnostic(`${events.length} events for ${finalVersion} versions`);
      assert.ok(finalVersion > REPORTS / 2);
      assert.ok(events.length < finalVersion / 2, `${events.length} events for ${finalVersion} versions: the versions the reader could not take were folded`);
      for (let i = 1; i < events.length; i++) assert.ok(events[i]!.version > events[i - 1]!.version, 'versions only go forward');
    } finally {
      socket.destroy();
    }
  });
});
