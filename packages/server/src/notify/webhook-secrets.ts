/**
 * Which secret signs which delivery. Each tenant (API key, or `public` when
 * the server runs open) has its own secret, generated on first use and kept
 * in the delivery store — so it survives restarts, every instance of a
 * cluster signs with the same one, and one key can never forge webhooks for
 * another. `--webhook-secret` replaces them all with one operator-chosen
 * secret. A tenant's default endpoint brings its own secret
 * (see {@link DefaultEndpointLookup}).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Delivery } from './delivery.js';
import type { DeliveryStore } from './delivery-store.js';
import { generateWebhookSecret, maskSecret } from './webhook-signature.js';

/** A webhook endpoint with its signing secret. */
export interface WebhookEndpoint {
  url: string;
  /** `whsec_…` */
  secret: string;
}

/** The tenant's default webhook endpoint (e.g. set on its API key), if it has one. */
export type DefaultEndpointLookup = (tenant: string) => Promise<WebhookEndpoint | undefined>;

/** Options of {@link WebhookSecrets}. */
export interface WebhookSecretsOptions {
  /** One secret for every tenant (`--webhook-secret`), instead of generated ones. */
  configured?: string | undefined;
  defaultEndpoint?: DefaultEndpointLookup | undefined;
  /** The tenant whose secret is settled at start (the open server's one tenant). */
  startTenant: string;
  /** Whether the store outlives the process (for the log line). */
  persistent: boolean;
  log: FastifyBaseLogger;
}

/** Key of a tenant's generated secret in {@link DeliveryStore.ensureSetting}. */
function settingKey(tenant: string): string {
  return `webhook-secret:${tenant}`;
}

/** Signing secrets. */
export class WebhookSecrets {
  /** Settled secrets by tenant; a stored secret never changes, so this needs no expiry. */
  private readonly cache = new Map<string, Promise<string>>();

  constructor(
    private readonly store: DeliveryStore,
    private readonly options: WebhookSecretsOptions,
  ) {}

  /** Settles the open tenant's secret at start, so a generated one is logged (masked) right away. */
  async start(): Promise<void> {
    await this.forTenant(this.options.startTenant);
  }

  /** The secret that signs webhooks to the `callbackUrl`s of `tenant`'s jobs: the configured one, else the tenant's own. */
  forTenant(tenant: string): Promise<string> {
    if (this.options.configured !== undefined) return Promise.resolve(this.options.configured);
    let secret = this.cache.get(tenant);
    if (!secret) {
      secret = this.settle(tenant);
      // A failed store call is not remembered: the next use asks again.
      secret.catch(() => this.cache.delete(tenant));
      this.cache.set(tenant, secret);
    }
    return secret;
  }

  /** The secret of one delivery; `undefined` when its tenant default endpoint is gone or now points elsewhere. */
  async forDelivery(delivery: Delivery): Promise<string | undefined> {
    if (delivery.source === 'job') return this.forTenant(delivery.tenant);
    const endpoint = await this.options.defaultEndpoint?.(delivery.tenant);
    return endpoint && endpoint.url === delivery.target ? endpoint.secret : undefined;
  }

  private async settle(tenant: string): Promise<string> {
    const candidate = generateWebhookSecret();
    // Insert-if-absent: instances racing to generate all end up with the first one stored.
    const secret = await this.store.ensureSetting(settingKey(tenant), candidate);
    if (secret === candidate) {
      this.options.log.warn(
        { tenant, webhookSecret: maskSecret(secret) },
        this.options.persistent
          ? 'generated the webhook signing secret of this tenant and stored it with the deliveries (it survives restarts); the tenant reads it at GET /v1/webhooks/secret; --webhook-secret (JOBWAIT_WEBHOOK_SECRET) sets one for all'
          : 'generated the webhook signing secret of this tenant for this run only (deliveries are not persistent); the tenant reads it at GET /v1/webhooks/secret; --webhook-secret (JOBWAIT_WEBHOOK_SECRET) sets one that lasts',
      );
    }
    return secret;
  }
}
