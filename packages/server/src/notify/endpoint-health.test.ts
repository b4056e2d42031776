import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndpointHealth, endpointBackoffMs } from './endpoint-health.js';

describe('endpointBackoffMs', () => {
  it('doubles per failure in a row, caps, and keeps at least half of the step', () => {
    assert.equal(endpointBackoffMs(1, 1000, 60_000, () => 0), 500);
    assert.equal(endpointBackoffMs(1, 1000, 60_000, () => 1), 1000);
    assert.equal(endpointBackoffMs(3, 1000, 60_000, () => 1), 4000);
    assert.equal(endpointBackoffMs(40, 1000, 60_000, () => 1), 60_000);
    assert.equal(endpointBackoffMs(40, 1000, 60_000, () => 0), 30_000);
  });
});

describe('EndpointHealth', () => {
  it('backs off after a failure, probes when the pause is over, and is healthy again after a success', () => {
    const health = new EndpointHealth({ baseBackoffMs: 1000, maxBackoffMs: 8000, random: () => 1 });
    assert.equal(health.state('a', 0), 'healthy');
    health.failed('a', 10_000, 100);
    assert.equal(health.state('a', 100), 'backing-off');
    assert.equal(health.retryAt('a', 100), 1100);
    assert.equal(health.state('a', 1100), 'probing');
    health.failed('a', 10, 1100);
    assert.equal(health.retryAt('a', 1100), 3100);
    health.succeeded('a', 10, 3200);
    assert.equal(health.state('a', 3200), 'healthy');
    assert.equal(health.retryAt('a', 3200), undefined);
    assert.equal(health.state('b', 3200), 'healthy');
  });

  it('takes a Retry-After as the pause, up to the longest pause', () => {
    const health = new EndpointHealth({ baseBackoffMs: 1000, maxBackoffMs: 8000, random: () => 0 });
    health.failed('a', 5, 0, 5000);
    assert.equal(health.retryAt('a', 0), 5000);
    health.failed('b', 5, 0, 3_600_000);
    assert.equal(health.retryAt('b', 0), 8000);
  });

  it('a late failure of an attempt in flight never shortens the pause', () => {
    const health = new EndpointHealth({ baseBackoffMs: 1000, maxBackoffMs: 60_000, random: () => 1 });
    health.failed('a', 5, 0);
    health.failed('a', 5, 0);
    health.failed('a', 5, 0);
    assert.equal(health.retryAt('a', 0), 4000);
    health.failed('a', 5, 0);
    assert.equal(health.retryAt('a', 0), 8000);
  });

  it('keeps a mean attempt time and forgets idle healthy endpoints only', () => {
    const health = new EndpointHealth({ random: () => 0 });
    health.succeeded('a', 100, 0);
    health.succeeded('a', 200, 0);
    assert.equal(health.meanAttemptMs('a'), 130);
    health.failed('b', 5, 0);
    health.prune(1, () => false);
    assert.equal(health.meanAttemptMs('a'), undefined);
    assert.equal(health.state('b', 1), 'backing-off');
    assert.deepEqual(health.countByState(1), { healthy: 0, 'backing-off': 1, probing: 0 });
  });
});
