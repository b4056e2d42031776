/** Which tenant (API key id) a request acts for. */
import type { FastifyRequest } from 'fastify';

/** Tenant of every job while the server runs open, without API keys. */
export const OPEN_TENANT = 'public';

/** The tenant of `request`. */
export function tenantOf(_request: FastifyRequest): string {
  return OPEN_TENANT;
}
