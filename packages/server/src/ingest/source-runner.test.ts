import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { SourceRunner, type SourceSession } from './source-runner.js';
import { SourceTally } from './source-tally.js';

const tally = () => new SourceTally('q', pino({ level: 'silent' }));

describe('SourceRunner', () => {
  it('connects again after a connection fails, keeps the error while not consuming, and clears it once consuming', async () => {
    const sessions: SourceSession[] = [];
    let attempts = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const runner = new SourceRunner('q', 'amqp', tally(), async (session) => {
      attempts++;
      sessions.push(session);
      if (attempts === 1) throw new Error('ECONNREFUSED');
      session.consuming();
      session.lag(7);
      await held;
    });
    assert.equal(runner.status().state, 'stopped');
    runner.start();
    runner.start(); // a second start runs nothing twice
    while (runner.status().state !== 'consuming') {
      if (runner.status().state === 'reconnecting') assert.equal(runner.status().lastError, 'ECONNREFUSED');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(attempts, 2);
    const consuming = runner.status();
    assert.equal(consuming.lag, 7);
    assert.equal(consuming.lastError, undefined, 'no error is shown while consuming');
    assert.equal(consuming.kind, 'amqp');
    assert.deepEqual([consuming.applied, consuming.deadLettered], [0, 0]);

    // The connection closes by itself: the runner reconnects.
    release();
    while (attempts < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    await runner.stop();
    assert.equal(runner.status().state, 'stopped');
    assert.ok(sessions.every((session) => session.signal.aborted), 'stopping aborts the connection in hand');
  });

  it('stops at once while waiting out its backoff, and connects no more', async () => {
    let attempts = 0;
    const runner = new SourceRunner('s', 'redis-stream', tally(), async () => {
      attempts++;
      throw new Error('down');
    });
    runner.start();
    while (runner.status().state !== 'reconnecting') await new Promise((resolve) => setTimeout(resolve, 1));
    await runner.stop();
    const after = attempts;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(attempts, after, 'no attempt after stop');
    assert.equal(runner.status().state, 'stopped');
    assert.equal(runner.status().lastError, 'down');
  });
});
