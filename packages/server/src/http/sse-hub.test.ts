import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { SseHub, type SseStream } from './sse-hub.js';

describe('SseStream backpressure', () => {
  it('keeps only the latest event per key while a slow reader has the socket full, then sends it', async () => {
    const hub = new SseHub(60_000);
    let opened!: { stream: SseStream; raw: ServerResponse };
    const ready = new Promise<void>((resolve) => {
      const server = createServer((_req, raw) => {
        opened = { stream: hub.open(raw, {}, 1000), raw };
        resolve();
      });
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        client = connect(port, '127.0.0.1', () => client.write('GET /events HTTP/1.1\r\nhost: x\r\n\r\n'));
        client.pause(); // a reader that reads nothing until told
        closeServer = () => new Promise((done) => server.close(() => done()));
      });
    });
    let client!: ReturnType<typeof connect>;
    let closeServer!: () => Promise<void>;
    await ready;
    try {
      const { stream, raw } = opened;

      // Fill the socket and the kernel's buffers with filler events until a write is refused.
      const filler = 'x'.repeat(256 * 1024);
      let fillers = 0;
      while (!raw.writableNeedDrain) {
        stream.send(`filler-${fillers}`, { event: 'filler', data: filler });
        fillers++;
        if (fillers > 400) assert.fail('the socket never filled');
        await delay(1);
      }
      // Fifty snapshots of one job while blocked: only the last may be sent.
      for (let v = 1; v <= 50; v++) stream.send('job', { id: String(v), event: 'job', data: `{"version":${v}}` });
      stream.comment('heartbeat'); // skipped while blocked

      let text = '';
      client.setEncoding('latin1');
      // The answer is chunked (one chunk per write, so an event is never split); it ends with the last chunk.
      const ended = new Promise<void>((resolve) =>
        client.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('"version":50}') && !stream.isClosed) stream.close();
          if (text.endsWith('\r\n0\r\n\r\n')) resolve();
        }),
      );
      client.resume();
      await ended;
      const jobEvents = [...text.matchAll(/id: (\d+)\nevent: job\n/g)].map((m) => Number(m[1]));
      assert.deepEqual(jobEvents, [50]);
      assert.equal([...text.matchAll(/event: filler\n/g)].length, fillers, 'every event written before the block arrives');
      assert.ok(!text.includes(': heartbeat'));
      assert.equal(hub.size, 0);
    } finally {
      client.destroy();
      await closeServer();
    }
  });
});
