/**
 * Turns a job reaching its final state into deliveries: a webhook to the
 * job's `callbackUrl` (else to the tenant's default endpoint) and an email
 * to its `notifyEmail`. Enqueueing is a store insert; sending happens in the
 * dispatcher, so the API is never slowed by a receiver.
 */
import { jobView, type JobRecord, type JobView } from '../jobs/job-record.js';
import { deliveryId, jobEventOf, overdueDeliveryId, progressDeliveryId, type DeliveryKind, type EndpointSource, type FinalJobEvent, type WebhookPayload } from './delivery.js';
import type { DeliveryStore, NewDelivery } from './delivery-store.js';
import type { DefaultEndpointLookup } from './webhook-secrets.js';

/** Options of {@link JobNotifier}. */
export interface JobNotifierOptions {
  /** True when an SMTP server is configured; otherwise email deliveries are recorded as `disabled`. */
  emailEnabled: boolean;
  defaultEndpoint?: DefaultEndpointLookup | undefined;
  /** Called after something was enqueued (the dispatcher's `kick`). */
  enqueued: () => void;
  now?: () => number;
}

/** Makes the deliveries of final jobs (and the opt-in progress webhooks of reported ones). */
export class JobNotifier {
  private readonly now: () => number;

  constructor(
    private readonly store: DeliveryStore,
    private readonly options: JobNotifierOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The final-state handler: enqueues this job's notifications (each once, however often it is called). */
  async jobFinal(job: JobRecord): Promise<void> {
    const now = this.now();
    const view = jobView(job, now);
    if (view.status === 'pending') return;
    const event = jobEventOf(view.status);
    const payload: WebhookPayload = { type: event, timestamp: view.updatedAt, data: view };
    const body = JSON.stringify(payload);
    const base = { tenant: job.tenant, jobId: job.id, event, payload: body, createdAt: now, nextAttemptAt: now };
    let pending = false;

    const endpoint = await this.webhookTarget(job);
    if (endpoint) {
      const disabled = await this.store.isEndpointDisabled(job.tenant, endpoint.url);
      const delivery: NewDelivery = { ...base, ...this.idAndKind('webhook', job.id, event), target: endpoint.url, source: endpoint.source, status: disabled ? 'disabled' : 'pending' };
      if (disabled) delivery.note = 'not sent: the endpoint answered 410 Gone to an earlier delivery and is disabled';
      pending = (await this.store.enqueue(delivery)) && !disabled;
    }
    if (job.notifyEmail !== undefined) {
      const enabled = this.options.emailEnabled;
      const delivery: NewDelivery = { ...base, ...this.idAndKind('email', job.id, event), target: job.notifyEmail, source: 'job', status: enabled ? 'pending' : 'disabled' };
      if (!enabled) delivery.note = 'not sent: this server has no SMTP server configured (--smtp-url)';
      pending = ((await this.store.enqueue(delivery)) && enabled) || pending;
    }
    if (pending) this.options.enqueued();
  }

  /**
   * Enqueues the `job.progress` webhook of this version of a pending job that asked for it (webhooks
   * only: progress is no email). Idempotent per version; false when nothing was enqueued.
   */
  async jobProgress(job: JobRecord): Promise<boolean> {
    if (!job.webhookEvents?.includes('job.progress')) return false;
    const now = this.now();
    const view = jobView(job, now);
    if (view.status !== 'pending') return false;
    const endpoint = await this.webhookTarget(job);
    if (!endpoint || (await this.store.isEndpointDisabled(job.tenant, endpoint.url))) return false;
    const payload: WebhookPayload = { type: 'job.progress', timestamp: view.updatedAt, data: view };
    const enqueued = await this.store.enqueue({
      id: progressDeliveryId(job.id, view.version),
      kind: 'webhook',
      tenant: job.tenant,
      jobId: job.id,
      event: 'job.progress',
      payload: JSON.stringify(payload),
      target: endpoint.url,
      source: endpoint.source,
      status: 'pending',
      createdAt: now,
      nextAttemptAt: now,
    });
    if (enqueued) this.options.enqueued();
    return enqueued;
  }

  /**
   * Enqueues the one `job.overdue` webhook of a pending job that asked for it, with the view that
   * shows it overdue (`view`). Idempotent per job; false when nothing was enqueued.
   */
  async jobOverdue(job: JobRecord, view: JobView): Promise<boolean> {
    if (!job.webhookEvents?.includes('job.overdue') || view.status !== 'pending') return false;
    const endpoint = await this.webhookTarget(job);
    if (!endpoint || (await this.store.isEndpointDisabled(job.tenant, endpoint.url))) return false;
    const now = this.now();
    const payload: WebhookPayload = { type: 'job.overdue', timestamp: new Date(now).toISOString(), data: view };
    const enqueued = await this.store.enqueue({
      id: overdueDeliveryId(job.id),
      kind: 'webhook',
      tenant: job.tenant,
      jobId: job.id,
      event: 'job.overdue',
      payload: JSON.stringify(payload),
      target: endpoint.url,
      source: endpoint.source,
      status: 'pending',
      createdAt: now,
      nextAttemptAt: now,
    });
    if (enqueued) this.options.enqueued();
    return enqueued;
  }

  private async webhookTarget(job: JobRecord): Promise<{ url: string; source: EndpointSource } | undefined> {
    if (job.callbackUrl !== undefined) return { url: job.callbackUrl, source: 'job' };
    const fallback = await this.options.defaultEndpoint?.(job.tenant);
    return fallback ? { url: fallback.url, source: 'tenant' } : undefined;
  }

  private idAndKind(kind: DeliveryKind, jobId: string, event: FinalJobEvent): { id: string; kind: DeliveryKind } {
    return { id: deliveryId(kind, jobId, event), kind };
  }
}
