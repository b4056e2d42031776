import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { Ajv } from 'ajv';
import { lazyValidator, routeValidatorCompiler } from './route-validators.js';

describe('lazyValidator', () => {
  it('compiles on the first call, once, and mirrors the last call’s errors', () => {
    let compiles = 0;
    const ajv = new Ajv();
    const validator = lazyValidator(() => {
      compiles++;
      return ajv.compile({ type: 'integer' });
    });
    assert.equal(compiles, 0);
    assert.equal(validator('x'), false);
    assert.equal(validator.errors?.[0]?.keyword, 'type');
    assert.equal(validator(3), true);
    assert.equal(validator.errors, null);
    for (let i = 0; i < 5; i++) validator(i);
    assert.equal(compiles, 1);
  });

  it('throws on first use what the compile throws', () => {
    const validator = lazyValidator(() => new Ajv().compile({ type: 'no-such-type' }));
    assert.throws(() => validator(1), /type/);
  });
});

describe('routeValidatorCompiler', () => {
  const compile = routeValidatorCompiler();

  it('takes bodies strictly and coerces the text parts, with defaults, in place', () => {
    const schema = { type: 'object', properties: { n: { type: 'integer' }, d: { type: 'string', default: 'x' } } };
    assert.equal(compile({ schema, httpPart: 'body' })({ n: '10' }), false);
    const query: Record<string, unknown> = { n: '10' };
    assert.equal(compile({ schema, httpPart: 'querystring' })(query), true);
    assert.deepEqual(query, { n: 10, d: 'x' });
  });

  it('hands the parent to Ajv, so a coerced root value lands on it', () => {
    const validator = compile({ schema: { type: 'integer' }, httpPart: 'headers' });
    assert.equal(validator.schemaEnv, true);
    const parent: Record<string, unknown> = { value: '7' };
    assert.equal(validator(parent.value, { parentData: parent, parentDataProperty: 'value' }), true);
    assert.equal(parent.value, 7);
  });

  it('in Fastify: ready compiles nothing (a schema Ajv refuses does not fail it), a bad body is a 400, the refused schema answers 500 on its route only', async () => {
    const app = Fastify();
    app.setValidatorCompiler(routeValidatorCompiler());
    app.post('/good', { schema: { body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } }, async (request) => request.body);
    app.post('/broken', { schema: { body: { type: 'no-such-type' } } }, async () => 'never');
    await app.ready();
    try {
      assert.equal((await app.inject({ method: 'POST', url: '/good', payload: { n: 'x' } })).statusCode, 400);
      const ok = await app.inject({ method: 'POST', url: '/good', payload: { n: 4 } });
      assert.deepEqual([ok.statusCode, ok.json()], [200, { n: 4 }]);
      assert.equal((await app.inject({ method: 'POST', url: '/broken', payload: {} })).statusCode, 500);
      assert.equal((await app.inject({ method: 'POST', url: '/good', payload: { n: 5 } })).statusCode, 200);
    } finally {
      await app.close();
    }
  });
});
