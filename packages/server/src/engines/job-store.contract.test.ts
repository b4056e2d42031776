/**
 * One behaviour, every engine: the same contract runs against the job stores
 * of SQLite on a file, SQLite in memory and Redis (the real one, under a prefix
 * of its own that is deleted afterwards).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ENGINE_KINDS, openTestEngine } from '../../../../test/helpers/engines.js';
import { JobIdFactory } from '../jobs/job-id.js';
import type { JobRecord } from '../jobs/job-record.js';
import type { Outcome } from '../jobs/outcome.js';
import type { JobStore } from '../store/job-store.js';
import { JOB_STALLED, SIMULATED_FAILURE, applyReport } from '../jobs/transition.js';

const harnesses = ENGINE_KINDS.map((name) => ({
  name,
  open: async (): Promise<{ store: JobStore; dispose(): Promise<void> }> => {
    const opened = openTestEngine(name);
    return { store: opened.engine.jobs, dispose: () => opened.dispose() };
  },
}));

/** Deep equality of records, ignoring the store's revision (`rev`: its own compare-and-set counter). */
function same(actual: unknown, expected: unknown, message?: string): void {
  const strip = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null, (key, x: unknown) => (key === 'rev' ? undefined : x)));
  assert.deepEqual(strip(actual), strip(expected), message);
}

/** Realistic times: the Redis store expires finished jobs relative to the wall clock. */
const T0 = Date.now();

function jobFactory() {
  const ids = new JobIdFactory();
  return (options: { tenant?: string; createdAt?: number; dueIn?: number; outcome?: Outcome; extra?: Partial<JobRecord> } = {}): JobRecord => {
    const createdAt = options.createdAt ?? T0;
    const dueIn = options.dueIn ?? 10_000;
    return {
      id: ids.next(createdAt),
      tenant: options.tenant ?? 'tenant-a',
      state: 'pending',
      outcome: options.outcome ?? 'completed',
      createdAt,
      dueAt: createdAt + dueIn,
      updatedAt: createdAt,
      duration: dueIn / 1000,
      version: 1,
      ...options.extra,
    };
  };
}

for (const harness of harnesses) {
  describe(`JobStore contract: ${harness.name}`, () => {
    let store: JobStore;
    let dispose: () => Promise<void>;
    let makeJob: ReturnType<typeof jobFactory>;

    beforeEach(async () => {
      ({ store, dispose } = await harness.open());
      makeJob = jobFactory();
    });
    afterEach(() => dispose());

    it('reads back a created job with every field, only for its own tenant', async () => {
      const job = makeJob({ dueIn: 1234, outcome: 'error', extra: { duration: 1.234, metadata: { video: 'a.mp4', n: [1, 2] }, callbackUrl: 'https://example.com/hook', notifyEmail: 'x@example.com' } });
      const created = await store.create(job);
      same(created, { kind: 'created', job });
      same(await store.get('tenant-a', job.id), job);
      assert.equal(await store.get('tenant-b', job.id), undefined);
      assert.equal(await store.get('tenant-a', 'job_00000000000000000000000000'), undefined);
    });

    it('leaves optional fields out when they were not given', async () => {
      const job = makeJob();
      await store.create(job);
      const read = await store.get('tenant-a', job.id);
      same(read, job);
      assert.ok(read && !('metadata' in read) && !('callbackUrl' in read) && !('notifyEmail' in read));
    });

    it('replays a repeated Idempotency-Key with the same body and refuses it with another body', async () => {
      const first = makeJob();
      assert.equal((await store.create(first, { key: 'k1', fingerprint: 'fp1' })).kind, 'created');
      const replay = await store.create(makeJob(), { key: 'k1', fingerprint: 'fp1' });
      same(replay, { kind: 'replayed', job: first });
      same(await store.create(makeJob(), { key: 'k1', fingerprint: 'fp2' }), { kind: 'mismatch' });
      // Keys belong to a tenant: another tenant's same key is a new job.
      const other = makeJob({ tenant: 'tenant-b' });
      assert.equal((await store.create(other, { key: 'k1', fingerprint: 'fp2' })).kind, 'created');
      assert.equal((await store.list('tenant-a', { limit: 10 }, T0)).length, 1);
      assert.equal((await store.list('tenant-b', { limit: 10 }, T0)).length, 1);
    });

    it('lists newest first, a page at a time, with the last id as cursor', async () => {
      const jobs = [];
      for (let i = 0; i < 5; i++) jobs.push(makeJob({ createdAt: T0 + i }));
      for (const job of jobs) await store.create(job);
      await store.create(makeJob({ tenant: 'tenant-b', createdAt: T0 + 10 }));
      const ids = jobs.map((j) => j.id).reverse();
      const page1 = await store.list('tenant-a', { limit: 2 }, T0);
      same(page1.map((j) => j.id), ids.slice(0, 2));
      const page2 = await store.list('tenant-a', { limit: 2, before: page1[1]!.id }, T0);
      same(page2.map((j) => j.id), ids.slice(2, 4));
      const page3 = await store.list('tenant-a', { limit: 2, before: page2[1]!.id }, T0);
      same(page3.map((j) => j.id), ids.slice(4));
      same(await store.list('tenant-a', { limit: 2, before: page3[0]!.id }, T0), []);
    });

    it('filters a list on the effective status: a pending job past due counts as its outcome', async () => {
      const done = makeJob({ dueIn: 100, outcome: 'completed' });
      const failed = makeJob({ dueIn: 100, outcome: 'error' });
      const running = makeJob({ dueIn: 60_000 });
      const canceled = makeJob({ dueIn: 60_000 });
      for (const job of [done, failed, running, canceled]) await store.create(job);
      await store.cancel('tenant-a', canceled.id, T0 + 50);
      const now = T0 + 200;
      const ids = async (status: JobRecord['state']) => (await store.list('tenant-a', { status, limit: 10 }, now)).map((j) => j.id);
      same(await ids('completed'), [done.id]);
      same(await ids('error'), [failed.id]);
      same(await ids('pending'), [running.id]);
      same(await ids('canceled'), [canceled.id]);
      same(await store.list('tenant-a', { status: 'pending', limit: 10 }, T0), [done, failed, running].map((j) => ({ ...j })).reverse());
    });

    it('counts jobs by status as reads show them, through create, cancel and settle, per tenant', async () => {
      const zero = { pending: 0, completed: 0, error: 0, canceled: 0 };
      assert.deepEqual(await store.countByStatus('tenant-a', T0), zero);
      const done = makeJob({ dueIn: 100, outcome: 'completed' });
      const failed = makeJob({ dueIn: 100, outcome: 'error' });
      const running = makeJob({ dueIn: 60_000 });
      const canceled = makeJob({ dueIn: 60_000 });
      const other = makeJob({ tenant: 'tenant-b', dueIn: 100 });
      for (const job of [done, failed, running, canceled, other]) await store.create(job);
      // A replayed create is not a second job.
      await store.create(makeJob({ dueIn: 60_000 }), { key: 'k', fingerprint: 'f' });
      await store.create(makeJob({ dueIn: 60_000 }), { key: 'k', fingerprint: 'f' });
      assert.deepEqual(await store.countByStatus('tenant-a', T0), { ...zero, pending: 5 });
      await store.cancel('tenant-a', canceled.id, T0 + 50);
      await store.cancel('tenant-a', canceled.id, T0 + 60);
      assert.deepEqual(await store.countByStatus('tenant-a', T0 + 50), { ...zero, pending: 4, canceled: 1 });
      // Past due and not settled yet: counted as its outcome, as a read shows it.
      const due = { ...zero, pending: 2, completed: 1, error: 1, canceled: 1 };
      assert.deepEqual(await store.countByStatus('tenant-a', T0 + 200), due);
      await store.settleDue(T0 + 200, 10);
      assert.deepEqual(await store.countByStatus('tenant-a', T0 + 200), due);
      assert.deepEqual(await store.countByStatus('tenant-b', T0 + 200), { ...zero, completed: 1 });
      // Each count is what the list of that status holds.
      for (const status of ['pending', 'completed', 'error', 'canceled'] as const) {
        assert.equal((await store.list('tenant-a', { status, limit: 100 }, T0 + 200)).length, due[status], status);
      }
    });

    it('cancels a pending job once; a finished, past-due, foreign or unknown job is not canceled', async () => {
      const job = makeJob({ dueIn: 60_000 });
      const pastDue = makeJob({ dueIn: 100 });
      await store.create(job);
      await store.create(pastDue);
      const result = await store.cancel('tenant-a', job.id, T0 + 500);
      same(result, { kind: 'canceled', job: { ...job, state: 'canceled', version: 2, updatedAt: T0 + 500 } });
      same(await store.cancel('tenant-a', job.id, T0 + 600), { kind: 'final', job: { ...job, state: 'canceled', version: 2, updatedAt: T0 + 500 } });
      // A job past its deadline has ended, stored or not: it is answered as it ended.
      same(await store.cancel('tenant-a', pastDue.id, T0 + 100), { kind: 'final', job: { ...pastDue, state: 'completed', version: 2, updatedAt: pastDue.dueAt } });
      same(await store.cancel('tenant-b', pastDue.id, T0), { kind: 'missing' });
      same(await store.cancel('tenant-a', 'job_00000000000000000000000000', T0), { kind: 'missing' });
      // Canceled jobs are no longer due.
      same((await store.settleDue(T0 + 120_000, 10)).map((j) => j.id), [pastDue.id]);
      assert.equal(await store.nextDueAt(), undefined);
    });

    it('settles due jobs once each, in due order, up to the limit', async () => {
      const a = makeJob({ dueIn: 300 });
      const b = makeJob({ dueIn: 100, outcome: 'error' });
      const c = makeJob({ dueIn: 200 });
      const later = makeJob({ dueIn: 10_000 });
      for (const job of [a, b, c, later]) await store.create(job);
      assert.equal(await store.nextDueAt(), b.dueAt);
      const first = await store.settleDue(T0 + 300, 2);
      same(first, [
        { ...b, state: 'error', error: SIMULATED_FAILURE, version: 2, updatedAt: b.dueAt },
        { ...c, state: 'completed', version: 2, updatedAt: c.dueAt },
      ]);
      same((await store.settleDue(T0 + 300, 10)).map((j) => j.id), [a.id]);
      same(await store.settleDue(T0 + 300, 10), []);
      assert.equal(await store.nextDueAt(), later.dueAt);
      same(await store.get('tenant-a', a.id), { ...a, state: 'completed', version: 2, updatedAt: a.dueAt });
    });

    it('finds the jobs changed since a time, oldest first, for one tenant', async () => {
      const old = makeJob({ createdAt: T0, dueIn: 60_000 });
      const dueMeanwhile = makeJob({ createdAt: T0 + 1, dueIn: 2999 });
      const canceledMeanwhile = makeJob({ createdAt: T0 + 2, dueIn: 60_000 });
      const newer = makeJob({ createdAt: T0 + 3000, dueIn: 60_000 });
      const foreign = makeJob({ tenant: 'tenant-b', createdAt: T0 + 3000 });
      for (const job of [old, dueMeanwhile, canceledMeanwhile, newer, foreign]) await store.create(job);
      await store.cancel('tenant-a', canceledMeanwhile.id, T0 + 2600);
      const changed = await store.changedSince('tenant-a', T0 + 2500, T0 + 4000, 10);
      same(changed.map((j) => j.id), [dueMeanwhile.id, canceledMeanwhile.id, newer.id]);
      same((await store.changedSince('tenant-a', T0 + 2500, T0 + 4000, 2)).map((j) => j.id), [dueMeanwhile.id, canceledMeanwhile.id]);
      // Before its due time the job had not changed yet.
      same((await store.changedSince('tenant-a', T0 + 2500, T0 + 2700, 10)).map((j) => j.id), [canceledMeanwhile.id, newer.id]);
    });

    it("keeps each tenant's current timer apart", async () => {
      const a = makeJob();
      const b = makeJob({ tenant: 'tenant-b' });
      await store.create(a);
      await store.create(b);
      assert.equal(await store.getCurrentTimer('tenant-a'), undefined);
      await store.setCurrentTimer('tenant-a', a.id);
      await store.setCurrentTimer('tenant-b', b.id);
      same(await store.getCurrentTimer('tenant-a'), a);
      same(await store.getCurrentTimer('tenant-b'), b);
      const a2 = makeJob();
      await store.create(a2);
      await store.setCurrentTimer('tenant-a', a2.id);
      same(await store.getCurrentTimer('tenant-a'), a2);
    });

    it('keeps settled and canceled jobs unnotified, by when they became final, until confirmed', async () => {
      const settled = makeJob({ dueIn: 100 });
      const canceled = makeJob({ dueIn: 60_000, tenant: 'tenant-b' });
      const pending = makeJob({ dueIn: 60_000 });
      for (const job of [settled, canceled, pending]) await store.create(job);
      same(await store.unnotified(T0 + 10_000, 10), [], 'nothing is final yet');
      await store.settleDue(T0 + 5_000, 10);
      await store.cancel('tenant-b', canceled.id, T0 + 6_000);
      // By when the store made them final (5 s, 6 s), not by updatedAt (the settled job's is its due time).
      same((await store.unnotified(T0 + 4_999, 10)).map((j) => j.id), []);
      same((await store.unnotified(T0 + 5_000, 10)).map((j) => j.id), [settled.id]);
      const both = await store.unnotified(T0 + 6_000, 10);
      same(both, [
        { ...settled, state: 'completed', version: 2, updatedAt: settled.dueAt },
        { ...canceled, state: 'canceled', version: 2, updatedAt: T0 + 6_000 },
      ]);
      same((await store.unnotified(T0 + 6_000, 1)).map((j) => j.id), [settled.id]);
      await store.markNotified([settled]);
      same((await store.unnotified(T0 + 60_000, 10)).map((j) => j.id), [canceled.id]);
      await store.markNotified([canceled]);
      await store.markNotified([]);
      same(await store.unnotified(T0 + 60_000, 10), []);
    });

    it('keeps a reported job whole, and writes a transition only over the revision it was read at', async () => {
      const job: JobRecord = { id: makeJob().id, tenant: 'tenant-a', state: 'pending', createdAt: T0, updatedAt: T0, version: 1, heartbeatTimeoutMs: 1000, expiresAt: T0 + 60_000 };
      await store.create(job);
      const read = (await store.get('tenant-a', job.id))!;
      same(read, job);
      const started = applyReport(read, { event: 'progress', progress: 0.25, message: 'step 1', etaSeconds: 30 }, T0 + 10).job;
      const written = await store.replace(read, started, { now: T0 + 10, final: false });
      assert.ok(written, 'the first write goes through');
      same(await store.getById(job.id), started);
      // Another instance read the same revision and decided otherwise: its write is refused.
      const late = applyReport(read, { event: 'completed', result: { url: 'u' } }, T0 + 11).job;
      assert.equal(await store.replace(read, late, { now: T0 + 11, final: true }), undefined);
      same(await store.get('tenant-a', job.id), started);
      // Its deadline is the heartbeat's now: a second later it stalls, settled once, and lists as an error.
      assert.equal(await store.nextDueAt(), T0 + 1010);
      same((await store.list('tenant-a', { status: 'error', limit: 10 }, T0 + 1010)).map((j) => j.id), [job.id]);
      same((await store.list('tenant-a', { status: 'pending', limit: 10 }, T0 + 1009)).map((j) => j.id), [job.id]);
      const settled = await store.settleDue(T0 + 2000, 10);
      assert.equal(settled.length, 1);
      assert.equal(settled[0]!.error?.code, JOB_STALLED);
      assert.equal(settled[0]!.message, 'step 1');
      same(await store.settleDue(T0 + 3000, 10), []);
      same((await store.unnotified(T0 + 2000, 10)).map((j) => j.id), [job.id]);
      const done = (await store.get('tenant-a', job.id))!;
      assert.equal(done.state, 'error');
      assert.equal(await store.getById('job_00000000000000000000000000'), undefined);
    });

    it('answers ping while usable', async () => {
      await store.ping();
    });

    it('creates a batch and its tagged jobs all or none, replays it by Idempotency-Key, and finds them by tag and batch', async () => {
      const batch = { id: 'bat_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2', tenant: 'tenant-a', createdAt: T0, total: 3, tags: ['cat'] };
      const jobs = [0, 1, 2].map((i) => makeJob({ dueIn: 1000 * (i + 1), extra: { tags: i === 1 ? ['cat', 'fr'] : ['cat'], batchId: batch.id } }));
      const claim = { key: 'k1', fingerprint: 'f1' };
      const created = await store.createBatch(batch, jobs, claim);
      assert.equal(created.kind, 'created');
      same(await store.getBatch('tenant-a', batch.id), batch);
      assert.equal(await store.getBatch('tenant-b', batch.id), undefined);
      same(await store.members('tenant-a', { batch: batch.id }, 10), jobs);
      same(await store.members('tenant-a', { tag: 'cat' }, 10), jobs);
      same(await store.members('tenant-a', { tag: 'fr' }, 10), [jobs[1]]);
      same(await store.members('tenant-b', { tag: 'cat' }, 10), []);
      same((await store.list('tenant-a', { tag: 'fr', limit: 10 }, T0)).map((j) => j.id), [jobs[1]!.id]);
      same((await store.list('tenant-a', { batch: batch.id, limit: 10 }, T0)).map((j) => j.id), jobs.map((j) => j.id).reverse());
      same((await store.list('tenant-a', { batch: batch.id, tag: 'fr', limit: 10 }, T0)).map((j) => j.id), [jobs[1]!.id]);
      // A repeat of the key: the first batch, whatever the new one would have been.
      const again = await store.createBatch({ ...batch, id: 'bat_01JDQ3M8Z4X5Y6V7W8T9S0R1Q3' }, [makeJob()], claim);
      assert.equal(again.kind, 'replayed');
      same(again.kind === 'replayed' && again.batch, batch);
      same(again.kind === 'replayed' && again.jobs.map((j) => j.id), jobs.map((j) => j.id));
      same(await store.createBatch({ ...batch, id: 'bat_01JDQ3M8Z4X5Y6V7W8T9S0R1Q4' }, [makeJob()], { key: 'k1', fingerprint: 'other' }), { kind: 'mismatch' });
      // All or none: a batch with a job whose id exists creates none of its jobs.
      const fresh = makeJob();
      await assert.rejects(store.createBatch({ ...batch, id: 'bat_01JDQ3M8Z4X5Y6V7W8T9S0R1Q5' }, [fresh, jobs[0]!]));
      assert.equal(await store.get('tenant-a', fresh.id), undefined);
      assert.equal(await store.getBatch('tenant-a', 'bat_01JDQ3M8Z4X5Y6V7W8T9S0R1Q5'), undefined);
    });

    it('counts every job of a tag or batch by status as reads show them, past a page of ids, per tenant', async () => {
      const zero = { pending: 0, completed: 0, error: 0, canceled: 0 };
      const batch = { id: 'bat_01JDQ3M8Z4X5Y6V7W8T9S0R1Q6', tenant: 'tenant-a', createdAt: T0, total: 4, tags: [] };
      const inBatch = [
        makeJob({ dueIn: 100, outcome: 'completed', extra: { batchId: batch.id, tags: ['big'] } }),
        makeJob({ dueIn: 100, outcome: 'error', extra: { batchId: batch.id } }),
        makeJob({ dueIn: 60_000, extra: { batchId: batch.id } }),
        makeJob({ dueIn: 60_000, extra: { batchId: batch.id } }),
      ];
      await store.createBatch(batch, inBatch);
      await store.cancel('tenant-a', inBatch[3]!.id, T0 + 10);
      // More members than one page of a count's reads, and another tenant's jobs under the same tag.
      for (let i = 0; i < 1_204; i++) await store.create(makeJob({ dueIn: 60_000, extra: { tags: ['big'] } }));
      await store.create(makeJob({ tenant: 'tenant-b', dueIn: 100, extra: { tags: ['big'] } }));
      // Past due and not settled: each counted as its outcome.
      assert.deepEqual(await store.countGroup('tenant-a', { batch: batch.id }, T0 + 200), { pending: 1, completed: 1, error: 1, canceled: 1 });
      assert.deepEqual(await store.countGroup('tenant-a', { tag: 'big' }, T0 + 200), { ...zero, pending: 1_204, completed: 1 });
      assert.deepEqual(await store.countGroup('tenant-a', { tag: 'big' }, T0), { ...zero, pending: 1_205 });
      assert.deepEqual(await store.countGroup('tenant-b', { tag: 'big' }, T0 + 200), { ...zero, completed: 1 });
      assert.deepEqual(await store.countGroup('tenant-b', { batch: batch.id }, T0 + 200), zero);
      assert.deepEqual(await store.countGroup('tenant-a', { tag: 'none' }, T0), zero);
      await store.settleDue(T0 + 200, 10);
      assert.deepEqual(await store.countGroup('tenant-a', { batch: batch.id }, T0 + 200), { pending: 1, completed: 1, error: 1, canceled: 1 });
    });

    it('reads many jobs by id, only the tenant\'s', async () => {
      const mine = makeJob();
      const theirs = makeJob({ tenant: 'tenant-b' });
      await store.create(mine);
      await store.create(theirs);
      same(await store.getMany('tenant-a', [mine.id, theirs.id, 'job_00000000000000000000000000']), [mine]);
      same(await store.getMany('tenant-b', [mine.id, theirs.id]), [theirs]);
      same(await store.getMany('tenant-a', []), []);
    });

    it('keeps a tagged job of a single create in its tag', async () => {
      const job = makeJob({ extra: { tags: ['solo'] } });
      await store.create(job);
      same(await store.members('tenant-a', { tag: 'solo' }, 10), [job]);
    });

    it('keeps a watch until it expires, for its tenant only', async () => {
      const watch = { id: 'wch_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2', tenant: 'tenant-a', selector: { ids: ['job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2'] }, createdAt: T0, expiresAt: T0 + 60_000 };
      await store.saveWatch(watch);
      same(await store.getWatch('tenant-a', watch.id, T0 + 1), watch);
      assert.equal(await store.getWatch('tenant-b', watch.id, T0 + 1), undefined);
      assert.equal(await store.getWatch('tenant-a', watch.id, T0 + 60_000), undefined);
    });
  });
}
