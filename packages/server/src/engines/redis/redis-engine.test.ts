/**
 * `--store redis` from the command line to a running server: options and
 * their validation, readiness that follows Redis, and a scheduler that also
 * settles jobs created on another instance.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../../../../../test/helpers/redis.js';
import { buildServer } from '../../build-server.js';
import { parseServerConfig, SERVER_HELP, type ServerConfig } from '../../config/server-config.js';
import { ConfigError } from '../../config/config-error.js';
import { resolveServerOptions } from '../../config/server-options.js';

const prefixes: string[] = [];
after(async () => {
  for (const prefix of prefixes) await deleteKeys(prefix);
});

function parse(argv: string[], env: NodeJS.ProcessEnv = {}): ServerConfig {
  const config = parseServerConfig(argv, env);
  assert.notEqual(config, 'help');
  return config as ServerConfig;
}

describe('redis options', () => {
  it('reads --store redis, --redis-url, --redis-prefix and --retention, flags over environment', () => {
    const fromFlags = parse(['--store', 'redis', '--redis-url', 'redis://10.0.0.5:6380/2', '--redis-prefix', 'prod:', '--retention', '3600']);
    assert.equal(fromFlags.server.store, 'redis');
    assert.equal(fromFlags.server.redisUrl, 'redis://10.0.0.5:6380/2');
    assert.equal(fromFlags.server.redisPrefix, 'prod:');
    assert.equal(fromFlags.server.retentionSeconds, 3600);
    const env = { JOBWAIT_STORE: 'redis', JOBWAIT_REDIS_URL: 'rediss://cache:6379', JOBWAIT_REDIS_PREFIX: 'env:', JOBWAIT_RETENTION_SECONDS: '60' };
    const fromEnv = parse([], env);
    assert.deepEqual([fromEnv.server.redisUrl, fromEnv.server.redisPrefix, fromEnv.server.retentionSeconds], ['rediss://cache:6379', 'env:', 60]);
    assert.equal(parse(['--redis-prefix', 'flag:'], env).server.redisPrefix, 'flag:');
  });

  it('defaults to the local Redis, the jobwait: prefix and 7 days of retention', () => {
    const options = resolveServerOptions({ store: 'redis' });
    assert.equal(options.redisUrl, 'redis://127.0.0.1:6379');
    assert.equal(options.redisPrefix, 'jobwait:');
    assert.equal(options.retentionSeconds, 7 * 86_400);
  });

  for (const [argv, option] of [
    [['--store', 'mongo'], 'store'],
    [['--redis-url', 'http://127.0.0.1:6379'], 'redis-url'],
    [['--redis-url', 'not a url'], 'redis-url'],
    [['--redis-prefix', 'has space'], 'redis-prefix'],
    [['--redis-prefix', 'x'.repeat(101)], 'redis-prefix'],
    [['--retention', '0'], 'retention'],
    [['--retention', '1.5'], 'retention'],
    [['--retention', 'week'], 'retention'],
  ] as const) {
    it(`refuses ${argv.join(' ')} naming ${option}`, () => {
      assert.throws(
        () => parseServerConfig([...argv]),
        (error: unknown) => error instanceof ConfigError && error.message.includes(option),
      );
    });
  }

  it('documents the options in --help', () => {
    for (const text of ['one of sqlite, memory, redis', '--redis-url', 'JOBWAIT_REDIS_URL', '--redis-prefix', 'JOBWAIT_REDIS_PREFIX', '--retention', 'JOBWAIT_RETENTION_SECONDS']) {
      assert.ok(SERVER_HELP.includes(text), text);
    }
  });
});

describe('buildServer with store redis', () => {
  it('is ready while Redis answers, and says so when it does not', async () => {
    const prefix = uniquePrefix('build');
    prefixes.push(prefix);
    const app = await buildServer({ store: 'redis', redisUrl: TEST_REDIS_URL, redisPrefix: prefix, logLevel: 'silent', rateLimit: 0 });
    try {
      await app.ready();
      assert.equal((await app.inject('/readyz')).statusCode, 200);
    } finally {
      await app.close();
    }
    const down = await buildServer({ store: 'redis', redisUrl: 'redis://127.0.0.1:1', redisPrefix: prefix, logLevel: 'silent', rateLimit: 0 });
    try {
      // Starting takes a few seconds here: the scheduler's first settle waits out the command retries.
      await down.ready();
      const t0 = Date.now();
      const res = await down.inject('/readyz');
      assert.equal(res.statusCode, 503);
      assert.ok(Date.now() - t0 < 3000, 'answers quickly');
    } finally {
      await down.close();
    }
  });

  it('settles a job created on an instance that has since gone, and wakes its waiters', async () => {
    const prefix = uniquePrefix('handover');
    prefixes.push(prefix);
    const options = { store: 'redis', redisUrl: TEST_REDIS_URL, redisPrefix: prefix, logLevel: 'silent', rateLimit: 0 } as const;
    const a = await buildServer(options);
    const b = await buildServer(options);
    try {
      await Promise.all([a.ready(), b.ready()]);
      const created = await a.inject({ method: 'POST', url: '/v1/jobs', payload: { duration: 0.6 } });
      assert.equal(created.statusCode, 201);
      const job = created.json<{ id: string; dueAt: string }>();
      await a.close();
      const res = await b.inject({ url: `/v1/jobs/${job.id}`, headers: { prefer: 'wait=10' } });
      const body = res.json<{ status: string; version: number }>();
      assert.equal(body.status, 'completed');
      assert.equal(body.version, 2);
      // Settled by B and published: the stored record is final, not merely past due.
      const stored = await b.jobs.get('public', job.id);
      assert.equal(stored?.state, 'completed');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
