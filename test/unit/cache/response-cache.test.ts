import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryBytes, ResponseCache, type CachedResponse } from '../../../src/cache/response-cache.js';

const response = (bytes: number, fill = 1): CachedResponse => ({
  modelVersion: '1',
  outputs: [{ name: 'Y', datatype: 'UINT8', shape: [bytes], data: new Uint8Array(bytes).fill(fill) }],
});

describe('ResponseCache', () => {
  it('returns what was stored, as a copy that owns its bytes', () => {
    const cache = new ResponseCache(10_000);
    const original = response(16, 5);
    assert.equal(cache.insert('k', original), true);
    (original.outputs[0]!.data as Uint8Array).fill(9);
    const hit = cache.lookup('k');
    assert.deepEqual([...hit!.outputs[0]!.data], new Array(16).fill(5));
    assert.equal(cache.lookup('other'), undefined);
    const c = cache.counters();
    assert.deepEqual([c.lookups, c.hits, c.misses, c.entries, c.insertions, c.usedBytes], [2, 1, 1, 1, 1, entryBytes('k', original)]);
  });

  it('evicts the least recently used entries until a new one fits, counting bytes', () => {
    const one = entryBytes('a', response(100));
    const cache = new ResponseCache(3 * one);
    for (const k of ['a', 'b', 'c']) cache.insert(k, response(100));
    cache.lookup('a'); // b is now the least recently used
    cache.insert('d', response(100));
    assert.equal(cache.lookup('b'), undefined);
    assert.ok(cache.lookup('a') && cache.lookup('c') && cache.lookup('d'));
    // One entry three times as large pushes out all three others.
    cache.insert('big', { modelVersion: '1', outputs: [{ name: 'Y', datatype: 'UINT8', shape: [3], data: new Uint8Array(3 * one - entryBytes('big', response(0))) }] });
    const c = cache.counters();
    assert.deepEqual([c.entries, c.evictions, c.usedBytes], [1, 4, 3 * one]);
    assert.ok(c.usedBytes <= c.capacityBytes);
  });

  it('does not store an entry larger than the whole cache, and evicts nothing for it', () => {
    const cache = new ResponseCache(1000);
    cache.insert('small', response(10));
    assert.equal(cache.insert('huge', response(2000)), false);
    assert.ok(cache.lookup('small'));
    assert.deepEqual([cache.counters().entries, cache.counters().evictions], [1, 0]);
  });

  it('keeps one copy when the same key is stored twice', () => {
    const cache = new ResponseCache(10_000);
    cache.insert('k', response(10, 1));
    cache.insert('k', response(10, 2));
    const c = cache.counters();
    assert.deepEqual([c.entries, c.usedBytes, c.evictions], [1, entryBytes('k', response(10)), 0]);
    assert.equal(cache.lookup('k')!.outputs[0]!.data[0], 2);
  });
});
