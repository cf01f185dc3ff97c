import { correlationKey, type CorrelationId } from '../core/sequence.js';
import type { StateTensor } from '../core/sequence-policy.js';
import type { HeapSlot } from './indexed-heap.js';
import { LinkedList, type Linked } from './linked-list.js';
import type { PendingRequest } from './pending-request.js';
import { initialState, stateShapeKey, type StateValue } from './sequence-state.js';

/** One request of a sequence, waiting in the sequence's queue or running. */
export interface QueuedRequest extends Linked<QueuedRequest> {
  readonly pending: PendingRequest;
  readonly start: boolean;
  readonly end: boolean;
}

/** A batch slot of one instance; a sequence holds it from its first request to its end. */
export interface SequenceSlot extends HeapSlot {
  readonly instance: number;
  /** Its row in the direct strategy's batches; slots fill from the lowest index. */
  readonly index: number;
  sequence: Sequence | undefined;
}

/**
 * One sequence of correlated requests, from its START to its end (END, idle timeout,
 * cancellation or the failure of its instance). It owns its queue of requests, its slot
 * and its implicit state: when it ends, all three go. At most one of its requests runs at
 * a time, so they run in order. Main thread only; only the SequenceBatcher changes it.
 */
export class Sequence implements Linked<Sequence>, HeapSlot {
  readonly key: string;
  readonly queue = new LinkedList<QueuedRequest>();
  /** Undefined while it waits in the backlog for a free slot. */
  slot: SequenceSlot | undefined;
  running: QueuedRequest | undefined;
  /** Implicit state after its last request; undefined until its first runs. */
  state: Map<string, StateValue> | undefined;
  /** Still takes requests without START (it is in the batcher's map of active IDs). */
  open = true;
  /** Ended early (cancelled, or its instance failed): nothing more of it runs. */
  aborted = false;
  /** When it ends for being idle (ms since the epoch), while open. */
  idleAt = Infinity;
  /** Oldest strategy: when its head request became a batch candidate. */
  readyAt = 0;
  // Links: the backlog or an oldest lane's candidates (never both), and the idle heap.
  prev: Sequence | undefined = undefined;
  next: Sequence | undefined = undefined;
  list: object | undefined = undefined;
  heapIndex = -1;

  constructor(readonly id: CorrelationId) {
    this.key = correlationKey(id);
  }

  /** The request that runs next, if any (none while one runs). */
  get head(): QueuedRequest | undefined {
    return this.running === undefined ? this.queue.first : undefined;
  }

  /**
   * The state its head request will see: the initial state when that request starts the
   * sequence (a START on a sequence already active resets it, as in Triton) or none ran yet.
   */
  stateFor(request: QueuedRequest, specs: readonly StateTensor[]): Map<string, StateValue> {
    if (request.start || this.state === undefined) this.state = new Map(specs.map((s) => [s.inputName, initialState(s)]));
    return this.state;
  }

  /** Requests of different sequences share a batch only when this key is equal: input and state shapes. */
  rowKey(request: QueuedRequest, specs: readonly StateTensor[]): string {
    if (specs.length === 0) return request.pending.shapeKey;
    const states = request.start || this.state === undefined ? new Map(specs.map((s) => [s.inputName, initialState(s)])) : this.state;
    return `${request.pending.shapeKey}|${stateShapeKey(states)}`;
  }
}
