/**
 * Shutdown as an operator meets it: the last log line says `stopped` with how long it took, and an
 * idle server needs no timer to fire to get there (no fixed grace period hidden in the path).
 */
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { freePort, spawnServer } from '../../../test/helpers/server-process.js';
import { parseServerConfig, type ServerConfig } from './config/server-config.js';
import { startServer } from './start-server.js';

interface LogLine {
  level: number;
  msg: string;
  shutdownMs?: unknown;
}

describe('shutdown', () => {
  it('close() of an idle server ends without any timer firing and logs "stopped" with shutdownMs last', { timeout: 30_000 }, async () => {
    const lines: LogLine[] = [];
    const config = parseServerConfig(['--port', '0', '--store', 'sqlite', '--data-dir', ':memory:', '--log-level', 'info'], {}) as ServerConfig;
    const logStream = { write: (line: string) => lines.push(JSON.parse(line) as LogLine) };
    // Timers are frozen for the server's whole life: a shutdown that waited on one would never end,
    // and this test would fail by its timeout.
    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    try {
      const server = await startServer(config, false, { logStream });
      const answer = await fetch(`${server.url}/status`);
      assert.equal(answer.status, 404);
      await server.close();
    } finally {
      mock.timers.reset();
    }
    const last = lines.at(-1)!;
    assert.equal(last.msg, 'stopped');
    assert.equal(typeof last.shutdownMs, 'number');
  });

  it('SIGTERM: the process exits 0 and its last log line is "stopped" with shutdownMs', { timeout: 150_000 }, async () => {
    const server = await spawnServer(await freePort(), ['--store', 'memory', '--log-level', 'info']);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.output());
    const lines = server
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
    assert.equal(lines.at(-1)?.msg, 'stopped', server.output());
    assert.equal(typeof lines.at(-1)?.shutdownMs, 'number');
    assert.ok(lines.some((l) => l.msg === 'shutting down: draining held requests'));
  });
});
