import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { OutageLog } from './outage-log.js';

describe('OutageLog', () => {
  it('logs the start of an outage once, a new reason once, and the recovery once; the stack only at debug', () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) as unknown as FastifyBaseLogger;
    const outage = new OutageLog(log);
    outage.succeeded('works again');
    assert.equal(lines.length, 0, 'nothing to recover from');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 5; i++) outage.failed(refused, 'settling due jobs failed');
    outage.failed(new Error('READONLY You can\'t write against a read only replica.'), 'settling due jobs failed');
    outage.failed(new Error('READONLY You can\'t write against a read only replica.'), 'settling due jobs failed');
    assert.equal(outage.down, true);
    outage.succeeded('settling due jobs works again');
    outage.succeeded('settling due jobs works again');
    assert.deepEqual(
      lines.map(({ level, msg, reason }) => ({ level, msg, reason })),
      [
        { level: 50, msg: 'settling due jobs failed (logged again only when the reason changes)', reason: 'connect ECONNREFUSED 127.0.0.1:6379' },
        { level: 50, msg: 'settling due jobs failed: the reason changed', reason: "READONLY You can't write against a read only replica." },
        { level: 30, msg: 'settling due jobs works again', reason: undefined },
      ],
    );
    assert.ok(lines.every((line) => line.err === undefined), 'no stack trace at info');
    assert.equal(outage.down, false);
  });
});
