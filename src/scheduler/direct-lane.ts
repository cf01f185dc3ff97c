import type { SequenceBatchingPolicy } from '../core/sequence-policy.js';
import type { SequenceSlot } from './sequence.js';
import type { LaneDecision, RowKey, SequenceLane } from './sequence-lane.js';

/**
 * Triton's direct strategy for one instance: each sequence owns a slot, and slot i is row
 * i of every batch, so a model that keeps per-slot state always sees a sequence in the
 * same row. A batch takes the next request of every slot that has one, up to the highest
 * such slot; slots without one (or whose request has other shapes than the first row's)
 * get a padding row with READY false. With max_queue_delay_microseconds and
 * minimum_slot_utilization set, a batch waits until enough slots have a request or its
 * oldest request has waited out the delay. Deciding visits the instance's slots (at most
 * max_batch_size), never the queues. Main thread only.
 */
export class DirectLane implements SequenceLane {
  constructor(
    private readonly slots: readonly SequenceSlot[],
    private readonly policy: SequenceBatchingPolicy,
    private readonly rowKey: RowKey,
  ) {}

  ready(): void {
    // Slots are read when a batch is formed.
  }

  forget(): void {
    // Slots are read when a batch is formed.
  }

  decide(now: number): LaneDecision {
    let last = -1;
    let ready = 0;
    let oldest = Infinity;
    for (const slot of this.slots) {
      const head = slot.sequence?.head;
      if (head === undefined) continue;
      ready += 1;
      last = slot.index;
      oldest = Math.min(oldest, head.pending.enqueuedAt);
    }
    if (last < 0) return undefined;
    const delayMs = this.policy.maxQueueDelayUs / 1000;
    if (delayMs > 0 && this.policy.minimumSlotUtilization > 0) {
      const full = ready / Math.max(1, this.policy.maxBatchSize) >= this.policy.minimumSlotUtilization;
      if (!full && now - oldest < delayMs) return { kind: 'wait', until: oldest + delayMs };
    }
    let key: string | undefined;
    const rows = this.slots.slice(0, last + 1).map((slot) => {
      const sequence = slot.sequence;
      const head = sequence?.head;
      if (sequence === undefined || head === undefined) return undefined;
      const rowKey = this.rowKey(sequence, head);
      key ??= rowKey;
      return rowKey === key ? sequence : undefined;
    });
    return { kind: 'send', rows };
  }
}
