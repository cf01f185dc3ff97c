import type { InferError } from '../core/errors.js';
import type { ExecutionRequest, ExecutionResult } from '../core/execution.js';
import type { ModelInfo } from '../core/model-info.js';
import type { PendingRequest } from './pending-request.js';
import type { StagingPool } from './staging-pool.js';

/**
 * What BatchRunner runs: requests that share one model execution. Batch (the dynamic
 * batcher's and FIFO's) and SequenceBatch (the sequence batcher's, with control and state
 * tensors) implement it. Main thread only.
 */
export interface RunnableBatch {
  readonly model: ModelInfo;
  /** Items of the requests (sum of their batch sizes), for statistics. */
  readonly size: number;
  readonly entries: readonly PendingRequest[];
  /** Builds the execution, with inputs in staging buffers taken from `staging`. */
  assemble(staging: StagingPool): ExecutionRequest;
  /**
   * Settles the requests still waiting with their outputs and returns them; a decoupled
   * batch returns those whose responses are still coming, without settling them.
   */
  complete(result: ExecutionResult): PendingRequest[];
  /** Fails every request that is still waiting. */
  fail(err: InferError): void;
}
