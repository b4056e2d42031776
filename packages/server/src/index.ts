/** `@jobwait/server`: the job-status server as a library. */
export { buildServer } from './build-server.js';
export { ConfigError, normalizeServerOptions, SERVER_DEFAULTS, type NormalizedServerOptions, type ServerOptions, type StoreKind } from './config/server-options.js';
export { effectiveConfig, FLAGS as SERVER_FLAGS, parseServerConfig, SERVER_HELP, type ServerConfig } from './config/server-config.js';
export { startServer, type RunningServer } from './start-server.js';
export type { JobStore, CreateResult, CancelResult, IdempotencyClaim, ListQuery } from './store/job-store.js';
export type { ChangeFeed, JobChange, ChangeListener, Unsubscribe } from './feed/change-feed.js';
export { openEngine, type EngineOptions } from './engines/open-engine.js';
export type { Engine, EngineKind } from './engines/engine.js';
export { jobView, effectiveState, type JobRecord, type JobView, type JobStatus } from './jobs/job-record.js';
export { STATUS_BY_CODE, ServerError, type ServerErrorCode } from './errors/errors.js';
export { generateApiKey, parseApiKey, maskApiKey, API_KEY_PATTERN } from './auth/api-key.js';
export type { ApiKeyRecord, KeyStore } from './auth/key-store.js';
export type { RateLimiter, RateLimitPolicy } from './ratelimit/rate-limiter.js';
export type { Delivery, DeliveryAttempt, DeliveryKind, DeliveryStatus, DeliveryUpdate, ClaimedDelivery, JobEvent, WebhookPayload } from './notify/delivery.js';
export type { DeliveryStore, NewDelivery } from './notify/delivery-store.js';
export { generateWebhookSecret, signWebhook, verifyWebhook, webhookHeaders, WEBHOOK_SECRET_PREFIX, type WebhookHeaders } from './notify/webhook-signature.js';
export type { DefaultEndpointLookup, WebhookEndpoint } from './notify/webhook-secrets.js';
export { DEFAULT_RETRY_SCHEDULE_MS } from './notify/retry-schedule.js';
