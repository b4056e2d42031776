/**
 * The values each entry point exports, spelled out: adding to the public surface is a decision
 * made here, not a side effect of an `export` somewhere. (Types are held by the typecheck of the
 * README snippet and of the consumers.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as internal from './internal.js';
import * as main from './index.js';

test('@jobwait/client exports the clients, poll, the errors and their guards, and nothing else', () => {
  assert.deepEqual(Object.keys(main).sort(), [
    'AbortError',
    'AttemptsExhaustedError',
    'BadResponseError',
    'HttpError',
    'InvalidOptionError',
    'JobCanceledError',
    'JobwaitClient',
    'JobwaitError',
    'NetworkError',
    'RequestTimeoutError',
    'TimeoutError',
    'TimerClient',
    'hasErrorCode',
    'isJobwaitError',
    'poll',
  ]);
});

test('@jobwait/client/internal keeps the transport itself private', () => {
  const names = Object.keys(internal);
  for (const name of ['Transport', 'createTransport', 'waitForJob', 'streamJob', 'longPoll']) assert.ok(!names.includes(name), `${name} is not exported`);
  for (const name of Object.keys(main)) assert.ok(!names.includes(name), `${name} comes from the main entry only`);
});

test('the clients keep their transport private', () => {
  const client = new main.JobwaitClient({ baseUrl: 'http://127.0.0.1:1' });
  const timer = new main.TimerClient({ baseUrl: 'http://127.0.0.1:1' });
  assert.deepEqual(Object.keys(client), []);
  assert.deepEqual(Object.keys(timer), []);
  assert.ok(!('transport' in client) && !('transport' in timer));
});
