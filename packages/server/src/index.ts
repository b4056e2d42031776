/** `@jobwait/server`: the job-status server as a library. */
export { buildServer } from './build-server.js';
export { ConfigError, normalizeServerOptions, SERVER_DEFAULTS, type NormalizedServerOptions, type ServerOptions, type StoreKind } from './config/server-options.js';
export { parseServerConfig, SERVER_HELP, type ServerConfig } from './config/server-config.js';
export { startServer, type RunningServer } from './start-server.js';
export type { JobStore, CreateResult, CancelResult, IdempotencyClaim, ListQuery } from './store/job-store.js';
export { SqliteStore } from './store/sqlite-store.js';
export { MemoryStore } from './store/memory-store.js';
export type { ChangeFeed, JobChange, ChangeListener, Unsubscribe } from './feed/change-feed.js';
export { LocalFeed } from './feed/local-feed.js';
export { jobView, effectiveState, type JobRecord, type JobView, type JobStatus } from './jobs/job-record.js';
export { STATUS_BY_CODE, ServerError, type ServerErrorCode } from './errors/errors.js';
export { generateApiKey, parseApiKey, maskApiKey, API_KEY_PATTERN } from './auth/api-key.js';
export type { ApiKeyRecord, KeyStore, RateLimitPolicy } from './auth/key-store.js';
export { SqliteKeyStore } from './auth/sqlite-key-store.js';
export { MemoryKeyStore } from './auth/memory-key-store.js';
