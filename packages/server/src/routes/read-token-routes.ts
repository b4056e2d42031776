/**
 * `POST /v1/read-tokens`: an API-key holder (the product's backend) mints a short-lived token that
 * lets an end user's browser read the jobs it names, and nothing else (auth/read-token.ts).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { MAX_READ_TOKEN_JOBS, type ReadTokens } from '../auth/read-token.js';
import { BadRequestError, OpenServerError } from '../errors/errors.js';
import type { JobService } from '../jobs/job-service.js';
import { ProblemSchema } from './schemas.js';
import { tenantOf } from './tenant.js';

/** Options of {@link readTokenRoutes}. */
export interface ReadTokenRoutesOptions {
  service: JobService;
  /** The server's read tokens (their secret is read from the store on first use). */
  tokens: () => Promise<ReadTokens>;
  /** Life of a token whose mint names none, in seconds. */
  defaultTtlSeconds: number;
  /** Longest life a mint may ask for, in seconds. */
  maxTtlSeconds: number;
}

/** Body of `POST /v1/read-tokens`. */
export const MintReadTokenBody = Type.Object(
  {
    jobs: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: MAX_READ_TOKEN_JOBS, uniqueItems: true, description: "ids of this key's jobs the token may read" }),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, description: 'life of the token in seconds (the server default when absent; at most --read-token-max-ttl)' })),
  },
  { additionalProperties: false },
);
/** Type of {@link MintReadTokenBody}. */
export type MintReadTokenBody = Static<typeof MintReadTokenBody>;

const ReadTokenSchema = Type.Object({
  token: Type.String({ description: 'send as Authorization: Bearer <token>; never put it in a URL' }),
  expiresAt: Type.String({ format: 'date-time' }),
  jobs: Type.Array(Type.String()),
});

/** Registers the route. */
export async function readTokenRoutes(app: FastifyInstance, options: ReadTokenRoutesOptions): Promise<void> {
  const { service, tokens, defaultTtlSeconds, maxTtlSeconds } = options;
  app.post<{ Body: MintReadTokenBody }>(
    '/v1/read-tokens',
    {
      schema: {
        summary: "Mint a read token for an end user's browser: it reads (get, long-poll, stream) only the jobs it names, until it expires",
        body: MintReadTokenBody,
        response: { 201: ReadTokenSchema, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema },
      },
    },
    async (request, reply) => {
      const keyId = request.keyId;
      if (keyId === undefined) throw new OpenServerError();
      const { jobs, ttlSeconds = defaultTtlSeconds } = request.body;
      if (ttlSeconds > maxTtlSeconds) throw new BadRequestError(`ttlSeconds must be at most ${maxTtlSeconds} (--read-token-max-ttl)`);
      const tenant = tenantOf(request);
      // Only the key's own jobs: another tenant's id is "not found", as on every other route.
      await Promise.all(jobs.map((id) => service.get(tenant, id)));
      const expiresAt = Math.ceil((service.now() + ttlSeconds * 1000) / 1000) * 1000;
      const token = (await tokens()).mint({ tenant, keyId, jobs, expiresAt });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ token, expiresAt: new Date(expiresAt).toISOString(), jobs });
    },
  );
}
