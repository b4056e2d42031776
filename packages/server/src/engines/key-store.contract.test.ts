/**
 * The access mode on every engine (SQLite on a file, SQLite in memory, Redis under a prefix of its
 * own): open until a key is made, then keys for good — revoking never opens; only openAccess does,
 * and only once no key is active. Older data that holds keys starts with keys required.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ENGINE_KINDS, openTestEngine } from '../../../../test/helpers/engines.js';
import { testRedis } from '../../../../test/helpers/redis.js';
import type { ApiKeyRecord } from '../auth/key-store.js';

const key = (id: string, extra: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({ id, name: `name of ${id}`, hash: `hash-${id}`, createdAt: 1000, ...extra });

for (const kind of ENGINE_KINDS) {
  describe(`key store access mode (${kind})`, () => {
    it('runs open on fresh data; the first key turns keys on; revoking every key leaves them on; openAccess needs no active key', async () => {
      const opened = openTestEngine(kind);
      const keys = opened.engine.keys;
      try {
        assert.deepEqual(await keys.accessMode(), { keysRequired: false, since: undefined, reason: 'no API key was ever created' });
        assert.equal(await keys.requiresKeys(), false);
        await keys.add(key('key_a', { createdAt: 5000 }));
        assert.deepEqual(await keys.accessMode(), { keysRequired: true, since: 5000, reason: 'API key key_a created' });
        await keys.add(key('key_b', { createdAt: 6000 }));
        assert.equal((await keys.accessMode()).since, 5000, 'a second key changes nothing');
        assert.equal(await keys.openAccess(7000), false, 'refused while keys are active');
        await keys.revoke('key_a', 7000);
        assert.equal(await keys.openAccess(7000), false, 'key_b is still active');
        await keys.revoke('key_b', 8000);
        assert.equal(await keys.requiresKeys(), true, 'revoking the last key does not open');
        assert.equal(await keys.openAccess(9000), true);
        assert.deepEqual(await keys.accessMode(), { keysRequired: false, since: 9000, reason: 'opened by `jobwait keys open-access`' });
        assert.equal(await keys.openAccess(9500), true, 'already open');
        assert.equal((await keys.accessMode()).since, 9000);
        await keys.add(key('key_a', { createdAt: 9900 }));
        assert.equal(await keys.requiresKeys(), false, 'an id already stored is not a new key');
        await keys.add(key('key_c', { createdAt: 10_000 }));
        assert.deepEqual(await keys.accessMode(), { keysRequired: true, since: 10_000, reason: 'API key key_c created' });
      } finally {
        await opened.dispose();
      }
    });

    if (kind !== 'memory') {
      it('is shared by every process on the same data', async () => {
        const opened = openTestEngine(kind);
        try {
          const other = opened.reopen().keys;
          assert.equal(await other.requiresKeys(), false);
          await opened.engine.keys.add(key('key_a'));
          assert.equal(await other.requiresKeys(), true);
          await other.revoke('key_a', 2000);
          assert.equal(await other.openAccess(3000), true);
          assert.equal(await opened.engine.keys.requiresKeys(), false);
        } finally {
          await opened.dispose();
        }
      });
    }
  });
}

describe('key store access mode of data written before it existed', () => {
  it('SQLite: a file holding only a revoked key starts with keys required; one without keys runs open', async () => {
    const withKey = openTestEngine('sqlite');
    const without = openTestEngine('sqlite');
    try {
      await withKey.engine.close();
      await without.engine.close();
      for (const [place, revoked] of [[withKey.place, true], [without.place, false]] as const) {
        // What an older version left: the api_keys table, no access_mode table.
        const db = new Database(join(place, 'jobwait.db'));
        db.exec('DROP TABLE access_mode');
        if (revoked) db.prepare("INSERT INTO api_keys (id, name, hash, created_at, revoked_at) VALUES ('key_old', 'old', 'h', 1, 2)").run();
        db.close();
      }
      assert.deepEqual(await withKey.reopen().keys.accessMode(), { keysRequired: true, since: undefined, reason: 'the data already held API keys' });
      assert.deepEqual(await without.reopen().keys.accessMode(), { keysRequired: false, since: undefined, reason: 'no API key was ever created' });
    } finally {
      await withKey.dispose();
      await without.dispose();
    }
  });

  it('Redis: a prefix holding a revoked key and no access hash requires keys', async () => {
    const opened = openTestEngine('redis');
    const redis = testRedis();
    try {
      await redis.hset(`${opened.place}apikey:key_old`, 'id', 'key_old', 'name', 'old', 'hash', 'h', 'createdAt', '1', 'revokedAt', '2');
      await redis.sadd(`${opened.place}apikeys`, 'key_old');
      assert.deepEqual(await opened.engine.keys.accessMode(), { keysRequired: true, since: undefined, reason: 'the data already held API keys' });
      await redis.set(`${opened.place}access`, 'not a hash');
      await assert.rejects(opened.engine.keys.accessMode(), /WRONGTYPE/, 'an unreadable mode rejects (the server then answers 503), never reads as open');
    } finally {
      redis.disconnect();
      await opened.dispose();
    }
  });
});
