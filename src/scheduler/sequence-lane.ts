import type { QueuedRequest, Sequence } from './sequence.js';

/** The next batch of an instance: its rows in batch order (undefined: a padding row), or when to look again. */
export type LaneDecision = { readonly kind: 'send'; readonly rows: readonly (Sequence | undefined)[] } | { readonly kind: 'wait'; readonly until: number } | undefined;

/** Equal for requests that may share a batch (input and state shapes). */
export type RowKey = (sequence: Sequence, request: QueuedRequest) => string;

/**
 * How the sequences holding slots of one instance form that instance's batches: the
 * direct strategy (direct-lane.ts) or the oldest (oldest-lane.ts). The SequenceBatcher
 * owns the sequences and asks the lane only when the instance is free. Main thread only.
 */
export interface SequenceLane {
  /** `sequence`, holding a slot of this instance, has a request to run and none running. */
  ready(sequence: Sequence, now: number): void;
  /** `sequence` leaves this instance (ended, or its slot freed). */
  forget(sequence: Sequence): void;
  /** The batch to send at `now`, if any; it reads only what a batch needs, never every queued request. */
  decide(now: number): LaneDecision;
}
