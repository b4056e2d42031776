/** Which tenant (API key id) a request acts for; set by the access-control hook. */
import type { FastifyRequest } from 'fastify';

export { OPEN_TENANT } from '../auth/access-control.js';

/** The tenant of `request`. */
export function tenantOf(request: FastifyRequest): string {
  return request.tenant;
}
