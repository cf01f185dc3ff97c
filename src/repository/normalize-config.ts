import {
  ModelInstanceGroup,
  ModelInstanceGroup_Kind as Kind,
  ModelOptimizationPolicy,
  ModelOptimizationPolicy_PinnedMemoryBuffer,
  ModelVersionPolicy,
  type ModelConfig,
} from '../generated/model_config.js';
import type { DeviceInventory } from '../core/execution.js';
import { IDENTITY_BACKEND, ONNX_BACKEND, REPEAT_BACKEND } from './auto-complete.js';

/** Triton's default max_sequence_idle_microseconds (SEQUENCE_IDLE_DEFAULT_MICROSECONDS). */
export const SEQUENCE_IDLE_DEFAULT_US = 1_000_000n;

/**
 * Fills the defaults Triton's core fills, so that ModelConfig returns the config the
 * server really uses: version policy `latest { num_versions: 1 }`, preferred batch size
 * `[max_batch_size]` for dynamic batching and the sequence batcher's oldest strategy,
 * max_sequence_idle_microseconds 1 s, pinned-memory flags, and instance groups
 * (one group when none is given, names `<model>_<index>`, KIND_AUTO resolved against the
 * machine, count 2 on CPU for ONNX Runtime and 1 otherwise, every GPU when `gpus` is
 * empty). Mutates and returns `config`.
 */
export function normalizeModelConfig(config: ModelConfig, devices: DeviceInventory): ModelConfig {
  if (config.versionPolicy?.policyChoice === undefined) {
    config.versionPolicy = ModelVersionPolicy.fromPartial({ policyChoice: { $case: 'latest', value: { numVersions: 1 } } });
  }
  const scheduling = config.schedulingChoice;
  if (scheduling?.$case === 'dynamicBatching' && scheduling.value.preferredBatchSize.length === 0 && config.maxBatchSize > 0) {
    scheduling.value.preferredBatchSize = [config.maxBatchSize];
  }
  if (scheduling?.$case === 'sequenceBatching') {
    const batching = scheduling.value;
    if (batching.maxSequenceIdleMicroseconds === 0n) batching.maxSequenceIdleMicroseconds = SEQUENCE_IDLE_DEFAULT_US;
    const oldest = batching.strategyChoice?.$case === 'oldest' ? batching.strategyChoice.value : undefined;
    if (oldest !== undefined && oldest.preferredBatchSize.length === 0 && config.maxBatchSize > 0) oldest.preferredBatchSize = [config.maxBatchSize];
  }
  config.optimization ??= ModelOptimizationPolicy.fromPartial({});
  config.optimization.inputPinnedMemory ??= ModelOptimizationPolicy_PinnedMemoryBuffer.fromPartial({ enable: true });
  config.optimization.outputPinnedMemory ??= ModelOptimizationPolicy_PinnedMemoryBuffer.fromPartial({ enable: true });

  if (config.instanceGroup.length === 0) config.instanceGroup = [ModelInstanceGroup.fromPartial({})];
  const gpusUsable = devices.gpuIds.length > 0 && devices.providers.cuda.available && config.backend !== IDENTITY_BACKEND && config.backend !== REPEAT_BACKEND;
  config.instanceGroup.forEach((group, index) => {
    if (group.name === '') group.name = `${config.name}_${index}`;
    if (group.kind === Kind.KIND_AUTO) {
      // Triton: GPU when every listed GPU (or any GPU, when none is listed) is usable, else CPU.
      const wanted = group.gpus.length > 0 ? group.gpus : devices.gpuIds;
      const onGpu = gpusUsable && wanted.every((id) => devices.gpuIds.includes(id));
      group.kind = onGpu ? Kind.KIND_GPU : Kind.KIND_CPU;
      if (!onGpu) group.gpus = [];
    }
    if (group.count === 0) group.count = group.kind === Kind.KIND_CPU && config.backend === ONNX_BACKEND ? 2 : 1;
    if (group.kind === Kind.KIND_GPU && group.gpus.length === 0) group.gpus = [...devices.gpuIds];
  });
  return config;
}

