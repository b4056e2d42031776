import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../build-server.js';
import { jobView } from '../jobs/job-record.js';
import { IngestApplier, type IngestResult } from './ingest-applier.js';
import { parseIngestMessage } from './ingest-message.js';

const TENANTS = new Set(['public']);
let app: FastifyInstance;
let applier: IngestApplier;
let counter = 0;

function message(fields: Record<string, unknown>): string {
  return JSON.stringify({ messageId: `m-${++counter}`, tenant: 'public', at: new Date().toISOString(), ...fields });
}

async function apply(fields: Record<string, unknown>): Promise<IngestResult> {
  return applier.apply(message(fields), TENANTS);
}

async function view(id: string) {
  return jobView(await app.jobs.get('public', id), Date.now());
}

before(async () => {
  app = await buildServer({ store: 'memory', logLevel: 'silent', retentionSeconds: 3600, maxResultBytes: 1000 });
  await app.ready();
  applier = new IngestApplier({ service: app.jobs, maxResultBytes: 1000, retentionSeconds: 3600 });
});
after(() => app.close());

describe('ingest message parsing (the schema at the boundary)', () => {
  it('names malformed JSON, a message outside the schema, an oversize result and an unreal time', () => {
    assert.equal(parseIngestMessage('{"messageId": ', 1000).ok, false);
    const bad = (body: unknown) => {
      const parsed = parseIngestMessage(JSON.stringify(body), 1000);
      return parsed.ok ? 'ok' : parsed.reason;
    };
    const base = { messageId: 'x', tenant: 'public', externalId: 'e', at: '2026-01-01T00:00:00Z' };
    assert.equal(bad({ ...base, event: 'progress', progress: 0.5 }), 'ok');
    assert.equal(bad({ ...base, event: 'explode' }), 'invalid_message');
    assert.equal(bad({ ...base, event: 'progress', jobId: 'job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2' }), 'invalid_message', 'both jobId and externalId');
    assert.equal(bad({ ...base, event: 'progress', result: 1 }), 'invalid_message', 'a result only with completed');
    assert.equal(bad({ ...base, event: 'completed', result: 'x'.repeat(2000) }), 'result_too_large');
    assert.equal(bad({ ...base, event: 'progress', at: '2026-02-31T00:00:00Z' }), 'ok', 'Date.parse rolls Feb 31 over: a real time');
    assert.equal(bad({ ...base, event: 'progress', at: '2026-13-40T99:00:00Z' }), 'invalid_message');
    assert.equal(parseIngestMessage('x'.repeat(20_000), 1000).ok, false);
  });
});

describe('IngestApplier', () => {
  it('creates a job on the first message naming an externalId, and finds it after', async () => {
    const first = await apply({ externalId: 'video-1', event: 'started', job: { metadata: { title: 'One' } } });
    assert.equal(first.kind, 'applied');
    const again = await apply({ externalId: 'video-1', event: 'progress', progress: 0.5 });
    assert.equal(again.kind, 'applied');
    assert.equal((again as { jobId: string }).jobId, (first as { jobId: string }).jobId);
    const job = await view((first as { jobId: string }).jobId);
    assert.equal(job.status, 'pending');
    assert.equal(job.progress, 0.5);
    assert.deepEqual(job.metadata, { title: 'One' });
  });

  it('changes nothing twice for a redelivered message', async () => {
    const body = message({ externalId: 'video-dup', event: 'progress', progress: 0.2 });
    const first = await applier.apply(body, TENANTS);
    const second = await applier.apply(body, TENANTS);
    assert.equal(first.kind, 'applied');
    assert.equal(second.kind, 'duplicate');
    const job = await view((first as { jobId: string }).jobId);
    assert.equal(job.version, 2);
  });

  it('orders by seq when the publisher sends one, else by event time; never moves backwards', async () => {
    const t = Date.now() - 10_000;
    const at = (ms: number) => new Date(t + ms).toISOString();
    const a = await apply({ externalId: 'video-seq', event: 'progress', progress: 0.6, seq: 6, at: at(0) });
    // A later clock but an older sequence number: stale.
    assert.deepEqual(await apply({ externalId: 'video-seq', event: 'progress', progress: 0.3, seq: 3, at: at(5000) }), { kind: 'ignored', why: 'stale', jobId: (a as { jobId: string }).jobId, messageId: `m-${counter}` });
    assert.equal((await apply({ externalId: 'video-seq', event: 'progress', progress: 0.7, seq: 7, at: at(1) })).kind, 'applied');
    const id = (a as { jobId: string }).jobId;
    assert.equal((await view(id)).progress, 0.7);
    // Without seq: the event time decides.
    assert.equal((await apply({ externalId: 'video-time', event: 'progress', progress: 0.5, at: at(2000) })).kind, 'applied');
    assert.equal((await apply({ externalId: 'video-time', event: 'progress', progress: 0.1, at: at(1000) })).kind, 'ignored');
  });

  it('keeps a final state final: a late progress after completed is ignored (and said so)', async () => {
    const done = await apply({ externalId: 'video-final', event: 'completed', result: { url: 'https://cdn.example/v.mp4' } });
    assert.equal(done.kind, 'applied');
    const late = await apply({ externalId: 'video-final', event: 'progress', progress: 0.3 });
    assert.equal(late.kind, 'ignored');
    assert.equal((late as { why: string }).why, 'late');
    const job = await view((done as { jobId: string }).jobId);
    assert.equal(job.status, 'completed');
    assert.deepEqual(job.result, { url: 'https://cdn.example/v.mp4' });
  });

  it('dead-letters a wrong tenant, an unknown job, a simulated job and a message older than the retention', async () => {
    assert.equal(((await applier.apply(message({ externalId: 'x', event: 'started', tenant: 'other' }), TENANTS)) as { reason: string }).reason, 'wrong_tenant');
    assert.equal(((await apply({ jobId: 'job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2', event: 'started' })) as { reason: string }).reason, 'job_removed');
    const fresh = `job_${'0'.repeat(0)}${ulidTime(Date.now())}${'0'.repeat(16)}`;
    assert.equal(((await apply({ jobId: fresh, event: 'started' })) as { reason: string }).reason, 'unknown_job');
    const { job: timer } = await app.jobs.create('public', { duration: 60 });
    assert.equal(((await apply({ jobId: timer.id, event: 'progress', progress: 0.5 })) as { reason: string }).reason, 'simulated_job');
    const before = (await app.jobs.list('public', { limit: 1000 })).jobs.length;
    const old = new Date(Date.now() - 2 * 3600_000).toISOString();
    assert.equal(((await apply({ externalId: 'never-seen', event: 'started', at: old })) as { reason: string }).reason, 'job_removed');
    // …and it created nothing.
    assert.equal((await app.jobs.list('public', { limit: 1000 })).jobs.length, before);
  });

  it('reports to a job by its jobwait id, as an HTTP worker would', async () => {
    const { job } = await app.jobs.create('public', {});
    assert.equal((await apply({ jobId: job.id, event: 'failed', error: { code: 'ASR_DOWN', message: 'speech service down' } })).kind, 'applied');
    const shown = await view(job.id);
    assert.equal(shown.status, 'error');
    assert.deepEqual(shown.error, { code: 'ASR_DOWN', message: 'speech service down' });
  });
});

function ulidTime(ms: number): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let out = '';
  for (let i = 0, t = ms; i < 10; i++, t = Math.floor(t / 32)) out = alphabet[t % 32]! + out;
  return out;
}
