import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import pino from 'pino';
import type { JobRecord } from '../jobs/job-record.js';
import { ProgressWebhooks } from './progress-webhooks.js';

const log = pino({ level: 'silent' });

function job(version: number, progress: number, extra: Partial<JobRecord> = {}): JobRecord {
  return { id: 'job_1', tenant: 'public', state: 'pending', version, createdAt: 0, updatedAt: version, progress, expiresAt: 1e12, webhookEvents: ['job.progress'], ...extra };
}

/** Lets the promises queued by a timer's callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('ProgressWebhooks', () => {
  let sent: JobRecord[];
  let stored: JobRecord | undefined;
  let webhooks: ProgressWebhooks;

  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout'] });
    sent = [];
    stored = undefined;
    webhooks = new ProgressWebhooks({
      intervalMs: 500,
      enqueue: async (j) => void sent.push(j),
      current: async (j) => stored ?? j,
      log,
      now: () => 0,
    });
  });
  afterEach(() => {
    webhooks.close();
    mock.timers.reset();
  });

  it('sends the first change at once and folds the changes of the next interval into the latest one', async () => {
    webhooks.changed(job(2, 0.1));
    assert.deepEqual(sent.map((j) => j.progress), [0.1]);
    for (let v = 3; v <= 50; v++) {
      mock.timers.tick(10);
      webhooks.changed(job(v, v / 100));
    }
    assert.equal(sent.length, 1, 'nothing more within the interval');
    mock.timers.tick(500);
    await settle();
    assert.deepEqual(sent.map((j) => j.version), [2, 50], 'the latest change of the interval, once');
    mock.timers.tick(500);
    await settle();
    assert.equal(sent.length, 2, 'no change since: nothing sent');
    assert.equal(webhooks.size, 0, 'a quiet job leaves no interval behind');
    webhooks.changed(job(51, 0.6));
    assert.deepEqual(sent.map((j) => j.version), [2, 50, 51], 'after a quiet interval, the next change goes out at once');
  });

  it('drops the change waiting when the job ends: the final event is not held behind it', async () => {
    webhooks.changed(job(2, 0.1));
    webhooks.changed(job(3, 0.2));
    webhooks.finished('job_1');
    mock.timers.tick(1000);
    await settle();
    assert.deepEqual(sent.map((j) => j.version), [2]);
    assert.equal(webhooks.size, 0);
  });

  it('sends nothing for a job that ended elsewhere meanwhile, and the newer stored version when there is one', async () => {
    webhooks.changed(job(2, 0.1));
    webhooks.changed(job(3, 0.2));
    stored = job(5, 0.4);
    mock.timers.tick(500);
    await settle();
    assert.deepEqual(sent.map((j) => j.version), [2, 5]);
    webhooks.changed(job(6, 0.5));
    stored = job(7, 1, { state: 'completed' });
    mock.timers.tick(500);
    await settle();
    assert.deepEqual(sent.map((j) => j.version), [2, 5]);
  });

  it('ignores jobs that did not ask, final versions and versions older than the one sent', () => {
    webhooks.changed(job(2, 0.1, { webhookEvents: undefined }));
    webhooks.changed(job(3, 1, { state: 'completed' }));
    assert.equal(sent.length, 0);
    webhooks.changed(job(4, 0.3));
    webhooks.changed(job(3, 0.2));
    mock.timers.tick(500);
    assert.deepEqual(sent.map((j) => j.version), [4]);
  });
});
