/**
 * Fastify's validator compiler for jobwait's routes: Ajv, with bodies validated strictly (no "10"
 * for 10) and query strings, params and headers coerced (they are text).
 *
 * Each validator is compiled on its route's first request, not at `ready`. Compiling every route's
 * schemas before the server answers its first request left the whole process slower at every
 * answer afterwards, whatever the handler, even a bare node:http one in the same process
 * (docs/benchmarks.md, bench:server's fourth round). The same compiling done while requests are
 * being served leaves no such cost. A schema Ajv refuses therefore shows on its route's first
 * request, not at start: it fails that route's tests, and at run time that route answers 500.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/** What Fastify's validation calls: Ajv's signature, and `errors` read after a false result. */
export interface RouteValidator {
  (data: unknown, context?: object): boolean;
  errors: ErrorObject[] | null;
  /**
   * Fastify passes the request as the parent of the validated value only to functions with this
   * set (Ajv's own have it), so that a coerced or defaulted root value lands on the request.
   */
  readonly schemaEnv: true;
}

/** A validator that calls `compile` once, on its first use. */
export function lazyValidator(compile: () => ValidateFunction): RouteValidator {
  let validate: ValidateFunction | undefined;
  const validator = (data: unknown, context?: object): boolean => {
    validate ??= compile();
    const valid = validate(data, context as Parameters<ValidateFunction>[1]) as boolean;
    validator.errors = validate.errors ?? null;
    return valid;
  };
  validator.errors = null as ErrorObject[] | null;
  validator.schemaEnv = true as const;
  return validator;
}

/** The compiler to give `app.setValidatorCompiler()`. */
export function routeValidatorCompiler(): (route: { schema: object; httpPart?: string }) => RouteValidator {
  const common = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false } as const;
  const strict = new Ajv({ ...common, coerceTypes: false });
  const coercing = new Ajv({ ...common, coerceTypes: 'array' });
  return ({ schema, httpPart }) => lazyValidator(() => (httpPart === 'body' ? strict : coercing).compile(schema));
}
