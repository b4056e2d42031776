/**
 * The log lines of the access mode: at start which mode the server runs in and why, and a warning
 * each time it changes (the first key created turns keys on; `jobwait keys open-access` turns them off).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AccessMode } from './key-store.js';

/**
 * Logs `mode`: read for the first time (`previous` undefined: the start-up line) or changed from
 * `previous` (always a warning). `createKeyHint` tells an open server's operator how to make a key.
 */
export function logAccessMode(log: Pick<FastifyBaseLogger, 'info' | 'warn'>, mode: AccessMode, previous: AccessMode | undefined, createKeyHint: string): void {
  const fields = { accessMode: mode.keysRequired ? 'keys' : 'open', since: mode.since === undefined ? undefined : new Date(mode.since).toISOString(), reason: mode.reason };
  if (previous === undefined) {
    if (mode.keysRequired) log.info(fields, `API keys required (Authorization: Bearer <key>): ${mode.reason}; revoking keys never turns this off`);
    else log.warn(fields, `running open, all requests act as one tenant without a key (${mode.reason}; ${createKeyHint})`);
    return;
  }
  if (mode.keysRequired) log.warn(fields, `access mode changed: API keys are now required (${mode.reason}); a request without a valid key gets 401`);
  else log.warn(fields, `access mode changed: running OPEN, every request acts as one tenant without a key (${mode.reason})`);
}
