import { quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import type { DurationStat, ModelStatisticsSnapshot, PhaseStatistics } from '../../core/statistics.js';
import type { GRPCInferenceServiceServer, InferStatistics, ModelStatistics, StatisticDuration } from '../../generated/grpc_service.js';
import type { ReadyModel } from '../../repository/model-registry.js';
import type { ServiceContext } from './service-context.js';
import { unary } from './unary.js';

/**
 * ModelStatistics, with Triton's selection rules and errors: an empty name means every
 * ready version of every model; a name alone, every ready version of that model; an
 * unknown or unready model or version is INVALID_ARGUMENT.
 */
export function statisticsHandler(context: ServiceContext): Pick<GRPCInferenceServiceServer, 'modelStatistics'> {
  return {
    modelStatistics: unary((request) => ({ modelStats: select(context, request.name, request.version).map(toProto) })),
  };
}

function select(context: ServiceContext, name: string, version: string): ReadyModel[] {
  const ready = context.registry.readyModels();
  if (name === '') return ready;
  const versions = ready.filter((m) => m.info.name === name);
  if (versions.length === 0) throw new InferError('STATISTICS_MODEL_UNAVAILABLE', `requested model ${quote(name)} is not available`);
  if (version === '') return versions;
  const chosen = versions.filter((m) => String(m.info.version) === version);
  if (chosen.length === 0) throw new InferError('STATISTICS_MODEL_UNAVAILABLE', `requested model version is not available for model ${quote(name)}`);
  return chosen;
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
    cacheHit: none,
    cacheMiss: none,
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
