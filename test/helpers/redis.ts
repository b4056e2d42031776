/** The real Redis of the tests (127.0.0.1:6379, started by `.ci/run`): unique prefixes, and their cleanup. */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';

/** Redis the tests use; `JOBWAIT_TEST_REDIS_URL` points them elsewhere. */
export const TEST_REDIS_URL = process.env.JOBWAIT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test run uses. */
export function uniquePrefix(name: string): string {
  return `jobwait-test:${name}:${randomBytes(6).toString('hex')}:`;
}

/** A plain connection for a test's own checks; fails fast when Redis is not there. */
export function testRedis(): Redis {
  // Required here, not imported: test/optional-modules.test.ts checks who loads ioredis.
  const { Redis: Client } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
  return new Client(TEST_REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: false });
}

/** Deletes every key under `prefix`; returns how many went. */
export async function deleteKeys(prefix: string): Promise<number> {
  const redis = testRedis();
  try {
    let deleted = 0;
    let cursor = '0';
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/** Redis client id of the connection named `name` (see CLIENT SETNAME), to kill it in a test. */
export async function clientIdByName(redis: Redis, name: string): Promise<string | undefined> {
  const list = (await redis.client('LIST')) as string;
  for (const line of list.split('\n')) {
    const fields = Object.fromEntries(line.split(' ').map((kv) => kv.split('=', 2) as [string, string]));
    if (fields.name === name) return fields.id;
  }
  return undefined;
}
