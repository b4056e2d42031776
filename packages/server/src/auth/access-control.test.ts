/** Who is calling and may they call now, on a memory engine's keys and a fake clock. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openTestEngine, type TestEngine } from '../../../../test/helpers/engines.js';
import { LocalRateLimiter } from '../ratelimit/local-rate-limiter.js';
import { StoreUnavailableError } from '../errors/errors.js';
import { ACCESS_MODE_TTL_MS, AccessControl, OPEN_TENANT } from './access-control.js';
import { generateApiKey } from './api-key.js';
import type { KeyStore } from './key-store.js';

describe('AccessControl', () => {
  let opened: TestEngine;
  let limiter: LocalRateLimiter;
  let now: number;
  let access: AccessControl;
  beforeEach(() => {
    opened = openTestEngine('memory');
    now = 1_000_000;
    limiter = new LocalRateLimiter(() => now);
    access = new AccessControl({ keys: opened.engine.keys, limiter, defaultPolicy: { perSecond: 1, burst: 2 }, now: () => now });
  });
  afterEach(async () => {
    limiter.close();
    await opened.dispose();
  });

  it('runs open as one tenant while no key exists, and charges the caller IP', async () => {
    assert.deepEqual(await access.identify(undefined), { tenant: OPEN_TENANT });
    assert.deepEqual(await access.identify('Bearer garbage'), { tenant: OPEN_TENANT });
    const caller = { tenant: OPEN_TENANT };
    assert.equal((await access.take(caller, '10.0.0.1'))?.scope, 'ip');
    assert.equal((await access.take(caller, '10.0.0.1'))?.decision.allowed, true);
    assert.equal((await access.take(caller, '10.0.0.1'))?.decision.allowed, false, 'the burst of 2 is used up');
    assert.equal((await access.take(caller, '10.0.0.2'))?.decision.allowed, true, 'another IP has its own bucket');
  });

  it('requires a valid key once one exists: none, garbage, a wrong secret and a revoked key are refused', async () => {
    const alice = generateApiKey();
    const bob = generateApiKey();
    await opened.engine.keys.add({ id: alice.id, name: 'alice', hash: alice.hash, createdAt: now, rateLimit: { perSecond: 1, burst: 1 } });
    await opened.engine.keys.add({ id: bob.id, name: 'bob', hash: bob.hash, createdAt: now });
    now += ACCESS_MODE_TTL_MS; // the access mode is cached
    assert.equal(await access.identify(undefined), undefined);
    assert.equal(await access.identify('Bearer garbage'), undefined);
    assert.equal(await access.identify(`Bearer jw_${alice.id}_${'x'.repeat(43)}`), undefined, 'right id, wrong secret');
    assert.equal(await access.identify(`Basic ${alice.key}`), undefined);
    const caller = await access.identify(`Bearer ${alice.key}`);
    assert.equal(caller?.tenant, alice.id);
    const first = await access.take(caller!, '10.0.0.1');
    assert.deepEqual([first?.scope, first?.decision.allowed, first?.policy.burst], ['key', true, 1], "the key's own limit");
    assert.equal((await access.take(caller!, '10.0.0.2'))?.decision.allowed, false, 'the bucket is the key, whatever the IP');
    assert.equal((await access.identify(`bearer  ${bob.key} `))?.tenant, bob.id, 'the scheme is case-insensitive');
    await opened.engine.keys.revoke(alice.id, now);
    assert.equal(await access.identify(`Bearer ${alice.key}`), undefined, 'a revoked key is refused at once');
  });

  it('stays closed when the last key is revoked, tells of each mode once, and refuses when the mode cannot be read', async () => {
    const told: [boolean, boolean | undefined][] = [];
    const keys = opened.engine.keys;
    const watched = new AccessControl({ keys, limiter, defaultPolicy: undefined, now: () => now, onAccessMode: (mode, previous) => told.push([mode.keysRequired, previous?.keysRequired]) });
    assert.deepEqual(await watched.identify(undefined), { tenant: OPEN_TENANT });
    const only = generateApiKey();
    await keys.add({ id: only.id, name: 'only', hash: only.hash, createdAt: now });
    await keys.revoke(only.id, now);
    now += ACCESS_MODE_TTL_MS;
    assert.equal(await watched.identify(undefined), undefined, 'no key left, keys still required');
    assert.equal(await watched.identify(`Bearer ${only.key}`), undefined);
    now += ACCESS_MODE_TTL_MS;
    await watched.identify(undefined);
    assert.equal(await keys.openAccess(now), true);
    now += ACCESS_MODE_TTL_MS;
    assert.deepEqual(await watched.identify(undefined), { tenant: OPEN_TENANT });
    assert.deepEqual(told, [[false, undefined], [true, false], [false, true]], 'the first read and each change, not every read');

    // The same store, but its mode cannot be read (a table gone, a Redis key of the wrong type).
    const unreadable = Object.assign(Object.create(keys) as KeyStore, { accessMode: () => Promise.reject(new Error('no such table: access_mode')) });
    const broken = new AccessControl({ keys: unreadable, limiter, defaultPolicy: undefined, now: () => now });
    await assert.rejects(broken.identify(undefined), StoreUnavailableError);
  });

  it('takes no token when limits are off', async () => {
    const unlimited = new AccessControl({ keys: opened.engine.keys, limiter, defaultPolicy: undefined, now: () => now });
    assert.equal(await unlimited.take({ tenant: OPEN_TENANT }, '10.0.0.1'), undefined);
  });
});
