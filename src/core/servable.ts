import type { InferResponse } from './infer-request.js';
import type { ValidatedRequest } from './request-validation.js';

/** What an instance reports about itself (for statistics, tests and logs). */
export interface InstanceStatus {
  readonly name: string;
  readonly kind: 'cpu' | 'gpu';
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
  /** Queues a validated request; settles when its response is ready or it fails. */
  infer(request: ValidatedRequest, signal: AbortSignal): Promise<InferResponse>;
  /** Requests queued or running. */
  inflight(): number;
  instances(): readonly InstanceStatus[];
  /** Kills one instance's worker as a crash would, for fault drills and tests. */
  crashInstance(name: string): Promise<void>;
  /** Finishes what is running, fails what is queued, and stops the instances. */
  stop(): Promise<void>;
}
