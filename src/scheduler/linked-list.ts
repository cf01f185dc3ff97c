/** The links a value carries to sit in a LinkedList (intrusive: no node object per value). */
export interface Linked<T> {
  prev: T | undefined;
  next: T | undefined;
  /** The list holding it; undefined when in none. */
  list: object | undefined;
}

/**
 * A doubly-linked list threaded through its values, so that appending, removing any value
 * and taking the first all cost O(1) whatever the length: the queues keep requests in
 * arrival order and a cancelled request leaves from the middle. A value sits in at most one
 * list at a time. Main thread only.
 */
export class LinkedList<T extends Linked<T>> {
  private head: T | undefined;
  private tail: T | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get first(): T | undefined {
    return this.head;
  }

  push(value: T): void {
    if (value.list !== undefined) throw new Error('value is already in a list');
    value.list = this;
    value.prev = this.tail;
    value.next = undefined;
    if (this.tail === undefined) this.head = value;
    else this.tail.next = value;
    this.tail = value;
    this.count += 1;
  }

  /** Unlinks `value`; false when it is not in this list. */
  remove(value: T): boolean {
    if (value.list !== this) return false;
    if (value.prev === undefined) this.head = value.next;
    else value.prev.next = value.next;
    if (value.next === undefined) this.tail = value.prev;
    else value.next.prev = value.prev;
    value.prev = value.next = undefined;
    value.list = undefined;
    this.count -= 1;
    return true;
  }

  /** Removes and returns the first value. */
  shift(): T | undefined {
    const value = this.head;
    if (value !== undefined) this.remove(value);
    return value;
  }

  /** Values from first to last. Do not remove values other than the current one while iterating. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let value = this.head; value !== undefined; ) {
      const next = value.next;
      yield value;
      value = next;
    }
  }
}
