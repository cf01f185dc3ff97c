import type { BufferTensor } from '../core/execution.js';
import type { InferError } from '../core/errors.js';
import type { Variant } from '../core/precision.js';

/**
 * What a model instance's worker runs. Worker thread only: `run` may block the thread.
 * Inputs are borrowed for the call; outputs are owned by the caller. The factory that
 * picks an implementation is in create-backend.ts.
 */
export interface ModelBackend {
  run(inputs: readonly BufferTensor[], outputNames: readonly string[], variant: Variant): Promise<BackendRun>;
  /**
   * Decoupled backends only: runs an execution whose requests answer through `responses`,
   * zero or more times each, ending with a final one. Resolves when the instance may take
   * its next execution; responses may still follow until `responsesDone` settles.
   */
  runDecoupled?(inputs: readonly BufferTensor[], outputNames: readonly string[], responses: ResponseSender): Promise<DecoupledRun>;
  release(): Promise<void>;
}

/** A finished run: host-side outputs, and when the model itself finished. */
export interface BackendRun {
  readonly outputs: BufferTensor[];
  /**
   * ms since the epoch when session.run returned; later work (downloading outputs that
   * stayed on the GPU, converting them) belongs to the d2h phase.
   */
  readonly computeEnd: number;
}

/** A decoupled execution that has returned; its responses may still be on their way. */
export interface DecoupledRun {
  readonly computeEnd: number;
  /** Settles once every request of the execution has sent its final response. */
  readonly responsesDone: Promise<void>;
}

/**
 * Where a decoupled backend sends responses (Triton's response factory). Outputs are
 * handed over: the sender owns their buffers afterwards. Worker thread only.
 */
export interface ResponseSender {
  /** One response for request `index` of the execution; `outputs` undefined sends only the final flag. */
  send(index: number, outputs: readonly BufferTensor[] | undefined, final: boolean): void;
  /** An error response for request `index`; it is that request's last. */
  fail(index: number, error: InferError): void;
}
