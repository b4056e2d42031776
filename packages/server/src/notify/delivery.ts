/**
 * A delivery: one notification (a webhook POST or an email) about one final
 * state of one job (or, opt-in, one progress version of a reported job), with every attempt made to send it. Deliveries are
 * persisted, so retries survive restarts, and their ids are stable, so a
 * receiver can drop duplicates (Standard Webhooks `webhook-id`).
 */
import type { JobStatus, JobView } from '../jobs/job-record.js';

/** How a delivery travels. */
export type DeliveryKind = 'webhook' | 'email';

/**
 * `pending` waits for its next attempt; `delivered` got a 2xx (or the SMTP server accepted it);
 * `failed` ran out of attempts or was refused for good; `disabled` went to an endpoint that
 * answered 410 Gone (or a channel this server does not offer) and is not attempted.
 */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'disabled';

/** Events of a job reaching a final state. */
export type FinalJobEvent = 'job.completed' | 'job.failed' | 'job.canceled';

/** Events a delivery is about: a final state, or (opt-in, webhooks only) a reported job's progress. */
export type JobEvent = FinalJobEvent | 'job.progress' | 'job.overdue';

/** Where a webhook endpoint came from: the job's `callbackUrl`, or the tenant's default endpoint. */
export type EndpointSource = 'job' | 'tenant';

/** One try at sending. */
export interface DeliveryAttempt {
  /** Start of the attempt, ms since the epoch. */
  at: number;
  durationMs: number;
  /** HTTP status (webhooks) or SMTP reply code (email), when the other side answered. */
  statusCode?: number;
  /** What went wrong, in words safe to show to the tenant. */
  error?: string;
}

/** A delivery as stored. */
export interface Delivery {
  /** Stable across attempts; the `webhook-id` header. See {@link deliveryId}. */
  id: string;
  tenant: string;
  jobId: string;
  kind: DeliveryKind;
  event: JobEvent;
  /** URL (webhook) or address (email). */
  target: string;
  source: EndpointSource;
  /** The JSON body, fixed when enqueued so every attempt sends the same bytes. See {@link WebhookPayload}. */
  payload: string;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  createdAt: number;
  updatedAt: number;
  /** While pending: when the next attempt is due (ms since the epoch). */
  nextAttemptAt?: number | undefined;
  /** Why a delivery ended without being delivered, when no attempt says it. */
  note?: string | undefined;
}

/** A delivery leased to one sender by {@link DeliveryStore.claimDue}. */
export interface ClaimedDelivery extends Delivery {
  /** Proves the lease: only its holder can record the outcome. */
  claimToken: string;
}

/** What becomes of a claimed delivery after an attempt (or without one, when released). */
export interface DeliveryUpdate {
  status: DeliveryStatus;
  /** The attempt just made; absent when the delivery is released or ended without sending. */
  attempt?: DeliveryAttempt | undefined;
  /** Required while `pending`. */
  nextAttemptAt?: number | undefined;
  note?: string | undefined;
}

/** Body of a webhook (and the source of an email), per Standard Webhooks: `{type, timestamp, data}`. */
export interface WebhookPayload {
  type: JobEvent;
  /** When the event happened (the job's final change), ISO 8601. */
  timestamp: string;
  data: JobView;
}

/** The event a final status stands for. */
export function jobEventOf(status: Exclude<JobStatus, 'pending'>): FinalJobEvent {
  return status === 'completed' ? 'job.completed' : status === 'error' ? 'job.failed' : 'job.canceled';
}

/**
 * Stable id of the delivery of `event` for `jobId` by `kind`: `msg_<jobid>_<event>` for webhooks
 * (e.g. `msg_job_01JD…_completed`), `eml_…` for emails. The same event always gets the same id.
 */
export function deliveryId(kind: DeliveryKind, jobId: string, event: FinalJobEvent): string {
  return `${kind === 'webhook' ? 'msg' : 'eml'}_${jobId}_${event.slice('job.'.length)}`;
}

/** Stable id of a job's one `job.overdue` webhook: `msg_<jobid>_overdue`. */
export function overdueDeliveryId(jobId: string): string {
  return `msg_${jobId}_overdue`;
}

/** Stable id of the `job.progress` webhook of one version of a job: `msg_<jobid>_progress_<version>`. */
export function progressDeliveryId(jobId: string, version: number): string {
  return `msg_${jobId}_progress_${version}`;
}
