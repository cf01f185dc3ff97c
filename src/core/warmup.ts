import type { DataType } from './data-type.js';
import type { BufferTensor } from './execution.js';
import type { Variant } from './precision.js';

/**
 * One model_warmup sample as the config describes it, with its data read: each input's
 * bytes for the whole batch (the sample's data repeated `batch_size` times, as Triton's
 * batch of `batch_size` one-item requests would be).
 */
export interface WarmupSample {
  readonly name: string;
  /** Executions of the sample: Triton's `count`, at least 1. */
  readonly executions: number;
  readonly inputs: readonly WarmupInput[];
}

export interface WarmupInput {
  readonly name: string;
  readonly datatype: DataType;
  /** Shape as the model sees it, batch dimension included when the model batches. */
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/**
 * One sample on one precision variant, as a model instance's worker runs it before the
 * instance reports ready. Plain data: it is cloned into every instance's worker.
 */
export interface WarmupRun {
  readonly sample: string;
  readonly variant: Variant;
  readonly executions: number;
  readonly inputs: readonly BufferTensor[];
  readonly outputNames: readonly string[];
}

/** Triton's reason for a failed warm-up, which makes the model UNAVAILABLE. */
export function warmupFailure(sample: string, message: string): string {
  return `failed to run warmup sample '${sample}': ${message}`;
}
