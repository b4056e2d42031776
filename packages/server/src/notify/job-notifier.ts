/**
 * Turns a job reaching its final state into deliveries: a webhook to the
 * job's `callbackUrl` (else to the tenant's default endpoint) and an email
 * to its `notifyEmail`. Enqueueing is a store insert; sending happens in the
 * dispatcher, so the API is never slowed by a receiver.
 */
import { jobView, type JobRecord } from '../jobs/job-record.js';
import { deliveryId, jobEventOf, type DeliveryKind, type EndpointSource, type WebhookPayload } from './delivery.js';
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

/** Makes the deliveries of final jobs. */
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

  private async webhookTarget(job: JobRecord): Promise<{ url: string; source: EndpointSource } | undefined> {
    if (job.callbackUrl !== undefined) return { url: job.callbackUrl, source: 'job' };
    const fallback = await this.options.defaultEndpoint?.(job.tenant);
    return fallback ? { url: fallback.url, source: 'tenant' } : undefined;
  }

  private idAndKind(kind: DeliveryKind, jobId: string, event: NewDelivery['event']): { id: string; kind: DeliveryKind } {
    return { id: deliveryId(kind, jobId, event), kind };
  }
}
