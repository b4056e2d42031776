/**
 * Webhooks and email, put together: the delivery store, the signing
 * secrets, the target policy, the senders, the dispatcher, and the
 * final-state handler that enqueues. `buildServer` makes one and hooks it to
 * the job service and the server's life (start on ready, drain on close).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { JobRecord, JobView } from '../jobs/job-record.js';
import { OPEN_TENANT } from '../auth/access-control.js';
import type { DeliveryKind, DeliveryStatus } from './delivery.js';
import type { DeliverySender } from './delivery-sender.js';
import { DeliveryDispatcher } from './delivery-dispatcher.js';
import type { DeliveryStore } from './delivery-store.js';
import { EmailNotifier } from './email-notifier.js';
import { JobNotifier } from './job-notifier.js';
import { ProgressWebhooks } from './progress-webhooks.js';
import { WebhookSecrets, type DefaultEndpointLookup } from './webhook-secrets.js';
import { WebhookSender } from './webhook-sender.js';
import { WebhookTargetPolicy, type LookupAll } from './webhook-target.js';

/** What {@link Notifications} needs (normalized server options and the parts it hooks into). */
export interface NotificationsOptions {
  /** The engine's delivery store. */
  deliveries: DeliveryStore;
  /** False when the deliveries do not outlive the process (then neither do generated webhook secrets). */
  persistent: boolean;
  webhookSecret?: string | undefined;
  webhookAllowHosts: readonly string[];
  webhookRetryScheduleMs: readonly number[];
  emailRetryScheduleMs: readonly number[];
  webhookTimeoutMs: number;
  /** Shortest time between two `job.progress` webhooks of one job, ms. */
  progressWebhookIntervalMs: number;
  /** The job as stored now (a coalesced progress webhook sends the job as it stands when its turn comes). */
  currentJob: (job: JobRecord) => Promise<JobRecord | undefined>;
  /** Delivery attempts in flight at once, in total (see `DeliveryDispatcherOptions`). */
  deliveryConcurrency?: number | undefined;
  /** Delivery attempts in flight at once to one endpoint. */
  deliveryConcurrencyPerEndpoint?: number | undefined;
  /** Delivery attempts in flight at once for one tenant. */
  deliveryConcurrencyPerTenant?: number | undefined;
  smtpUrl?: string | undefined;
  emailFrom: string;
  /** The tenant's default endpoint, used for jobs without a `callbackUrl`. */
  webhookDefaultEndpoint?: DefaultEndpointLookup | undefined;
  /** DNS, for tests. */
  lookup?: LookupAll | undefined;
  /** Told of every delivery attempt and the delivery's status after it (metrics). */
  onDeliveryAttempt?: ((kind: DeliveryKind, status: DeliveryStatus) => void) | undefined;
  log: FastifyBaseLogger;
  now: () => number;
}

/** Everything behind webhooks and email. */
export class Notifications {
  readonly deliveries: DeliveryStore;
  readonly secrets: WebhookSecrets;
  readonly policy: WebhookTargetPolicy;
  readonly dispatcher: DeliveryDispatcher;
  private readonly notifier: JobNotifier;
  /** Opt-in `job.progress` webhooks, coalesced per job. */
  readonly progress: ProgressWebhooks;
  private readonly log: FastifyBaseLogger;

  constructor(options: NotificationsOptions) {
    const log = options.log.child({ component: 'notify' });
    this.log = log;
    const { deliveries: store, persistent } = options;
    this.deliveries = store;
    this.secrets = new WebhookSecrets(store, { configured: options.webhookSecret, defaultEndpoint: options.webhookDefaultEndpoint, startTenant: OPEN_TENANT, persistent, log });
    this.policy = new WebhookTargetPolicy({ allowHosts: options.webhookAllowHosts, ...(options.lookup ? { lookup: options.lookup } : {}) });
    const senders: { webhook: DeliverySender; email?: DeliverySender } = {
      webhook: new WebhookSender({
        policy: this.policy,
        secretFor: (d) => this.secrets.forDelivery(d),
        timeoutMs: options.webhookTimeoutMs,
        ...(options.deliveryConcurrency !== undefined ? { maxSocketsPerHost: options.deliveryConcurrency } : {}),
        now: options.now,
      }),
    };
    if (options.smtpUrl !== undefined) senders.email = new EmailNotifier({ smtpUrl: options.smtpUrl, from: options.emailFrom });
    this.dispatcher = new DeliveryDispatcher(store, senders, log, {
      retrySchedules: { webhook: options.webhookRetryScheduleMs, email: options.emailRetryScheduleMs },
      onAttempt: options.onDeliveryAttempt,
      ...definedOnly({ concurrency: options.deliveryConcurrency, concurrencyPerEndpoint: options.deliveryConcurrencyPerEndpoint, concurrencyPerTenant: options.deliveryConcurrencyPerTenant }),
      // The lease must outlast any attempt, or a slow one could be claimed and sent again by another instance.
      leaseMs: Math.max(120_000, options.webhookTimeoutMs * 2 + 30_000),
      now: options.now,
    });
    this.notifier = new JobNotifier(store, {
      emailEnabled: options.smtpUrl !== undefined,
      defaultEndpoint: options.webhookDefaultEndpoint,
      enqueued: () => this.dispatcher.kick(),
      now: options.now,
    });
    this.progress = new ProgressWebhooks({
      intervalMs: options.progressWebhookIntervalMs,
      enqueue: (job) => this.notifier.jobProgress(job),
      current: options.currentJob,
      log,
      now: options.now,
    });
  }

  /** The final-state handler for `JobService.onJobFinal`: enqueues, never sends; a progress webhook still waiting is dropped. */
  readonly jobFinal = (job: JobRecord): Promise<void> => {
    this.progress.finished(job.id);
    return this.notifier.jobFinal(job);
  };

  /** Enqueues the opt-in `job.overdue` webhook of a job its view shows overdue (once per job). */
  readonly jobOverdue = (job: JobRecord, view: JobView): Promise<boolean> => this.notifier.jobOverdue(job, view);

  /** The handler for `JobService.onJobChanged`: a `job.progress` webhook now or at the end of the job's interval. */
  readonly jobChanged = (job: JobRecord): void => this.progress.changed(job);

  /** Why `callbackUrl` may not be called (checked at create time, after DNS), or `undefined` when it may. */
  async refuseCallbackUrl(callbackUrl: string): Promise<string | undefined> {
    const check = await this.policy.resolve(callbackUrl);
    return check.ok ? undefined : check.reason;
  }

  /** Settles the signing secret and starts sending (deliveries left pending by a previous run go first). */
  async start(): Promise<void> {
    // Not awaited: a shared store (Redis) that is down must not hold or fail the start; the secret is then settled on first use.
    this.secrets.start().catch((error: unknown) => this.log.warn({ err: error }, 'could not settle the webhook signing secret at start (store unreachable); it is settled on first use'));
    this.dispatcher.start();
  }

  /** Stops sending; attempts in flight get up to `drainMs` to finish. */
  async stop(drainMs?: number): Promise<void> {
    this.progress.close();
    await this.dispatcher.stop(drainMs);
  }
}

/** `values` without its undefined entries (optional options are exact: absent, not undefined). */
function definedOnly<T extends Record<string, number | undefined>>(values: T): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: number };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Webhooks and email: deliveries, signing secrets, the dispatcher. */
    notify: Notifications;
  }
}
