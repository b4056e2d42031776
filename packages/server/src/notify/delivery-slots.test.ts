import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Delivery } from './delivery.js';
import { DeliverySlots, endpointOf } from './delivery-slots.js';
import { EndpointHealth } from './endpoint-health.js';

let n = 0;
function delivery(tenant: string, target: string): Delivery {
  n += 1;
  return { id: `msg_${n}`, tenant, jobId: `job_${n}`, kind: 'webhook', event: 'job.completed', target, source: 'job', payload: '{}', status: 'pending', attempts: [], createdAt: 0, updatedAt: 0 };
}

describe('DeliverySlots', () => {
  it('sends up to the limit per endpoint, per tenant and in total, and paces what waits per endpoint', () => {
    const health = new EndpointHealth({ random: () => 0 });
    const slots = new DeliverySlots({ total: 5, perEndpoint: 2, perTenant: 3 }, health);
    const a1 = delivery('a', 'https://a.example/1');
    assert.deepEqual(slots.admit(a1, 0), { send: true });
    assert.deepEqual(slots.admit(delivery('a', 'https://a.example/1'), 0), { send: true });
    // The endpoint is full: the next two wait, one after the other (1 s assumed per attempt, 2 at once).
    const w1 = slots.admit(delivery('a', 'https://a.example/1'), 0);
    const w2 = slots.admit(delivery('a', 'https://a.example/1'), 0);
    assert.deepEqual(w1, { send: false, until: 500, reason: 'endpoint-busy' });
    assert.deepEqual(w2, { send: false, until: 1000, reason: 'endpoint-busy' });
    // Another endpoint of the same tenant: one more fits the tenant's 3.
    assert.deepEqual(slots.admit(delivery('a', 'https://a.example/2'), 0), { send: true });
    assert.equal(slots.admit(delivery('a', 'https://a.example/3'), 0).send, false);
    assert.equal((slots.admit(delivery('a', 'https://a.example/3'), 0) as { reason: string }).reason, 'tenant-busy');
    // Another tenant is not held back by the first.
    assert.deepEqual(slots.admit(delivery('b', 'https://b.example/'), 0), { send: true });
    assert.equal(slots.size, 4);
    assert.equal(slots.free(), 1);
    slots.done(a1, 0);
    assert.equal(slots.size, 3);
    assert.deepEqual(slots.stats(0).inFlight, { healthy: 3, 'backing-off': 0, probing: 0 });
    assert.deepEqual(slots.stats(0).waiting, { healthy: 4, 'backing-off': 0, probing: 0 });
  });

  it('holds a backing-off endpoint until its pause ends, then lets one probe go', () => {
    const health = new EndpointHealth({ baseBackoffMs: 1000, random: () => 1 });
    const slots = new DeliverySlots({ total: 10, perEndpoint: 4, perTenant: 10 }, health);
    const first = delivery('a', 'https://a.example/');
    health.failed(endpointOf(first), 10, 0);
    const held = slots.admit(first, 0);
    assert.equal(held.send, false);
    assert.ok(!held.send && held.until >= 1000 && held.reason === 'backing-off');
    assert.deepEqual(slots.stats(0).waiting, { healthy: 0, 'backing-off': 1, probing: 0 });
    assert.deepEqual(slots.admit(first, 1000), { send: true });
    assert.equal(slots.admit(delivery('a', 'https://a.example/'), 1000).send, false);
  });

  it('paces the deliveries of an endpoint that hangs by the age of its oldest attempt', () => {
    const slots = new DeliverySlots({ total: 10, perEndpoint: 1, perTenant: 10 }, new EndpointHealth());
    assert.equal(slots.admit(delivery('a', 'https://a.example/'), 0).send, true);
    const later = slots.admit(delivery('a', 'https://a.example/'), 9000);
    assert.deepEqual(later, { send: false, until: 18_000, reason: 'endpoint-busy' });
  });
});
