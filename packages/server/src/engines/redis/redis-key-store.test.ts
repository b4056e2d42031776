/** The Redis key store on the real Redis (a prefix of its own), seen from two instances: same behaviour as the SQLite one. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openTestEngine } from '../../../../../test/helpers/engines.js';
import type { ApiKeyRecord } from '../../auth/key-store.js';

const key = (id: string, extra: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({ id, name: `name of ${id}`, hash: `hash-${id}`, createdAt: 1000, ...extra });

describe('redis key store', () => {
  it('adds each id once, gets, lists oldest first, revokes; keys stay required after the last is revoked', async () => {
    const opened = openTestEngine('redis');
    const shared = opened.engine.keys;
    const own = opened.reopen().keys;
    try {
      assert.equal(await own.requiresKeys(), false);
      assert.deepEqual(await own.list(), []);
      await shared.add(key('key_b', { createdAt: 2000, rateLimit: { perSecond: 2.5, burst: 5 }, webhookUrl: 'https://hooks.example/in' }));
      await shared.add(key('key_a'));
      await shared.add(key('key_a', { name: 'again' }));
      await shared.add(key('key_old', { createdAt: 500, revokedAt: 600 }));
      assert.deepEqual(await own.get('key_b'), key('key_b', { createdAt: 2000, rateLimit: { perSecond: 2.5, burst: 5 }, webhookUrl: 'https://hooks.example/in' }));
      assert.equal((await own.get('key_a'))?.name, 'name of key_a', 'an existing id is left as it is');
      assert.equal(await own.get('key_none'), undefined);
      assert.deepEqual((await own.list()).map((k) => k.id), ['key_old', 'key_a', 'key_b']);
      assert.equal(await own.requiresKeys(), true);
      assert.equal(await own.revoke('key_a', 3000), true);
      assert.equal(await own.revoke('key_a', 4000), true);
      assert.equal((await shared.get('key_a'))?.revokedAt, 3000, 'the first revocation time stays');
      assert.equal(await own.revoke('key_none', 3000), false);
      await own.revoke('key_b', 3000);
      assert.equal(await shared.requiresKeys(), true, 'revoking every key leaves keys required');
    } finally {
      await opened.dispose();
    }
  });
});
