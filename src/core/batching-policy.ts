import type { SequenceBatchingPolicy } from './sequence-policy.js';

/**
 * How a model's requests are scheduled: Triton's `dynamic_batching` block, after defaults,
 * as plain data. The repository builds it from the model config; the scheduler obeys it.
 */

/** What happens to a request that waited longer than its timeout (ModelQueuePolicy). */
export interface QueuePolicy {
  /** 'reject': fail it (UNAVAILABLE "Request timeout expired"); 'delay': move it behind every request that has not timed out. */
  readonly timeoutAction: 'reject' | 'delay';
  /** 0 = no timeout. */
  readonly defaultTimeoutUs: number;
  /** A request's own `timeout` parameter may lower the default (never raise it). */
  readonly allowTimeoutOverride: boolean;
  /** 0 = unbounded; a full queue rejects at once. */
  readonly maxQueueSize: number;
}

/**
 * How much one model's queue holds before it refuses requests at once (QUEUE_FULL), when
 * its config sets no max_queue_size: the server's --max-queue-size and --max-queue-bytes.
 * Without a bound an overloaded server queues until memory runs out.
 */
export interface QueueBounds {
  /** Requests per priority level; 0 = unbounded. A level's own max_queue_size wins. */
  readonly maxQueueSize: number;
  /** Bytes of queued request messages, every level together; 0 = unbounded. An empty queue takes any request. */
  readonly maxQueueBytes: number;
}

export interface DynamicBatchingPolicy {
  readonly maxBatchSize: number;
  /** Ascending; never empty (Triton defaults it to [max_batch_size]). */
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueueDelayUs: number;
  /** Responses leave in the order requests arrived. */
  readonly preserveOrdering: boolean;
  /** 0 = a single level. Level 1 is the highest priority. */
  readonly priorityLevels: number;
  readonly defaultPriorityLevel: number;
  readonly defaultQueuePolicy: QueuePolicy;
  /** Per-level overrides of the default policy. */
  readonly priorityQueuePolicy: ReadonlyMap<number, QueuePolicy>;
}

/** The scheduler a model version gets. */
export type SchedulingPolicy =
  | { readonly kind: 'fifo' }
  | ({ readonly kind: 'dynamic' } & DynamicBatchingPolicy)
  | ({ readonly kind: 'sequence' } & SequenceBatchingPolicy);
