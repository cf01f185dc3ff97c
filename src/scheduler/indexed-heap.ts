/** The slot a value keeps while it sits in an IndexedHeap: its index there, or -1. */
export interface HeapSlot {
  heapIndex: number;
}

/**
 * A binary min-heap that knows where each value sits, so any value, not only the top, can
 * leave in O(log n): the queue keeps its timeouts here, and a request that is cancelled or
 * taken into a batch leaves the heap at once instead of being found later by a scan.
 * `before(a, b)` orders the values; it must be a strict total order. A value sits in at
 * most one heap. Main thread only.
 */
export class IndexedHeap<T extends HeapSlot> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** The smallest value, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(value: T): void {
    if (value.heapIndex >= 0) throw new Error('value is already in a heap');
    value.heapIndex = this.items.length;
    this.items.push(value);
    this.up(value.heapIndex);
  }

  /** Removes and returns the smallest value. */
  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `value`; false when it is not in this heap. */
  remove(value: T): boolean {
    const index = value.heapIndex;
    if (index < 0 || this.items[index] !== value) return false;
    const last = this.items.pop()!;
    value.heapIndex = -1;
    if (last !== value) {
      this.items[index] = last;
      last.heapIndex = index;
      // The value moved into the hole may belong above or below it.
      if (index > 0 && this.before(last, this.items[(index - 1) >> 1]!)) this.up(index);
      else this.down(index);
    }
    return true;
  }

  private up(index: number): void {
    const items = this.items;
    const value = items[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex]!;
      if (!this.before(value, parent)) break;
      items[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    items[index] = value;
    value.heapIndex = index;
  }

  private down(index: number): void {
    const items = this.items;
    const value = items[index]!;
    const length = items.length;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      if (child + 1 < length && this.before(items[child + 1]!, items[child]!)) child += 1;
      if (!this.before(items[child]!, value)) break;
      items[index] = items[child]!;
      items[index]!.heapIndex = index;
      index = child;
    }
    items[index] = value;
    value.heapIndex = index;
  }
}
