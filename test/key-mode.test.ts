/**
 * Issue 13, item 2: keys fail closed. Data that never held a key runs open; the first key created
 * (by `jobwait keys create`, as an operator would, on the server's data) turns keys on, and revoking
 * keys, even the last one, never turns them off: no key, a garbage key and the revoked key all get
 * 401, also once the server's cache of the mode has expired. Only `jobwait keys open-access --yes`
 * opens the server again, and the server logs each mode, at start and on every change. On SQLite
 * (a data folder of its own) and Redis (a prefix of its own); the server's clock is the test's, so
 * "after the cache's lifetime" is a step of that clock, not a sleep.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { ACCESS_MODE_TTL_MS, generateApiKey, type ServerOptions } from '@jobwait/server';
import { runCli } from '../packages/cli/src/cli.js';
import { EXIT } from '../packages/cli/src/exit-codes.js';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';
import { deleteKeys, TEST_REDIS_URL, testRedis, uniquePrefix } from './helpers/redis.js';

interface LogLine {
  level: number;
  msg: string;
  accessMode?: 'open' | 'keys';
  reason?: string;
}

const WARN = 40;

/** Keeps what a command writes. */
class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/** Where one test's data lives: the server's options and the same place as `jobwait keys` flags. */
interface Place {
  options: ServerOptions;
  flags: string[];
  /** Makes the stored mode unreadable (a broken store, not a missing mode). */
  breakMode(): Promise<void>;
  dispose(): Promise<void>;
}

const PLACES: Record<'sqlite' | 'redis', () => Place> = {
  sqlite() {
    const dir = mkdtempSync(join(tmpdir(), 'jobwait-key-mode-'));
    return {
      options: { store: 'sqlite', dataDir: dir },
      flags: ['--data-dir', dir],
      async breakMode() {
        const { default: Database } = await import('better-sqlite3');
        const db = new Database(join(dir, 'jobwait.db'));
        db.exec('DROP TABLE access_mode');
        db.close();
      },
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  redis() {
    const prefix = uniquePrefix('key-mode');
    return {
      options: { store: 'redis', redisUrl: TEST_REDIS_URL, redisPrefix: prefix },
      flags: ['--store', 'redis', '--redis-url', TEST_REDIS_URL, '--redis-prefix', prefix],
      async breakMode() {
        const redis = testRedis();
        await redis.set(`${prefix}access`, 'not a hash');
        redis.disconnect();
      },
      dispose: async () => void (await deleteKeys(prefix)),
    };
  },
};

/** A server on `place` with the test's clock and log. */
class Harness {
  clock = Date.now();
  readonly logs: string[] = [];
  server!: TestServer;

  constructor(readonly place: Place) {}

  async start(options: ServerOptions = {}): Promise<void> {
    this.server = await startTestServer(
      { ...this.place.options, rateLimit: 0, logLevel: 'info', ...options },
      { now: () => this.clock, logStream: { write: (line: string) => this.logs.push(line) } },
    );
  }

  /** Moves the server's clock past the lifetime of its cached access mode. */
  passCache(): void {
    this.clock += ACCESS_MODE_TTL_MS + 1;
  }

  /** Lines about the access mode logged since `from`. */
  modeLines(from = 0): LogLine[] {
    return this.logs
      .slice(from)
      .map((l) => JSON.parse(l) as LogLine)
      .filter((l) => l.accessMode !== undefined);
  }

  async status(path: string, key?: string): Promise<number> {
    const res = await fetch(`${this.server.url}${path}`, { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });
    await res.arrayBuffer();
    return res.status;
  }

  /** `jobwait keys <args>` on this place, in-process as the binary runs it. */
  async keys(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out = new Capture();
    const err = new Capture();
    const code = await runCli(['keys', ...args, ...this.place.flags], { out, err }, {}, new AbortController().signal);
    return { code, out: out.text, err: err.text };
  }
}

const GARBAGE = `jw_${'a'.repeat(12)}_${'b'.repeat(43)}`;
const API_PATHS = ['/status', '/v1/jobs', `/v1/jobs/job_${'0'.repeat(26)}`];

for (const kind of ['sqlite', 'redis'] as const) {
  describe(`key mode (${kind})`, () => {
    it('fresh data runs open; the first key requires keys; revoking it leaves every request refused; open-access reopens, logged', async () => {
      const h = new Harness(PLACES[kind]());
      try {
        await h.start();
        const timer = await fetch(`${h.server.url}/start-timer`, { method: 'POST', body: JSON.stringify({ duration: 60 }) });
        assert.equal(timer.status, 200, 'open: no key needed');
        assert.equal(await h.status('/status'), 200);
        assert.equal(await h.status('/v1/jobs'), 200);
        const [start] = h.modeLines();
        assert.deepEqual([start?.level, start?.accessMode, start?.reason], [WARN, 'open', 'no API key was ever created'], 'the start line says open, and why');

        const created = await h.keys('create', '--name', 'ops');
        assert.equal(created.code, EXIT.ok, created.err);
        assert.match(created.err, /this was the first key: every server on this data now requires keys/);
        const key = created.out.trim();
        const id = key.slice(3, 15);
        h.passCache();
        const beforeRequired = h.logs.length;
        for (const path of API_PATHS) assert.equal(await h.status(path), 401, `${path} without a key`);
        assert.equal(await h.status('/v1/jobs', key), 200);
        const [required] = h.modeLines(beforeRequired);
        assert.equal(required?.level, WARN);
        assert.equal(required?.accessMode, 'keys');
        assert.match(required!.msg, new RegExp(`access mode changed: API keys are now required \\(API key ${id} created\\)`));

        const revoked = await h.keys('revoke', id);
        assert.equal(revoked.code, EXIT.ok, revoked.err);
        assert.match(revoked.err, /no active key is left: servers on this data still require keys/);
        const refusedEverywhere = async (when: string) => {
          for (const path of API_PATHS) {
            for (const [who, sent] of [['no key', undefined], ['a garbage key', GARBAGE], ['the revoked key', key]] as const) {
              assert.equal(await h.status(path, sent), 401, `${path} with ${who}, ${when}`);
            }
          }
        };
        await refusedEverywhere('at once');
        h.passCache();
        await refusedEverywhere('once the cached mode has expired');

        // A restart reads the mode from the data: still keys, and the start line says why.
        await h.server.close();
        const beforeRestart = h.logs.length;
        await h.start();
        await refusedEverywhere('after a restart');
        const [restarted] = h.modeLines(beforeRestart);
        assert.equal(restarted?.accessMode, 'keys');
        assert.equal(restarted?.reason, `API key ${id} created`);

        const unconfirmed = await h.keys('open-access');
        assert.equal(unconfirmed.code, EXIT.usage);
        assert.match(unconfirmed.err, /turns API keys off for every server on this data: each request is then let in without a key/);
        assert.match(unconfirmed.err, /--yes/);
        h.passCache();
        assert.equal(await h.status('/v1/jobs'), 401, 'nothing changed without --yes');

        const opened = await h.keys('open-access', '--yes');
        assert.equal(opened.code, EXIT.ok, opened.err);
        assert.match(opened.out, /access opened/);
        const beforeOpen = h.logs.length;
        h.passCache();
        assert.equal(await h.status('/v1/jobs'), 200, 'open again');
        assert.equal(await h.status('/status'), 200, "the open tenant's timer is there again");
        const [reopened] = h.modeLines(beforeOpen);
        assert.equal(reopened?.level, WARN);
        assert.equal(reopened?.accessMode, 'open');
        assert.match(reopened!.msg, /access mode changed: running OPEN, every request acts as one tenant without a key \(opened by `jobwait keys open-access`\)/);
        assert.equal(h.modeLines(beforeOpen).length, 1, 'one line per change, not per request');
      } finally {
        await h.server?.close();
        await h.place.dispose();
      }
    });

    it('open-access is refused while a key is active; a mode that cannot be read is a 503, never open', async () => {
      const h = new Harness(PLACES[kind]());
      try {
        await h.start();
        const created = await h.keys('create', '--name', 'live');
        assert.equal(created.code, EXIT.ok, created.err);
        const refused = await h.keys('open-access', '--yes');
        assert.equal(refused.code, EXIT.requestFailed);
        assert.match(refused.err, new RegExp(`1 key\\(s\\) still active \\(${created.out.trim().slice(3, 15)}\\): revoke them first`));
        h.passCache();
        assert.equal(await h.status('/v1/jobs'), 401);
        assert.equal(await h.status('/v1/jobs', created.out.trim()), 200);

        await h.place.breakMode();
        h.passCache();
        for (const path of API_PATHS) {
          const res = await fetch(`${h.server.url}${path}`);
          await res.arrayBuffer();
          assert.equal(res.status, 503, `${path} while the mode cannot be read`);
          assert.equal(res.headers.get('retry-after'), '1');
        }
      } finally {
        await h.server?.close();
        await h.place.dispose();
      }
    });
  });
}

describe('key mode with --api-keys', () => {
  it('a key given at start requires keys from the start, and stays required when the server restarts without it', async () => {
    const h = new Harness(PLACES.sqlite());
    const given = generateApiKey();
    try {
      await h.start({ apiKeys: [given.key] });
      assert.equal(await h.status('/v1/jobs'), 401);
      assert.equal(await h.status('/v1/jobs', given.key), 200);
      const [start] = h.modeLines();
      assert.deepEqual([start?.accessMode, start?.reason], ['keys', `API key ${given.id} created`]);
      await h.server.close();
      await h.start();
      assert.equal(await h.status('/v1/jobs'), 401, 'the data remembers');
      assert.equal(await h.status('/v1/jobs', given.key), 200);
    } finally {
      await h.server?.close();
      await h.place.dispose();
    }
  });
});
