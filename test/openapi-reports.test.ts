/**
 * The OpenAPI document on reported jobs: the report route (its body, its token as the security,
 * every answer, the job in a 409), the create's report token, and a job shape whose ETA, due time
 * and duration may be absent (no known end) while progress, message, result, error and startedAt
 * are described. Real answers of a reported job are checked against the documented shapes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildServer } from '@jobwait/server';
import type { FastifyInstance } from 'fastify';

type Schema = { $ref?: string; type?: string; required?: string[]; properties?: Record<string, Schema>; anyOf?: Schema[]; enum?: unknown[] } & Record<string, unknown>;
interface OpenApi {
  paths: Record<string, Record<string, { security?: Record<string, string[]>[]; requestBody?: { content: Record<string, { schema: Schema }> }; responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>;
  components: { schemas: Record<string, Schema>; securitySchemes?: Record<string, { type: string; scheme?: string }> };
}

describe('OpenAPI of reported jobs', () => {
  let app: FastifyInstance;
  let doc: OpenApi;
  let jobSchema: Schema;
  /** A schema, its `$ref` followed to the document's components. */
  const deref = (schema: Schema): Schema => {
    if (!schema.$ref) return schema;
    const found = Object.values(doc.components.schemas).find((s) => s.title === 'Job' || s.$id === schema.$ref?.replace(/#$/, ''));
    assert.ok(found, `no component for ${schema.$ref}`);
    return found;
  };
  /** Whether `value` has the documented members: required present, none undocumented. */
  const conforms = (value: Record<string, unknown>, schema: Schema): void => {
    for (const key of schema.required ?? []) assert.ok(key in value, `${key} is required`);
    for (const key of Object.keys(value)) assert.ok(schema.properties && key in schema.properties, `${key} is documented`);
  };

  before(async () => {
    app = await buildServer({ store: 'memory', logLevel: 'silent', rateLimit: 0 });
    await app.ready();
    doc = (await app.inject('/openapi.json')).json<OpenApi>();
    jobSchema = deref(doc.paths['/v1/jobs/{id}']!.get!.responses['200']!.content!['application/json']!.schema);
  });
  after(() => app.close());

  it('documents the report route: its body, the report token as its security, and every answer', () => {
    const route = doc.paths['/v1/jobs/{id}/reports']?.post;
    assert.ok(route, 'POST /v1/jobs/{id}/reports is in the document');
    const body = route.requestBody!.content['application/json']!.schema;
    assert.deepEqual(body.required, ['event']);
    const events = (body.properties!.event!.anyOf ?? []).flatMap((s) => s.enum ?? []);
    assert.deepEqual(events.sort(), ['completed', 'failed', 'heartbeat', 'progress', 'started']);
    for (const member of ['progress', 'message', 'etaSeconds', 'result', 'error', 'at']) assert.ok(member in body.properties!, member);
    assert.deepEqual(route.security, [{ reportToken: [] }]);
    assert.equal(doc.components.securitySchemes?.reportToken?.type, 'http');
    assert.equal(doc.components.securitySchemes?.reportToken?.scheme, 'bearer');
    assert.deepEqual(Object.keys(route.responses).sort(), ['200', '400', '401', '403', '404', '409', '413', '429']);
    assert.equal(deref(route.responses['200']!.content!['application/json']!.schema), jobSchema);
    const conflict = route.responses['409']!.content!['application/json']!.schema;
    assert.ok(conflict.properties?.job, 'a 409 carries the job');
    assert.ok(conflict.required?.includes('code'));
  });

  it('documents a job whose end is unknown: no etaMs, dueAt or duration required; progress, message, result, error, startedAt described', () => {
    for (const absent of ['etaMs', 'dueAt', 'duration', 'startedAt', 'message', 'result', 'error']) {
      assert.ok(jobSchema.properties?.[absent], `${absent} is described`);
      assert.ok(!jobSchema.required?.includes(absent), `${absent} is optional`);
    }
    assert.ok(jobSchema.required?.includes('progress'));
    assert.match(String(jobSchema.properties!.etaMs!.description), /absent while no end is known/);
    const created = doc.paths['/v1/jobs']!.post!.responses['201']!.content!['application/json']!.schema;
    assert.ok(deref(created).properties?.reportToken, "the create's answer documents reportToken");
    const input = doc.paths['/v1/jobs']!.post!.requestBody!.content['application/json']!.schema;
    assert.ok(!input.required?.includes('duration'), 'a create without duration is valid');
    for (const member of ['heartbeatTimeoutSeconds', 'timeoutSeconds', 'webhookEvents']) assert.ok(input.properties?.[member], member);
  });

  it("a reported job's real answers have the documented members, and a 409 the documented job", async () => {
    const created = (await app.inject({ method: 'POST', url: '/v1/jobs', payload: { heartbeatTimeoutSeconds: 30 } })).json<Record<string, unknown> & { id: string; reportToken: string }>();
    const { reportToken, ...withoutToken } = created;
    assert.match(reportToken, /^jwr_/);
    conforms(withoutToken, jobSchema);
    assert.ok(!('etaMs' in created) && !('dueAt' in created) && !('duration' in created));
    const report = (payload: object) => app.inject({ method: 'POST', url: `/v1/jobs/${created.id}/reports`, headers: { authorization: `Bearer ${reportToken}` }, payload });
    const running = (await report({ event: 'progress', progress: 0.5, message: 'encoding', etaSeconds: 30 })).json<Record<string, unknown>>();
    conforms(running, jobSchema);
    assert.equal(typeof running.etaMs, 'number');
    const done = (await report({ event: 'completed', result: { url: 'https://cdn.example/a.mp4' } })).json<Record<string, unknown>>();
    conforms(done, jobSchema);
    const conflict = await report({ event: 'failed', error: { code: 'LATE', message: 'too late' } });
    assert.equal(conflict.statusCode, 409);
    const problem = conflict.json<{ code: string; job: Record<string, unknown> }>();
    assert.equal(problem.code, 'JOBWAIT_ERR_JOB_FINISHED');
    conforms(problem.job, jobSchema);
    assert.deepEqual(problem.job.result, { url: 'https://cdn.example/a.mp4' });
  });
});
