import type { Precision } from './precision.js';

/**
 * A model version's cumulative statistics, in Triton's shape (ModelStatistics): per-request
 * phase durations, inference and execution counts, and per-batch-size execution times.
 * Durations are nanoseconds as bigint, so totals never lose precision.
 */
export interface DurationStat {
  readonly count: number;
  readonly ns: bigint;
}

export interface BatchSizeStats {
  readonly batchSize: number;
  readonly computeInput: DurationStat;
  readonly computeInfer: DurationStat;
  readonly computeOutput: DurationStat;
  /**
   * Main-thread time of these executions: copying inputs into staging buffers and
   * splitting outputs (not in Triton's message; reported by Nereid's own tools).
   */
  readonly mainThread: DurationStat;
  /** Requests these executions served (several per execution when batched). */
  readonly requests: number;
}

/** Why a request failed, as Triton's nv_inference_request_failure `reason` label says it. */
export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';

/** Counts and per-request phase durations of a set of requests (Triton's InferStatistics and counts). */
export interface PhaseStatistics {
  /** Items inferred (a batch-8 request counts 8). */
  readonly inferenceCount: number;
  /** Model executions (a batch of many requests counts 1). */
  readonly executionCount: number;
  readonly success: DurationStat;
  readonly fail: DurationStat;
  readonly queue: DurationStat;
  readonly computeInput: DurationStat;
  readonly computeInfer: DurationStat;
  readonly computeOutput: DurationStat;
  /**
   * Response-cache lookups that hit (their duration: key, lookup and the copy out) and that
   * missed (lookup plus insertion of the computed response). Present only for versions that
   * use the response cache. A hit counts in `success` and `queue`, never in the compute phases
   * or `inferenceCount`, as in Triton.
   */
  readonly cacheHit?: DurationStat;
  readonly cacheMiss?: DurationStat;
}

/** The requests one precision ran (Nereid's addition to Triton's shape). */
export interface PrecisionStatistics extends PhaseStatistics {
  readonly precision: Precision;
}

export interface ModelStatisticsSnapshot extends PhaseStatistics {
  /** ms since the epoch of the last completed execution; 0 = none yet. */
  readonly lastInference: number;
  readonly batches: readonly BatchSizeStats[];
  readonly failures: Readonly<Record<FailureReason, number>>;
  /** Per precision that ran or failed requests, in fp32, fp16, int8 order. */
  readonly precisions: readonly PrecisionStatistics[];
}
