import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import type { JobRecord } from '../jobs/job-record.js';
import { earlyReads, type EarlyReadOptions } from './early-reads.js';

const T0 = Date.parse('2026-06-01T12:00:00.000Z');
const JOB: JobRecord = { id: 'job_01KT1GW6G04E9KYSP3TQZDNJ9W', tenant: 'public', state: 'pending', createdAt: T0, updatedAt: T0, version: 1, dueAt: T0 + 100_000, duration: 100, outcome: 'completed' };

/** A request and a response that records what was written to it. */
function exchange(url: string, headers: Record<string, string> = {}, method = 'GET'): { req: IncomingMessage; res: ServerResponse; written: () => unknown[] } {
  const calls: unknown[] = [];
  const res = { writeHead: (...args: unknown[]) => calls.push(['writeHead', ...args]), end: (...args: unknown[]) => calls.push(['end', ...args]) };
  return { req: { method, url, headers } as unknown as IncomingMessage, res: res as unknown as ServerResponse, written: () => calls };
}

function options(overrides: Partial<EarlyReadOptions> = {}): EarlyReadOptions & { recorded: unknown[][] } {
  const recorded: unknown[][] = [];
  return {
    service: { peek: (_tenant, id) => (id === JOB.id ? JOB : undefined), peekCurrentTimer: () => JOB, now: () => T0 + 10_000 },
    passesUnchecked: () => true,
    enabled: () => true,
    record: (...args) => void recorded.push(args),
    recorded,
    ...overrides,
  };
}

describe('earlyReads', () => {
  it('answers a plain read of a job in memory, and records it once', () => {
    const opts = options();
    const { req, res, written } = exchange(`/v1/jobs/${JOB.id}`, { 'x-request-id': 'r-1' });
    assert.equal(earlyReads(opts)(req, res), true);
    const [head, end] = written() as [[string, number, Record<string, string>], [string, string]];
    assert.equal(head[1], 200);
    assert.equal(head[2]['x-request-id'], 'r-1');
    assert.equal(head[2]['content-length'], String(Buffer.byteLength(end[1])));
    assert.equal(opts.recorded.length, 1);
    assert.deepEqual(opts.recorded[0]!.slice(0, 3), ['/v1/jobs/:id', 'GET', 200]);
  });

  it('leaves to Fastify, untouched, what it may not answer', () => {
    const cases: [string, Record<string, string>, string, Partial<EarlyReadOptions>][] = [
      [`/v1/jobs/${JOB.id}`, {}, 'POST', {}],
      [`/v1/jobs/${JOB.id}?wait=1`, {}, 'GET', {}],
      [`/v1/jobs/${JOB.id}`, { prefer: 'wait=5' }, 'GET', {}],
      [`/v1/jobs/${JOB.id}`, { 'if-none-match': 'W/"x.1"' }, 'GET', {}],
      [`/v1/jobs/${JOB.id}`, { 'content-length': '0' }, 'GET', {}],
      ['/v1/jobs/job_00000000000000000000000000', {}, 'GET', {}],
      ['/v1/jobs/not-an-id', {}, 'GET', {}],
      ['/status', {}, 'GET', { passesUnchecked: () => false }],
      ['/status', {}, 'GET', { enabled: () => false }],
      ['/status', {}, 'GET', { service: { peek: () => undefined, peekCurrentTimer: () => undefined, now: () => T0 } }],
      [`/v1/jobs/${JOB.id}`, {}, 'GET', { service: { peek: () => ({ ...JOB, kind: 'k' }), peekCurrentTimer: () => undefined, now: () => T0 } }],
    ];
    for (const [url, headers, method, overrides] of cases) {
      const opts = options(overrides);
      const { req, res, written } = exchange(url, headers, method);
      const answered = earlyReads(opts)(req, res);
      assert.equal(answered, false, `${method} ${url} ${JSON.stringify(headers)}`);
      assert.deepEqual(written(), []);
      assert.equal(opts.recorded.length, 0);
    }
  });

  it('leaves the read to Fastify when the store throws, rather than throwing from the request listener', () => {
    const failing = () => {
      throw new Error('disk I/O error');
    };
    const opts = options({ service: { peek: failing, peekCurrentTimer: failing, now: () => T0 } });
    for (const url of ['/status', `/v1/jobs/${JOB.id}`]) {
      const { req, res, written } = exchange(url);
      assert.equal(earlyReads(opts)(req, res), false);
      assert.deepEqual(written(), []);
    }
  });
});
