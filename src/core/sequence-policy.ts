import type { DataType } from './data-type.js';

/**
 * How a stateful model's requests are scheduled: Triton's `sequence_batching` block, after
 * defaults, as plain data. The repository builds it from the model config; the sequence
 * batcher obeys it.
 */

/** What a control input tells the model (Triton's ModelSequenceBatching.Control.Kind). */
export type ControlKind = 'start' | 'end' | 'ready' | 'corrid';

/** One control tensor the sequence batcher adds to every request it feeds the model. */
export interface ControlTensor {
  /** The model input that receives it (not an input clients send). */
  readonly name: string;
  readonly kind: ControlKind;
  /** INT32, FP32 or BOOL for start, end and ready; CORRID's data_type (UINT64, INT64, UINT32, INT32, BYTES). */
  readonly datatype: DataType;
  /** start, end and ready: the values for false and true (int32_false_true and its kin). */
  readonly falseTrue?: readonly [number, number];
}

/** Implicit state: an input/output pair whose output feeds the next request's input. */
export interface StateTensor {
  readonly inputName: string;
  readonly outputName: string;
  readonly datatype: DataType;
  /** Dims without the batch dimension; -1 is a variable dim. */
  readonly dims: readonly number[];
  /** initial_state: its dims and row-major bytes (zero_data or a data_file). Absent: zeros, -1 dims as 1. */
  readonly initial?: { readonly dims: readonly number[]; readonly data: Uint8Array };
}

export interface SequenceBatchingPolicy {
  readonly maxBatchSize: number;
  /** direct: a sequence owns a batch slot of one instance; oldest: dynamic batches of the oldest candidates. */
  readonly strategy: 'direct' | 'oldest';
  /** A sequence with no request for this long is ended and its slot freed. */
  readonly maxSequenceIdleUs: number;
  /** Sequence slots per instance: max(1, max_batch_size) for direct; oldest's max_candidate_sequences (same default). */
  readonly slotsPerInstance: number;
  /** direct and oldest: how long a batch may wait to grow (0 = never wait). */
  readonly maxQueueDelayUs: number;
  /** direct: the share of slots with a request that sends a batch before the delay ends. */
  readonly minimumSlotUtilization: number;
  /** oldest: ascending, never empty (defaults to [max_batch_size]). */
  readonly preferredBatchSizes: readonly number[];
  readonly controls: readonly ControlTensor[];
  readonly states: readonly StateTensor[];
}
