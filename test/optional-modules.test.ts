/**
 * A server on the embedded default loads no driver it does not use: ioredis comes with the first Redis
 * connection (the Redis engine, a Redis-stream ingest source), amqplib with the first RabbitMQ one and
 * nodemailer with the first email. Each is a few dozen modules parsed at every start otherwise.
 * Checked here through `require.cache`, which shows the two CommonJS drivers; nodemailer loads as
 * ES modules, which no cache shows (the email tests send through its lazy load).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildServer, openEngine, SERVER_DEFAULTS } from '@jobwait/server';
import { TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';

const DRIVERS = ['ioredis', 'amqplib'];

function loaded(): string[] {
  const paths = Object.keys(createRequire(import.meta.url).cache);
  return DRIVERS.filter((name) => paths.some((path) => path.includes(`/node_modules/${name}/`)));
}

describe('optional drivers', () => {
  it('are not loaded by a SQLite server with email configured that has started and answered', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jobwait-drivers-'));
    const app = await buildServer({ rateLimit: 0, dataDir, logLevel: 'silent', smtpUrl: 'smtp://127.0.0.1:1', emailFrom: 'jobs@example.com' });
    try {
      await app.ready();
      const created = await app.inject({ method: 'POST', url: '/v1/jobs', payload: { duration: 1 } });
      assert.equal(created.statusCode, 201);
      assert.equal((await app.inject({ method: 'GET', url: `/v1/jobs/${created.json<{ id: string }>().id}` })).statusCode, 200);
      assert.deepEqual(loaded(), []);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('are loaded where they are needed: a Redis engine loads ioredis (the check above can see a loaded one)', async () => {
    assert.deepEqual(loaded(), []);
    const engine = openEngine({ ...SERVER_DEFAULTS, store: 'redis', redisUrl: TEST_REDIS_URL, redisPrefix: uniquePrefix('drivers') });
    try {
      assert.deepEqual(loaded(), ['ioredis']);
    } finally {
      await engine.close();
    }
  });
});
