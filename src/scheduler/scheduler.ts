import type { CancelSignal } from '../core/cancel-signal.js';
import type { InferResponse, ResponseSink } from '../core/infer-request.js';
import type { ValidatedRequest } from '../core/request-validation.js';

/**
 * Decides when and with what company a request runs. Implementations own their queue;
 * everything else only sends commands. Main thread only.
 */
export interface Scheduler {
  /**
   * Queues a request. Settles with its response, or with an InferError. If `signal`
   * aborts while the request is still queued, it is removed and never computed; its
   * reason (an InferError) is the rejection. A decoupled model's responses go to `sink`
   * as they come; the promise then settles with the final one.
   */
  enqueue(request: ValidatedRequest, signal: CancelSignal, sink?: ResponseSink): Promise<InferResponse>;
  /** Requests waiting in the queue, not yet handed to an instance. */
  pending(): number;
  /** Rejects queued requests with SERVER_STOPPING and waits for running ones. */
  stop(): Promise<void>;
}
