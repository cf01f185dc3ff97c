import type { SequenceBatchingPolicy } from '../core/sequence-policy.js';
import { decideBatch, type Candidate, type FormingPolicy } from './batch-former.js';
import { LinkedList } from './linked-list.js';
import type { Sequence } from './sequence.js';
import type { LaneDecision, RowKey, SequenceLane } from './sequence-lane.js';

/**
 * Triton's oldest strategy for one instance: its candidate sequences (those holding its
 * slots) each offer their next request once the previous one has finished, and the
 * dynamic batcher's rules (batch-former.ts: preferred_batch_size, max_queue_delay) form
 * batches from the offers in the order they were made, so a batch never holds two
 * requests of one sequence. Offers sit in a linked list: offering and withdrawing cost
 * O(1), and forming a batch reads at most max_batch_size + 1 offers. Main thread only.
 */
export class OldestLane implements SequenceLane {
  private readonly offers = new LinkedList<Sequence>();
  private readonly forming: FormingPolicy;

  constructor(
    policy: SequenceBatchingPolicy,
    private readonly rowKey: RowKey,
  ) {
    this.forming = {
      maxBatchSize: Math.max(1, policy.maxBatchSize),
      preferredBatchSizes: policy.preferredBatchSizes,
      maxQueueDelayUs: policy.maxQueueDelayUs,
    };
  }

  ready(sequence: Sequence, now: number): void {
    if (sequence.list !== undefined) return;
    sequence.readyAt = now;
    this.offers.push(sequence);
  }

  forget(sequence: Sequence): void {
    this.offers.remove(sequence);
  }

  decide(now: number): LaneDecision {
    const decision = decideBatch(this.candidates(), this.forming, now);
    if (decision === undefined || decision.kind === 'wait') return decision;
    const rows: Sequence[] = [];
    while (rows.length < decision.count) rows.push(this.offers.shift()!);
    return { kind: 'send', rows };
  }

  private *candidates(): Generator<Candidate> {
    for (const sequence of this.offers) {
      yield { size: 1, shapeKey: this.rowKey(sequence, sequence.head!), enqueuedAt: sequence.readyAt };
    }
  }
}
