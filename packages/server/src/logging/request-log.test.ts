import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { RequestLog } from './request-log.js';

/** A real pino logger at `level` whose lines are kept. */
function captured(level: string): { log: FastifyBaseLogger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) as unknown as FastifyBaseLogger;
  return { log, lines };
}

describe('RequestLog', () => {
  it('writes a line per request only at its level, and sums up each period', () => {
    const { log, lines } = captured('info');
    const requestLog = new RequestLog(log, { lineLevel: 'debug', summaryEveryMs: 0 });
    requestLog.record('a', 'GET', '/status', 200, 1.234);
    requestLog.record('b', 'GET', '/v1/jobs/x', 304, 0.5);
    requestLog.record('c', 'GET', '/v1/jobs/y', 503, 7.891);
    requestLog.record('d', 'GET', '/v1/jobs/z?wait=5', 200, undefined);
    assert.equal(lines.length, 0, 'debug lines are off at info');
    requestLog.summarize(false);
    assert.deepEqual(
      lines.map(({ msg, requests, slowestMs, totalRequests, ...rest }) => ({ msg, requests, slowestMs, totalRequests, '2xx': rest['2xx'], '3xx': rest['3xx'], '5xx': rest['5xx'], '4xx': rest['4xx'] })),
      [{ msg: 'requests since the last summary', requests: 4, slowestMs: 7.89, totalRequests: 4, '2xx': 2, '3xx': 1, '5xx': 1, '4xx': undefined }],
    );
    requestLog.summarize(false);
    assert.equal(lines.length, 1, 'an idle period writes nothing');
    requestLog.record('e', 'GET', '/status', 200, 1);
    requestLog.close();
    assert.equal(lines.length, 2);
    assert.equal(lines[1]!.requests, 1);
    assert.equal(lines[1]!.totalRequests, 5);
    requestLog.close();
    assert.equal(lines.length, 3, 'close always writes its summary');
  });

  it('writes the request line at info for a person', () => {
    const { log, lines } = captured('info');
    const requestLog = new RequestLog(log, { lineLevel: 'info', summaryEveryMs: 0 });
    requestLog.record('a', 'GET', '/status', 200, 1.234);
    requestLog.record('b', 'GET', '/v1/jobs/x?wait=5', 200, undefined);
    assert.deepEqual(
      lines.map(({ level, reqId, method, url, statusCode, ms, held, msg }) => ({ level, reqId, method, url, statusCode, ms, held, msg })),
      [
        { level: 30, reqId: 'a', method: 'GET', url: '/status', statusCode: 200, ms: 1.23, held: undefined, msg: 'request completed' },
        { level: 30, reqId: 'b', method: 'GET', url: '/v1/jobs/x?wait=5', statusCode: 200, ms: undefined, held: true, msg: 'request completed' },
      ],
    );
    requestLog.close();
  });

  it('sums up on its own once per period', async () => {
    const { log, lines } = captured('info');
    const requestLog = new RequestLog(log, { lineLevel: 'debug', summaryEveryMs: 5 });
    try {
      requestLog.record('a', 'GET', '/status', 200, 1);
      for (let i = 0; i < 400 && lines.length === 0; i++) await delay(5);
      assert.equal(lines[0]?.msg, 'requests since the last summary');
      assert.equal(lines[0]?.requests, 1);
    } finally {
      requestLog.close();
    }
  });
});
