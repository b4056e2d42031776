import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fdBudget, readFdLimit } from './fd-limit.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('readFdLimit', () => {
  it('reads the soft and hard limit of open files from /proc/self/limits', () => {
    assert.deepEqual(readFdLimit(LIMITS), { soft: 1024, hard: 524288 });
    assert.deepEqual(readFdLimit(LIMITS.replace('1024 ', 'unlimited ')), { soft: Number.POSITIVE_INFINITY, hard: 524288 });
    assert.equal(readFdLimit('nothing here'), undefined);
  });

  it("reads this process's own limit on Linux", { skip: process.platform !== 'linux' }, () => {
    const limit = readFdLimit();
    assert.ok(limit && limit.soft >= 64 && limit.soft <= limit.hard);
  });
});

describe('fdBudget', () => {
  it('keeps a tenth (at least 160) of the descriptors from client connections, and another tenth (at least 96) of those from holds', () => {
    assert.deepEqual(fdBudget(1024), { fdLimit: 1024, maxConnections: 864, maxHeld: 762 });
    assert.deepEqual(fdBudget(65_536), { fdLimit: 65_536, maxConnections: 58_983, maxHeld: 52_430 });
    assert.deepEqual(fdBudget(undefined), { fdLimit: undefined, maxConnections: 58_983, maxHeld: 52_430 });
    assert.equal(fdBudget(100).maxHeld, 1, 'never below one');
  });
});
