/**
 * What the API shows of notifications: a job's deliveries with every attempt
 * (`GET /v1/jobs/{id}/deliveries`) and the secret that signs the key's
 * webhooks (`GET /v1/webhooks/secret`), both scoped to the caller's tenant.
 */
import type { FastifyInstance } from 'fastify';
import type { JobService } from '../jobs/job-service.js';
import type { Delivery } from '../notify/delivery.js';
import type { DeliveryStore } from '../notify/delivery-store.js';
import type { WebhookSecrets } from '../notify/webhook-secrets.js';
import { DeliveryListSchema, JobParams, ProblemSchema, WebhookSecretSchema, type DeliverySchema } from './schemas.js';
import { tenantOf } from './tenant.js';
import type { Static } from 'typebox';

/** Options of {@link notifyRoutes}. */
export interface NotifyRoutesOptions {
  service: JobService;
  deliveries: DeliveryStore;
  secrets: WebhookSecrets;
}

/** Registers the notification routes. */
export async function notifyRoutes(app: FastifyInstance, options: NotifyRoutesOptions): Promise<void> {
  const { service, deliveries, secrets } = options;

  app.get<{ Params: JobParams }>(
    '/v1/jobs/:id/deliveries',
    {
      schema: {
        summary: "A job's webhook and email deliveries, with every attempt",
        params: JobParams,
        response: { 200: DeliveryListSchema, 404: ProblemSchema },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      // 404 for a job of another tenant, as on every job route.
      const job = await service.get(tenant, request.params.id);
      const list = await deliveries.listForJob(tenant, job.id);
      reply.header('cache-control', 'no-store');
      return { deliveries: list.map(deliveryView) };
    },
  );

  app.get(
    '/v1/webhooks/secret',
    {
      schema: {
        summary: 'The secret that signs webhooks to this key’s endpoints (Standard Webhooks, whsec_…); each key has its own',
        response: { 200: WebhookSecretSchema },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return { secret: await secrets.forTenant(tenantOf(request)) };
    },
  );
}

/** The API's view of a delivery. */
export function deliveryView(delivery: Delivery): Static<typeof DeliverySchema> {
  const view: Static<typeof DeliverySchema> = {
    id: delivery.id,
    kind: delivery.kind,
    event: delivery.event,
    target: delivery.target,
    source: delivery.source,
    status: delivery.status,
    attempts: delivery.attempts.map((a) => ({
      at: new Date(a.at).toISOString(),
      durationMs: Math.round(a.durationMs),
      ...(a.statusCode !== undefined ? { statusCode: a.statusCode } : {}),
      ...(a.error !== undefined ? { error: a.error } : {}),
    })),
    createdAt: new Date(delivery.createdAt).toISOString(),
    updatedAt: new Date(delivery.updatedAt).toISOString(),
  };
  if (delivery.status === 'pending' && delivery.nextAttemptAt !== undefined) view.nextAttemptAt = new Date(delivery.nextAttemptAt).toISOString();
  if (delivery.note !== undefined) view.note = delivery.note;
  return view;
}
