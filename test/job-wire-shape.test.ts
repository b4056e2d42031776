/**
 * The client's zero-dependency `Job` and `CreateJobInput` types equal the server's TypeBox schemas,
 * field by field: job-wire-shape.types.ts compiles only while they do. `npm run typecheck` compiles
 * it too; this test makes `npm test` fail on a drift as well, naming the fields.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { typeErrors } from './helpers/typecheck.js';

test("the client's Job and CreateJobInput types equal the server's JobSchema and CreateJobBody", () => {
  const errors = typeErrors([fileURLToPath(new URL('job-wire-shape.types.ts', import.meta.url))]);
  assert.deepEqual(errors, [], `change the schema (packages/server/src/routes/schemas.ts) and the client's type (packages/client/src/jobs/job.ts) together:\n${errors.join('\n')}`);
});
