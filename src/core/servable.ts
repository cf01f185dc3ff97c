import type { CancelSignal } from './cancel-signal.js';
import type { ExecutionProvider } from './execution.js';
import type { InferResponse, ResponseSink } from './infer-request.js';
import type { ValidatedRequest } from './request-validation.js';
import type { ModelStatisticsSnapshot } from './statistics.js';

/** What an instance reports about itself (for statistics, tests and logs). */
export interface InstanceStatus {
  readonly name: string;
  readonly kind: 'cpu' | 'gpu';
  readonly executionProvider: ExecutionProvider;
  readonly deviceId: number;
  readonly state: 'starting' | 'idle' | 'busy' | 'failed' | 'stopped';
  /** Model executions this instance (and any replacement under its name) completed. */
  readonly executions: number;
  /** Times the instance's worker died and was replaced. */
  readonly restarts: number;
}

/**
 * A loaded model version that can run requests: its scheduler and instances, seen from the
 * registry. Called on the main thread only.
 */
export interface Servable {
  /**
   * Queues a validated request; settles when its response is ready or it fails. A
   * decoupled model's responses go to `sink` as they come, and the promise settles with
   * the final one.
   */
  infer(request: ValidatedRequest, signal: CancelSignal, sink?: ResponseSink): Promise<InferResponse>;
  /** Requests waiting in the scheduler's queue, not yet executing (Triton's pending count). */
  pending(): number;
  instances(): readonly InstanceStatus[];
  /** Cumulative statistics since the version loaded. */
  statistics(): ModelStatisticsSnapshot;
  /** Sequence models: the sequences holding a slot or waiting for one, and the bytes of implicit state they keep. */
  sequences?(): { readonly active: number; readonly stateBytes: number } | undefined;
  /**
   * Fault drill: makes one instance's worker exit as a crash would. It reads the order
   * between executions, so the execution it is running completes and the next one sent
   * to it fails with INSTANCE_FAILED; the instance is then replaced.
   */
  crashInstance(name: string): void;
  /** Finishes what is running, fails what is queued, and stops the instances. */
  stop(): Promise<void>;
}
