import type { DataType } from './data-type.js';
import type { PrecisionChoice } from './precision.js';

/** What the server knows of one model input or output, after auto-complete. */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: DataType;
  /** Dims without the batch dimension; -1 is a variable dim. */
  readonly dims: readonly number[];
  /** Shape the model itself sees (without batch), when the config reshapes it. */
  readonly reshape?: readonly number[];
  /** Inputs only: the request may leave it out. */
  readonly optional: boolean;
}

/**
 * The core's view of one loaded model version: enough to validate requests, describe
 * the model in metadata and shape batches. Built by the repository from the normalized
 * model configuration; immutable.
 */
export interface ModelInfo {
  readonly name: string;
  readonly version: number;
  readonly platform: string;
  /** 0: no batch dimension. N > 0: the first dim of every input is the batch, at most N. */
  readonly maxBatchSize: number;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** The precisions requests can choose; absent means fp32 only. */
  readonly precision?: PrecisionChoice;
  /**
   * Decoupled transaction policy: a request may get zero, one or many responses, so it is
   * served through ModelStreamInfer only.
   */
  readonly decoupled?: boolean;
}
