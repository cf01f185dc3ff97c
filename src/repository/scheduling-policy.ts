import type { QueuePolicy, SchedulingPolicy } from '../core/batching-policy.js';
import { ModelQueuePolicy_TimeoutAction, type ModelConfig, type ModelQueuePolicy } from '../generated/model_config.js';

/**
 * The scheduler a normalized, validated config asks for: the dynamic batcher when the
 * model batches and has a dynamic_batching block, else Triton's default FIFO scheduler.
 */
export function schedulingPolicyFromConfig(config: ModelConfig): SchedulingPolicy {
  const scheduling = config.schedulingChoice;
  if (config.maxBatchSize === 0 || scheduling?.$case !== 'dynamicBatching') return { kind: 'fifo' };
  const batching = scheduling.value;
  const levels = Number(batching.priorityLevels);
  return {
    kind: 'dynamic',
    maxBatchSize: config.maxBatchSize,
    preferredBatchSizes: [...new Set(batching.preferredBatchSize)].sort((a, b) => a - b),
    maxQueueDelayUs: Number(batching.maxQueueDelayMicroseconds),
    preserveOrdering: batching.preserveOrdering,
    priorityLevels: levels,
    defaultPriorityLevel: levels === 0 ? 0 : Number(batching.defaultPriorityLevel),
    defaultQueuePolicy: queuePolicy(batching.defaultQueuePolicy),
    priorityQueuePolicy: new Map([...batching.priorityQueuePolicy].map(([level, policy]) => [Number(level), queuePolicy(policy)])),
  };
}

function queuePolicy(policy: ModelQueuePolicy | undefined): QueuePolicy {
  return {
    timeoutAction: policy?.timeoutAction === ModelQueuePolicy_TimeoutAction.DELAY ? 'delay' : 'reject',
    defaultTimeoutUs: Number(policy?.defaultTimeoutMicroseconds ?? 0n),
    allowTimeoutOverride: policy?.allowTimeoutOverride ?? false,
    maxQueueSize: policy?.maxQueueSize ?? 0,
  };
}
