import { IndexedHeap } from './indexed-heap.js';
import { LinkedList } from './linked-list.js';
import type { Sequence, SequenceSlot } from './sequence.js';

/**
 * The batch slots of a model's instances and the backlog of sequences waiting for one.
 * A new sequence takes the free slot with the lowest index (the lowest instance among
 * equals), as Triton's sequence batcher does, so sequences spread over the instances and
 * each instance's batches stay as small as they can. With no free slot the sequence
 * waits in the backlog, oldest first. Taking, freeing and backlogging cost O(log n)
 * (free slots sit in a heap) and O(1) (the backlog is a linked list). Main thread only.
 */
export class SequenceSlots {
  /** Slots by instance, then by index. */
  readonly byInstance: readonly (readonly SequenceSlot[])[];
  private readonly free = new IndexedHeap<SequenceSlot>((a, b) => a.index < b.index || (a.index === b.index && a.instance < b.instance));
  private readonly backlog = new LinkedList<Sequence>();

  constructor(instances: number, slotsPerInstance: number) {
    this.byInstance = Array.from({ length: instances }, (_, instance) =>
      Array.from({ length: slotsPerInstance }, (_, index): SequenceSlot => ({ instance, index, sequence: undefined, heapIndex: -1 })),
    );
    for (const slots of this.byInstance) for (const slot of slots) this.free.push(slot);
  }

  /** Sequences waiting for a slot. */
  get backlogged(): number {
    return this.backlog.size;
  }

  /** Gives `sequence` a free slot and returns it, or puts the sequence in the backlog and returns undefined. */
  assign(sequence: Sequence): SequenceSlot | undefined {
    const slot = this.free.pop();
    if (slot === undefined) {
      this.backlog.push(sequence);
      return undefined;
    }
    slot.sequence = sequence;
    sequence.slot = slot;
    return slot;
  }

  /**
   * Takes `sequence` out: frees its slot, or leaves the backlog. A freed slot goes to the
   * oldest backlogged sequence, which is returned (its lane must learn of it).
   */
  release(sequence: Sequence): Sequence | undefined {
    const slot = sequence.slot;
    if (slot === undefined) {
      this.backlog.remove(sequence);
      return undefined;
    }
    sequence.slot = undefined;
    slot.sequence = undefined;
    const next = this.backlog.shift();
    if (next === undefined) {
      this.free.push(slot);
      return undefined;
    }
    slot.sequence = next;
    next.slot = slot;
    return next;
  }

  /** The backlogged sequences, oldest first (for stop). */
  *waiting(): IterableIterator<Sequence> {
    yield* this.backlog;
  }
}
