import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexedHeap, type HeapSlot } from '../../../src/scheduler/indexed-heap.js';
import { seededRandom, shuffled } from '../../helpers/scheduler-fakes.js';

interface Item extends HeapSlot {
  readonly key: number;
  readonly id: number;
}

/** A heap of items by key, then id, whose comparisons are counted. */
function setup() {
  const counter = { comparisons: 0 };
  const heap = new IndexedHeap<Item>((a, b) => {
    counter.comparisons += 1;
    return a.key < b.key || (a.key === b.key && a.id < b.id);
  });
  let nextId = 0;
  const item = (key: number): Item => ({ key, id: nextId++, heapIndex: -1 });
  const drain = () => {
    const out: Item[] = [];
    for (let top = heap.pop(); top !== undefined; top = heap.pop()) out.push(top);
    return out;
  };
  return { heap, counter, item, drain };
}

describe('IndexedHeap', () => {
  it('pops values smallest first, ties by the order the comparator gives', () => {
    const { heap, item, drain } = setup();
    const random = seededRandom(7);
    const items = Array.from({ length: 500 }, () => item(Math.floor(random() * 50)));
    for (const i of items) heap.push(i);
    assert.equal(heap.size, 500);
    const sorted = [...items].sort((a, b) => a.key - b.key || a.id - b.id);
    assert.equal(heap.peek(), sorted[0], 'peek is the smallest');
    assert.deepEqual(drain(), sorted, 'pops in order');
    assert.equal(heap.size, 0, 'empty');
  });

  it('removes any value and keeps the order of the rest', () => {
    const { heap, item, drain } = setup();
    const random = seededRandom(11);
    const items = Array.from({ length: 2000 }, () => item(Math.floor(random() * 300)));
    for (const i of items) heap.push(i);
    const gone = new Set(shuffled(items, random).slice(0, 1500));
    for (const i of gone) assert.equal(heap.remove(i), true, 'removed');
    for (const i of gone) assert.equal(i.heapIndex, -1, 'a removed value has no slot');
    const rest = items.filter((i) => !gone.has(i)).sort((a, b) => a.key - b.key || a.id - b.id);
    assert.deepEqual(drain(), rest, 'the others pop in order');
  });

  it('refuses to remove a value it does not hold, or twice; refuses a value held already', () => {
    const { heap, item } = setup();
    const other = setup();
    const x = item(1);
    heap.push(x);
    assert.equal(other.heap.remove(x), false, 'not in the other heap');
    assert.equal(heap.size, 1, 'still here');
    assert.throws(() => other.heap.push(x), /already in a heap/, 'one heap at a time');
    assert.equal(heap.remove(x), true);
    assert.equal(heap.remove(x), false, 'already removed');
  });

  it('costs O(log n) comparisons per push, pop and remove, with 10, 1,000 and 100,000 values', () => {
    const { heap, counter, item } = setup();
    const random = seededRandom(3);
    const held: Item[] = [];
    for (const n of [10, 1000, 100_000]) {
      while (heap.size < n) {
        const i = item(random());
        heap.push(i);
        held.push(i);
      }
      // Two comparisons per level is the most a sift-down does; a heap of n has log2(n) + 1 levels.
      const bound = 2 * (Math.floor(Math.log2(n)) + 1);
      let before = counter.comparisons;
      heap.push(item(random()));
      assert.ok(counter.comparisons - before <= bound, `push at ${n}: ${counter.comparisons - before} comparisons <= ${bound}`);
      before = counter.comparisons;
      heap.pop();
      assert.ok(counter.comparisons - before <= bound, `pop at ${n}: ${counter.comparisons - before} comparisons <= ${bound}`);
      for (let k = 0; k < Math.min(20, held.length / 2); k++) {
        const victim = held.splice(Math.floor(random() * held.length), 1)[0]!;
        before = counter.comparisons;
        if (!heap.remove(victim)) continue; // popped above
        assert.ok(counter.comparisons - before <= bound + 1, `remove at ${n}: ${counter.comparisons - before} comparisons <= ${bound + 1}`);
      }
    }
  });
});
