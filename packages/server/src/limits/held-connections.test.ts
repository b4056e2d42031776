import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeldConnections, type HoldRefusal } from './held-connections.js';

describe('HeldConnections', () => {
  it('refuses a holder past its cap and the server past its ceiling, and frees a slot on release (once)', () => {
    const refused: HoldRefusal[] = [];
    const held = new HeldConnections({ perHolder: 2, total: 3 }, (reason) => refused.push(reason));
    const a1 = held.take('a', 'sse');
    const a2 = held.take('a', 'long-poll');
    assert.ok(a1.ok && a2.ok);
    assert.deepEqual(held.take('a', 'sse'), { ok: false, reason: 'holder-cap', limit: 2 });
    const b1 = held.take('b', 'sse');
    assert.ok(b1.ok);
    assert.deepEqual(held.take('c', 'sse'), { ok: false, reason: 'server-ceiling', limit: 3 });
    assert.equal(held.size, 3);
    assert.equal(held.count('sse'), 2);
    assert.equal(held.count('long-poll'), 1);
    a1.hold.release();
    a1.hold.release();
    assert.equal(held.size, 2);
    assert.equal(held.heldBy('a'), 1);
    assert.ok(held.take('c', 'sse').ok);
    assert.deepEqual(refused, ['holder-cap', 'server-ceiling']);
  });
});
