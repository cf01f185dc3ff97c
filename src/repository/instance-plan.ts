import type { DeviceInventory, ExecutionProvider, InstancePlan } from '../core/execution.js';
import { ModelInstanceGroup_Kind as Kind, type ModelConfig } from '../generated/model_config.js';
import { ModelConfigError } from './config-error.js';

const GPU_PROVIDERS: readonly ExecutionProvider[] = ['cuda', 'webgpu'];

/**
 * Turns a normalized config's instance groups into the instances to start.
 *
 * CPU instances split the machine's cores: each gets `intra_op_thread_count` threads if
 * the config sets that parameter (Triton's ONNX Runtime backend name), else
 * floor(cores / CPU instances of this model), at least 1. A KIND_GPU group makes `count`
 * instances per listed GPU, each with its own session (one CUDA stream or WebGPU queue
 * each) on the provider named by the first gpu_execution_accelerator (default cuda).
 * Throws ModelConfigError, with the exact reason, when that provider cannot run here, or
 * when the groups ask for more instances than `maxInstances` (0: {@link defaultInstanceLimit}).
 */
export function planInstances(config: ModelConfig, devices: DeviceInventory, maxInstances = 0): InstancePlan[] {
  checkInstanceCount(config, maxInstances > 0 ? maxInstances : defaultInstanceLimit(devices.cpuCores), maxInstances > 0);
  const cpuInstances = config.instanceGroup
    .filter((g) => g.kind === Kind.KIND_CPU)
    .reduce((sum, g) => sum + g.count, 0);
  const intraOverride = intParameter(config, 'intra_op_thread_count');
  const interOverride = intParameter(config, 'inter_op_thread_count');
  const cpuThreads = intraOverride ?? Math.max(1, Math.floor(devices.cpuCores / Math.max(1, cpuInstances)));
  const allowSpinning = config.parameters['allow_spinning']?.stringValue === 'true';
  const plans: InstancePlan[] = [];
  for (const group of config.instanceGroup) {
    if (group.kind === Kind.KIND_CPU) {
      for (let i = 0; i < group.count; i++) {
        plans.push({
          name: `${group.name}_${i}`,
          kind: 'cpu',
          settings: { executionProvider: 'cpu', deviceId: 0, intraOpThreads: cpuThreads, interOpThreads: interOverride ?? 1, allowSpinning },
        });
      }
      continue;
    }
    const provider = gpuProvider(config);
    const status = devices.providers[provider];
    if (!status.available) {
      throw new ModelConfigError(`model '${config.name}': instance group '${group.name}' needs the ${provider} execution provider: ${status.reason}`);
    }
    // WebGPU picks its adapter itself (Vulkan may expose GPUs that /dev/nvidiaN does not list).
    const gpus = group.gpus.length === 0 && provider === 'webgpu' ? [0] : group.gpus;
    if (gpus.length === 0) {
      throw new ModelConfigError(`model '${config.name}': instance group '${group.name}' is KIND_GPU but no GPU is visible`);
    }
    for (const gpu of gpus) {
      if (provider === 'cuda' && !devices.gpuIds.includes(gpu)) {
        throw new ModelConfigError(
          `model '${config.name}': instance group '${group.name}' asks for GPU ${gpu}, but the visible GPUs are [${devices.gpuIds.join(', ')}]`,
        );
      }
      for (let i = 0; i < group.count; i++) {
        plans.push({
          name: `${group.name}_${i}_gpu${gpu}`,
          kind: 'gpu',
          settings: { executionProvider: provider, deviceId: gpu, intraOpThreads: intraOverride ?? 1, interOpThreads: interOverride ?? 1, allowSpinning },
        });
      }
    }
  }
  return plans;
}

/**
 * Instances one model may start when --max-instances-per-model is 0: 4 per CPU core, at
 * least 16. Each instance is a worker thread with its own V8 heap and ONNX Runtime
 * session (a copy of the weights); past a few per core they only contend for the same
 * cores, and `count: 1000` started 1,000 threads and passed 5.5 GiB within 15 s.
 */
export function defaultInstanceLimit(cpuCores: number): number {
  return Math.max(16, 4 * cpuCores);
}

/** Refuses the config, before anything starts, when its groups add up to more than `limit`. */
function checkInstanceCount(config: ModelConfig, limit: number, configured: boolean): void {
  let total = 0;
  for (const group of config.instanceGroup) total += group.count * (group.kind === Kind.KIND_GPU ? Math.max(1, group.gpus.length) : 1);
  if (total <= limit) return;
  const why = configured ? '--max-instances-per-model' : '4 per CPU core, at least 16; --max-instances-per-model changes it';
  throw new ModelConfigError(
    `model '${config.name}': instance_group asks for ${total} instances, more than the ${limit} one model may have here (${why}); ` +
      'each instance is a thread with its own heap and ONNX Runtime session',
  );
}

/**
 * Memory one instance takes besides its model's weights: a worker thread with its own V8
 * heap, the ONNX Runtime session's own state and the staging buffers (29 MiB per instance
 * of `simple`, measured from RSS with 1 and 16 instances; a little less when built).
 */
export const INSTANCE_OVERHEAD_BYTES = 25 * 1024 * 1024;

/**
 * Refuses to start `count` instances whose sessions hold `weightBytes` each (the model
 * file and its precision variants) when together they would need more than `memoryBytes`,
 * the memory this process may use: they could only end in the process being killed.
 */
export function checkInstanceMemory(model: string, count: number, weightBytes: number, memoryBytes: number | undefined): void {
  if (memoryBytes === undefined || !Number.isFinite(memoryBytes) || memoryBytes <= 0) return;
  const need = count * (INSTANCE_OVERHEAD_BYTES + weightBytes);
  if (need <= memoryBytes) return;
  const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
  throw new ModelConfigError(
    `model '${model}': ${count} instances would need about ${mib(need)} MiB (${mib(INSTANCE_OVERHEAD_BYTES)} MiB each plus ` +
      `${mib(weightBytes)} MiB of model files, held by each instance's session), more than the ${mib(memoryBytes)} MiB this process may use; ` +
      'lower instance_group count',
  );
}

function gpuProvider(config: ModelConfig): ExecutionProvider {
  const accelerator = config.optimization?.executionAccelerators?.gpuExecutionAccelerator[0];
  const name = accelerator?.name ?? 'cuda';
  if (!(GPU_PROVIDERS as readonly string[]).includes(name)) {
    throw new ModelConfigError(
      `model '${config.name}': gpu_execution_accelerator '${name}' is not supported; use one of ${GPU_PROVIDERS.join(', ')}`,
    );
  }
  return name as ExecutionProvider;
}

function intParameter(config: ModelConfig, key: string): number | undefined {
  const raw = config.parameters[key]?.stringValue;
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    throw new ModelConfigError(`model '${config.name}': parameter '${key}' must be a non-negative integer, got '${raw}'`);
  }
  return value === 0 ? undefined : value;
}
