/**
 * One behaviour for every engine's delivery store (SQLite on a file, SQLite in
 * memory, and Redis on the real Redis under a prefix of its own): idempotent
 * enqueue, atomic claims with leases, token-checked completion, disabled
 * endpoints, shared settings.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ENGINE_KINDS, openTestEngine } from '../../../../test/helpers/engines.js';
import type { DeliveryStore, NewDelivery } from '../notify/delivery-store.js';

const harnesses = ENGINE_KINDS.map((name) => ({
  name,
  open: async (): Promise<{ store: DeliveryStore; dispose(): Promise<void> }> => {
    const opened = openTestEngine(name);
    return { store: opened.engine.deliveries, dispose: () => opened.dispose() };
  },
}));

const T0 = 1_700_000_000_000;

function delivery(n: number, extra: Partial<NewDelivery> = {}): NewDelivery {
  return {
    id: `msg_job_${n}_completed`,
    tenant: 'tenant-a',
    jobId: `job_${n}`,
    kind: 'webhook',
    event: 'job.completed',
    target: 'https://hooks.example.com/in',
    source: 'job',
    payload: `{"n":${n}}`,
    status: 'pending',
    createdAt: T0 + n,
    nextAttemptAt: T0 + n,
    ...extra,
  };
}

for (const harness of harnesses) {
  describe(`${harness.name} delivery store`, () => {
    let store: DeliveryStore;
    let dispose: () => Promise<void>;
    beforeEach(async () => ({ store, dispose } = await harness.open()));
    afterEach(() => dispose());

    it('enqueues each id once', async () => {
      assert.equal(await store.enqueue(delivery(1)), true);
      assert.equal(await store.enqueue(delivery(1, { payload: 'other' })), false);
      const [only, ...rest] = await store.listForJob('tenant-a', 'job_1');
      assert.equal(rest.length, 0);
      assert.equal(only?.payload, '{"n":1}');
      assert.deepEqual(only?.attempts, []);
      assert.equal(only?.nextAttemptAt, T0 + 1);
    });

    it('claims only what is due, oldest first, and each delivery once until its lease ends', async () => {
      await store.enqueue(delivery(3));
      await store.enqueue(delivery(1));
      await store.enqueue(delivery(2, { nextAttemptAt: T0 + 10_000 }));
      await store.enqueue(delivery(4, { status: 'disabled' }));
      const first = await store.claimDue(T0 + 100, 60_000, 10);
      assert.deepEqual(first.map((d) => d.id).sort(), ['msg_job_1_completed', 'msg_job_3_completed']);
      assert.deepEqual(await store.claimDue(T0 + 200, 60_000, 10), [], 'leased deliveries are not claimed again');
      assert.equal(await store.nextDueAt(), T0 + 10_000);
      const later = await store.claimDue(T0 + 100 + 60_000, 60_000, 10);
      assert.deepEqual(later.map((d) => d.id).sort(), ['msg_job_1_completed', 'msg_job_2_completed', 'msg_job_3_completed'], 'an expired lease comes due again');
    });

    it('claims at most the limit, oldest due first', async () => {
      for (let n = 1; n <= 5; n++) await store.enqueue(delivery(n));
      const claimed = await store.claimDue(T0 + 100, 1000, 2);
      assert.deepEqual(claimed.map((d) => d.id).sort(), ['msg_job_1_completed', 'msg_job_2_completed']);
    });

    it('records attempts under a valid claim token only', async () => {
      await store.enqueue(delivery(1));
      const [claim] = await store.claimDue(T0 + 10, 1000, 1);
      assert.ok(claim);
      const attempt = { at: T0 + 10, durationMs: 12, statusCode: 500, error: 'answered 500' };
      assert.equal(await store.complete(claim.id, 'not-the-token', { status: 'delivered' }, T0 + 20), false);
      assert.equal(await store.complete(claim.id, claim.claimToken, { status: 'pending', attempt, nextAttemptAt: T0 + 500 }, T0 + 20), true);
      assert.equal(await store.complete(claim.id, claim.claimToken, { status: 'delivered' }, T0 + 30), false, 'a token works once');
      const [pending] = await store.listForJob('tenant-a', 'job_1');
      assert.deepEqual(pending?.attempts, [attempt]);
      assert.equal(pending?.status, 'pending');
      assert.equal(pending?.nextAttemptAt, T0 + 500);
      assert.equal(pending?.updatedAt, T0 + 20);

      const [again] = await store.claimDue(T0 + 500, 1000, 1);
      assert.ok(again);
      const success = { at: T0 + 500, durationMs: 3, statusCode: 204 };
      assert.equal(await store.complete(again.id, again.claimToken, { status: 'delivered', attempt: success }, T0 + 503), true);
      const [done] = await store.listForJob('tenant-a', 'job_1');
      assert.equal(done?.status, 'delivered');
      assert.deepEqual(done?.attempts, [attempt, success]);
      assert.equal(done?.nextAttemptAt, undefined);
      assert.equal(await store.nextDueAt(), undefined);
      assert.deepEqual(await store.claimDue(T0 + 10_000_000, 1000, 10), []);
    });

    it('keeps a note and releases without an attempt', async () => {
      await store.enqueue(delivery(1));
      const [claim] = await store.claimDue(T0 + 10, 1000, 1);
      assert.ok(claim);
      assert.equal(await store.complete(claim.id, claim.claimToken, { status: 'pending', nextAttemptAt: T0 + 10 }, T0 + 10), true);
      const [released] = await store.claimDue(T0 + 10, 1000, 1);
      assert.ok(released, 'released at once');
      await store.complete(released.id, released.claimToken, { status: 'failed', note: 'gave up' }, T0 + 11);
      const [failed] = await store.listForJob('tenant-a', 'job_1');
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.note, 'gave up');
      assert.deepEqual(failed?.attempts, []);
    });

    it('lists one tenant’s deliveries of one job', async () => {
      await store.enqueue(delivery(1));
      await store.enqueue(delivery(1, { id: 'eml_job_1_completed', kind: 'email', target: 'a@example.com', createdAt: T0 + 1 }));
      await store.enqueue(delivery(2));
      await store.enqueue(delivery(1, { id: 'msg_other', tenant: 'tenant-b' }));
      assert.deepEqual((await store.listForJob('tenant-a', 'job_1')).map((d) => d.id), ['eml_job_1_completed', 'msg_job_1_completed']);
      assert.deepEqual(await store.listForJob('tenant-c', 'job_1'), []);
    });

    it('disables endpoints per tenant and URL', async () => {
      assert.equal(await store.isEndpointDisabled('tenant-a', 'https://x.example/'), false);
      await store.disableEndpoint('tenant-a', 'https://x.example/', T0, '410');
      await store.disableEndpoint('tenant-a', 'https://x.example/', T0 + 1, '410');
      assert.equal(await store.isEndpointDisabled('tenant-a', 'https://x.example/'), true);
      assert.equal(await store.isEndpointDisabled('tenant-b', 'https://x.example/'), false);
      assert.equal(await store.isEndpointDisabled('tenant-a', 'https://x.example/other'), false);
    });

    it('keeps the first value of a setting', async () => {
      assert.equal(await store.ensureSetting('webhook-secret', 'first'), 'first');
      assert.equal(await store.ensureSetting('webhook-secret', 'second'), 'first');
    });
  });
}

describe('sqlite delivery store on a file', () => {
  it('keeps deliveries, disabled endpoints and settings across reopening', async () => {
    const opened = openTestEngine('sqlite');
    try {
      const first = opened.engine.deliveries;
      await first.enqueue(delivery(1));
      await first.disableEndpoint('tenant-a', 'https://gone.example/', T0, '410');
      await first.ensureSetting('k', 'v');
      await opened.engine.close();
      const second = opened.reopen().deliveries;
      assert.equal((await second.claimDue(T0 + 10, 1000, 5)).length, 1);
      assert.equal(await second.isEndpointDisabled('tenant-a', 'https://gone.example/'), true);
      assert.equal(await second.ensureSetting('k', 'other'), 'v');
    } finally {
      await opened.dispose();
    }
  });
});

for (const kind of ['sqlite', 'redis'] as const) {
  describe(`${kind} delivery store shared by two connections`, () => {
    it('gives each due delivery to one of them, and shares settings and disabled endpoints', async () => {
      const opened = openTestEngine(kind);
      try {
        const a = opened.engine.deliveries;
        const b = opened.reopen().deliveries;
        for (let n = 1; n <= 50; n++) await a.enqueue(delivery(n));
        await a.disableEndpoint('tenant-a', 'https://gone.example/', T0, '410');
        assert.equal(await a.ensureSetting('k', 'v'), 'v');
        assert.equal(await b.ensureSetting('k', 'other'), 'v', 'a setting is shared by every instance');
        assert.equal(await b.isEndpointDisabled('tenant-a', 'https://gone.example/'), true);
        const claims = await Promise.all([a, b, a, b, a, b].map((s) => s.claimDue(T0 + 100, 60_000, 10)));
        const ids = claims.flat().map((d) => d.id);
        assert.equal(ids.length, 50);
        assert.equal(new Set(ids).size, 50);
        const [one] = claims.flat();
        assert.ok(one);
        assert.equal(await b.complete(one.id, one.claimToken, { status: 'delivered' }, T0 + 200), true);
        assert.equal(await a.complete(one.id, one.claimToken, { status: 'delivered' }, T0 + 200), false);
      } finally {
        await opened.dispose();
      }
    });
  });
}
