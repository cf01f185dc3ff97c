import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkedList, type Linked } from '../../../src/scheduler/linked-list.js';

interface Item extends Linked<Item> {
  readonly id: number;
}

const item = (id: number): Item => ({ id, prev: undefined, next: undefined, list: undefined });
const ids = (list: LinkedList<Item>) => [...list].map((i) => i.id);

describe('LinkedList', () => {
  it('keeps values in push order and counts them', () => {
    const list = new LinkedList<Item>();
    for (const id of [1, 2, 3]) list.push(item(id));
    assert.deepEqual(ids(list), [1, 2, 3], 'push order');
    assert.equal(list.size, 3, 'size');
    assert.equal(list.first?.id, 1, 'first');
  });

  it('removes a value from the head, the middle and the tail', () => {
    const list = new LinkedList<Item>();
    const items = [1, 2, 3, 4, 5].map(item);
    for (const i of items) list.push(i);
    assert.equal(list.remove(items[2]!), true, 'middle removed');
    assert.deepEqual(ids(list), [1, 2, 4, 5]);
    assert.equal(list.remove(items[0]!), true, 'head removed');
    assert.equal(list.remove(items[4]!), true, 'tail removed');
    assert.deepEqual(ids(list), [2, 4], 'what is left, in order');
    assert.equal(list.first?.id, 2, 'new head');
    list.push(item(6));
    assert.deepEqual(ids(list), [2, 4, 6], 'a push after removing the tail links to the new tail');
    assert.equal(list.size, 3, 'size follows');
  });

  it('refuses to remove a value it does not hold, or twice', () => {
    const a = new LinkedList<Item>();
    const b = new LinkedList<Item>();
    const x = item(1);
    a.push(x);
    assert.equal(b.remove(x), false, 'not in b');
    assert.equal(a.remove(x), true, 'in a');
    assert.equal(a.remove(x), false, 'already removed');
    assert.equal(a.size, 0, 'a is empty');
    assert.equal(x.list, undefined, 'x is in no list');
  });

  it('refuses a value that is already in a list', () => {
    const a = new LinkedList<Item>();
    const x = item(1);
    a.push(x);
    assert.throws(() => new LinkedList<Item>().push(x), /already in a list/, 'one list at a time');
    assert.throws(() => a.push(x), /already in a list/, 'not twice in one list');
  });

  it('shifts values from the front until empty', () => {
    const list = new LinkedList<Item>();
    for (const id of [1, 2]) list.push(item(id));
    assert.equal(list.shift()?.id, 1);
    assert.equal(list.shift()?.id, 2);
    assert.equal(list.shift(), undefined, 'empty');
    assert.equal(list.size, 0);
    assert.equal(list.first, undefined);
  });

  it('lets the current value be removed while iterating', () => {
    const list = new LinkedList<Item>();
    for (const id of [1, 2, 3, 4]) list.push(item(id));
    const seen: number[] = [];
    for (const value of list) {
      seen.push(value.id);
      if (value.id % 2 === 1) list.remove(value);
    }
    assert.deepEqual(seen, [1, 2, 3, 4], 'every value visited once');
    assert.deepEqual(ids(list), [2, 4], 'odd ones removed');
  });
});
