import type { DurationStat, PhaseStatistics } from '../../core/statistics.js';
import type { ReadyModel } from '../../repository/model-registry.js';

/**
 * One model version's statistics in Triton's JSON (GET /v2/models[/{m}[/versions/{v}]]/stats):
 * the ModelStatistics message with the proto's field names and numbers for its 64-bit
 * counters, as gRPC's ModelStatistics reports them (the same snapshot). Nereid's additions
 * (`main_thread` per batch size, `precision_stats`) are there as over gRPC.
 */
export function statisticsJson(model: ReadyModel): Record<string, unknown> {
  const stats = model.servable.statistics();
  const duration = (d: DurationStat) => ({ count: d.count, ns: d.ns });
  const none = { count: 0, ns: 0 };
  const phases = (s: PhaseStatistics) => ({
    success: duration(s.success),
    fail: duration(s.fail),
    queue: duration(s.queue),
    compute_input: duration(s.computeInput),
    compute_infer: duration(s.computeInfer),
    compute_output: duration(s.computeOutput),
    cache_hit: s.cacheHit !== undefined ? duration(s.cacheHit) : none,
    cache_miss: s.cacheMiss !== undefined ? duration(s.cacheMiss) : none,
  });
  return {
    name: model.info.name,
    version: String(model.info.version),
    last_inference: Math.round(stats.lastInference),
    inference_count: stats.inferenceCount,
    execution_count: stats.executionCount,
    inference_stats: phases(stats),
    response_stats: {},
    batch_stats: stats.batches.map((b) => ({
      batch_size: b.batchSize,
      compute_input: duration(b.computeInput),
      compute_infer: duration(b.computeInfer),
      compute_output: duration(b.computeOutput),
      main_thread: duration(b.mainThread),
      request_count: b.requests,
    })),
    memory_usage: [],
    precision_stats: Object.fromEntries(
      stats.precisions.map((p) => [p.precision, { inference_count: p.inferenceCount, execution_count: p.executionCount, inference_stats: phases(p) }]),
    ),
  };
}
