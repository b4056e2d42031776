/** The in-process change feed of a single instance. */
import type { ChangeFeed, ChangeListener, JobChange, Unsubscribe } from './change-feed.js';

/** {@link ChangeFeed} within one process: two maps of listener sets. */
export class LocalFeed implements ChangeFeed {
  private readonly byJob = new Map<string, Set<ChangeListener>>();
  private readonly byTenant = new Map<string, Set<ChangeListener>>();
  private count = 0;

  async publish(change: JobChange): Promise<void> {
    this.deliver(change);
  }

  /** Delivers synchronously; also used by feeds that receive changes from elsewhere (Redis). */
  deliver(change: JobChange): void {
    this.deliverToJob(change);
    this.deliverToTenant(change);
  }

  /** Delivers to the subscribers of the job only (a feed's resync re-reads jobs and tenants apart). */
  deliverToJob(change: JobChange): void {
    for (const listener of [...(this.byJob.get(change.job.id) ?? [])]) listener(change);
  }

  /** Delivers to the subscribers of the tenant only. */
  deliverToTenant(change: JobChange): void {
    for (const listener of [...(this.byTenant.get(change.tenant) ?? [])]) listener(change);
  }

  /** Ids of the jobs that have subscribers. */
  jobIds(): string[] {
    return [...this.byJob.keys()];
  }

  /** Tenants that have subscribers. */
  tenants(): string[] {
    return [...this.byTenant.keys()];
  }

  async subscribeJob(jobId: string, listener: ChangeListener): Promise<Unsubscribe> {
    return this.add(this.byJob, jobId, listener);
  }

  async subscribeTenant(tenant: string, listener: ChangeListener): Promise<Unsubscribe> {
    return this.add(this.byTenant, tenant, listener);
  }

  size(): number {
    return this.count;
  }

  async close(): Promise<void> {
    this.byJob.clear();
    this.byTenant.clear();
    this.count = 0;
  }

  private add(map: Map<string, Set<ChangeListener>>, key: string, listener: ChangeListener): Unsubscribe {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    // Wrap so the same function subscribed twice gets two independent subscriptions.
    const entry: ChangeListener = (change) => listener(change);
    set.add(entry);
    this.count++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.count--;
      set.delete(entry);
      if (set.size === 0 && map.get(key) === set) map.delete(key);
    };
  }
}
