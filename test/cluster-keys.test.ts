/**
 * Cluster API keys: `jobwait keys --store redis` (the real CLI binary, from
 * source) manages keys in the cluster's Redis, and two server processes on
 * that Redis accept them, and stop accepting a revoked one, alike.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startInstance, stopInstance } from './helpers/cluster.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';
import type { ServerProcess } from './helpers/server-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const prefix = uniquePrefix('cluster-keys');
const started: ServerProcess[] = [];
let a: ServerProcess;
let b: ServerProcess;

/** Runs `jobwait <args>` as a process; resolves with its exit code and output. */
async function jobwait(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--conditions=jobwait-source', '--import', 'tsx', 'packages/cli/src/bin.ts', ...args], {
      cwd: ROOT,
      env: { ...baseEnv, ...env },
      // A CLI run through tsx can take tens of seconds on a busy 2-core machine.
      timeout: 90_000,
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

/** This process's environment without the settings the tests pass themselves. */
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !['JOBWAIT_STORE', 'JOBWAIT_REDIS_URL', 'JOBWAIT_REDIS_PREFIX', 'JOBWAIT_DATA_DIR'].includes(name)));

const redisFlags = (): string[] => ['--store', 'redis', '--redis-url', TEST_REDIS_URL, '--redis-prefix', prefix];

async function status(on: ServerProcess, key?: string): Promise<number> {
  const res = await fetch(`${on.url}/v1/jobs?limit=1`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  await res.arrayBuffer();
  return res.status;
}

/** Polls until `check` holds or `ms` pass. */
async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await delay(50);
  }
}

before(async () => {
  a = await startInstance(prefix);
  started.push(a);
  b = await startInstance(prefix);
  started.push(b);
});
after(async () => {
  await Promise.allSettled(started.map((instance) => stopInstance(instance)));
  await deleteKeys(prefix);
});

describe('jobwait keys --store redis with a cluster', () => {
  it('creates keys every instance accepts, lists them, and a revoke takes effect on every instance', async () => {
    assert.equal(await status(a), 200, 'open before any key');
    assert.equal(await status(b), 200);

    const first = await jobwait(['keys', 'create', '--name', 'first', '--json', ...redisFlags()]);
    assert.equal(first.code, 0, first.err);
    const k1 = JSON.parse(first.out) as { id: string; key: string };
    // The other through the environment, as a deployment would set it.
    const second = await jobwait(['keys', 'create', '--name', 'second', '--json'], { JOBWAIT_STORE: 'redis', JOBWAIT_REDIS_URL: TEST_REDIS_URL, JOBWAIT_REDIS_PREFIX: prefix });
    assert.equal(second.code, 0, second.err);
    const k2 = JSON.parse(second.out) as { id: string; key: string };

    // The open-mode check is cached for 1 s.
    assert.ok(await eventually(async () => (await status(a)) === 401 && (await status(b)) === 401, 3000), 'keys required on both instances');
    for (const on of [a, b]) {
      assert.equal(await status(on, k1.key), 200);
      assert.equal(await status(on, k2.key), 200);
      assert.equal(await status(on, `${k1.key.slice(0, -1)}x`), 401, 'a wrong secret is refused');
    }

    // A job made with a key on A is that key's tenant's on B too.
    const created = await fetch(`${a.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${k1.key}` }, body: JSON.stringify({ duration: 1 }) });
    assert.equal(created.status, 201);
    const job = (await created.json()) as { id: string };
    const onB = await fetch(`${b.url}/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${k1.key}` } });
    await onB.arrayBuffer();
    assert.equal(onB.status, 200);
    const otherTenant = await fetch(`${b.url}/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${k2.key}` } });
    await otherTenant.arrayBuffer();
    assert.equal(otherTenant.status, 404, 'another key does not see it');

    const listed = await jobwait(['keys', 'list', '--json', ...redisFlags()]);
    assert.equal(listed.code, 0, listed.err);
    const keys = JSON.parse(listed.out) as { id: string; name: string; revokedAt?: number; hash?: string }[];
    assert.deepEqual(keys.map((k) => [k.id, k.name, k.revokedAt]), [
      [k1.id, 'first', undefined],
      [k2.id, 'second', undefined],
    ]);
    assert.ok(keys.every((k) => k.hash === undefined), 'hashes are not listed');

    const revoked = await jobwait(['keys', 'revoke', k1.id, ...redisFlags()]);
    assert.equal(revoked.code, 0, revoked.err);
    const revokedAt = Date.now();
    assert.ok(await eventually(async () => (await status(a, k1.key)) === 401 && (await status(b, k1.key)) === 401, 1500), 'revoked on both instances');
    assert.ok(Date.now() - revokedAt < 1500);
    assert.equal(await status(a, k2.key), 200, 'the other key still works');
    assert.equal(await status(b, k2.key), 200);

    const unknown = await jobwait(['keys', 'revoke', 'key_nosuchkey', ...redisFlags()]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.err, /no key with id/);
    const badStore = await jobwait(['keys', 'list', '--store', 'memory']);
    assert.notEqual(badStore.code, 0);
    assert.match(badStore.err, /--store must be sqlite or redis/);
  });
});
