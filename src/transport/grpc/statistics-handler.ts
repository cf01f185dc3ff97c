import type { DurationStat, ModelStatisticsSnapshot, PhaseStatistics } from '../../core/statistics.js';
import type { GRPCInferenceServiceServer, InferStatistics, ModelStatistics, StatisticDuration } from '../../generated/grpc_service.js';
import type { ReadyModel } from '../../repository/model-registry.js';
import { selectForStatistics } from '../common/statistics-selection.js';
import type { ServiceContext } from './service-context.js';
import { unary } from './unary.js';

/**
 * ModelStatistics: the versions chosen by Triton's selection rules (common/statistics-selection.ts,
 * shared with HTTP), in the proto's shape.
 */
export function statisticsHandler(context: ServiceContext): Pick<GRPCInferenceServiceServer, 'modelStatistics'> {
  return {
    modelStatistics: unary((request) => ({ modelStats: selectForStatistics(context.registry, request.name, request.version).map(toProto) })),
  };
}

function toProto(model: ReadyModel): ModelStatistics {
  const stats: ModelStatisticsSnapshot = model.servable.statistics();
  const duration = (d: DurationStat): StatisticDuration => ({ count: BigInt(d.count), ns: d.ns });
  const none = { count: 0n, ns: 0n };
  const phases = (s: PhaseStatistics): InferStatistics => ({
    success: duration(s.success),
    fail: duration(s.fail),
    queue: duration(s.queue),
    computeInput: duration(s.computeInput),
    computeInfer: duration(s.computeInfer),
    computeOutput: duration(s.computeOutput),
    cacheHit: s.cacheHit !== undefined ? duration(s.cacheHit) : none,
    cacheMiss: s.cacheMiss !== undefined ? duration(s.cacheMiss) : none,
  });
  return {
    name: model.info.name,
    version: String(model.info.version),
    lastInference: BigInt(Math.round(stats.lastInference)),
    inferenceCount: BigInt(stats.inferenceCount),
    executionCount: BigInt(stats.executionCount),
    inferenceStats: phases(stats),
    batchStats: stats.batches.map((b) => ({
      batchSize: BigInt(b.batchSize),
      computeInput: duration(b.computeInput),
      computeInfer: duration(b.computeInfer),
      computeOutput: duration(b.computeOutput),
      mainThread: duration(b.mainThread),
      requestCount: BigInt(b.requests),
    })),
    memoryUsage: [],
    responseStats: {},
    precisionStats: Object.fromEntries(
      stats.precisions.map((p) => [
        p.precision,
        { inferenceCount: BigInt(p.inferenceCount), executionCount: BigInt(p.executionCount), inferenceStats: phases(p) },
      ]),
    ),
  };
}
