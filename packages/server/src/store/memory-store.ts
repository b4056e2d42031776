/** A throwaway in-process store (`--store memory`): same behaviour as SQLite, nothing kept on exit. */
import { effectiveState, type JobRecord } from '../jobs/job-record.js';
import type { CancelResult, CreateResult, IdempotencyClaim, JobStore, ListQuery } from './job-store.js';

/** {@link JobStore} in memory. */
export class MemoryStore implements JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  /** Per tenant, ids in creation order (ids increase, so this stays sorted). */
  private readonly byTenant = new Map<string, string[]>();
  private readonly idempotency = new Map<string, { fingerprint: string; jobId: string }>();
  private readonly timers = new Map<string, string>();
  /** Pending job ids; scanned for due ones (bounded by the number of pending jobs). */
  private readonly pending = new Set<string>();
  /** Final jobs whose final-state work is not confirmed yet (see {@link JobStore.unnotified}). */
  private readonly unconfirmed = new Map<string, number>();

  async create(job: JobRecord, claim?: IdempotencyClaim): Promise<CreateResult> {
    if (claim) {
      const key = `${job.tenant}\n${claim.key}`;
      const prior = this.idempotency.get(key);
      if (prior) {
        if (prior.fingerprint !== claim.fingerprint) return { kind: 'mismatch' };
        const existing = this.jobs.get(prior.jobId);
        if (existing) return { kind: 'replayed', job: { ...existing } };
      }
      this.idempotency.set(key, { fingerprint: claim.fingerprint, jobId: job.id });
    }
    this.jobs.set(job.id, { ...job });
    let ids = this.byTenant.get(job.tenant);
    if (!ids) this.byTenant.set(job.tenant, (ids = []));
    ids.push(job.id);
    if (job.state === 'pending') this.pending.add(job.id);
    return { kind: 'created', job: { ...job } };
  }

  async get(tenant: string, id: string): Promise<JobRecord | undefined> {
    const job = this.jobs.get(id);
    return job && job.tenant === tenant ? { ...job } : undefined;
  }

  async list(tenant: string, query: ListQuery, now: number): Promise<JobRecord[]> {
    const ids = this.byTenant.get(tenant) ?? [];
    const out: JobRecord[] = [];
    for (let i = ids.length - 1; i >= 0 && out.length < query.limit; i--) {
      const id = ids[i]!;
      if (query.before !== undefined && id >= query.before) continue;
      const job = this.jobs.get(id)!;
      if (query.status && effectiveState(job, now).status !== query.status) continue;
      out.push({ ...job });
    }
    return out;
  }

  async changedSince(tenant: string, since: number, now: number, limit: number): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    for (const id of this.byTenant.get(tenant) ?? []) {
      const job = this.jobs.get(id)!;
      if (job.createdAt >= since || effectiveState(job, now).updatedAt >= since) out.push({ ...job });
      if (out.length >= limit) break;
    }
    return out;
  }

  async cancel(tenant: string, id: string, now: number): Promise<CancelResult> {
    const job = this.jobs.get(id);
    if (!job || job.tenant !== tenant) return { kind: 'missing' };
    if (job.state !== 'pending' || job.dueAt <= now) return { kind: 'final', job: { ...job } };
    job.state = 'canceled';
    job.version += 1;
    job.updatedAt = now;
    this.pending.delete(id);
    this.unconfirmed.set(id, now);
    return { kind: 'canceled', job: { ...job } };
  }

  async settleDue(now: number, limit: number): Promise<JobRecord[]> {
    const due: JobRecord[] = [];
    for (const id of this.pending) {
      const job = this.jobs.get(id)!;
      if (job.dueAt <= now) due.push(job);
    }
    due.sort((a, b) => a.dueAt - b.dueAt);
    return due.slice(0, limit).map((job) => {
      job.state = job.outcome;
      job.version += 1;
      job.updatedAt = job.dueAt;
      this.pending.delete(job.id);
      this.unconfirmed.set(job.id, now);
      return { ...job };
    });
  }

  async unnotified(before: number, limit: number): Promise<JobRecord[]> {
    const due = [...this.unconfirmed].filter(([, since]) => since <= before).sort((a, b) => a[1] - b[1]);
    return due.slice(0, limit).map(([id]) => ({ ...this.jobs.get(id)! }));
  }

  async markNotified(jobs: readonly JobRecord[]): Promise<void> {
    for (const job of jobs) this.unconfirmed.delete(job.id);
  }

  async nextDueAt(): Promise<number | undefined> {
    let next: number | undefined;
    for (const id of this.pending) {
      const due = this.jobs.get(id)!.dueAt;
      if (next === undefined || due < next) next = due;
    }
    return next;
  }

  async setCurrentTimer(tenant: string, id: string): Promise<void> {
    this.timers.set(tenant, id);
  }

  async getCurrentTimer(tenant: string): Promise<JobRecord | undefined> {
    const id = this.timers.get(tenant);
    return id === undefined ? undefined : this.get(tenant, id);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
