import type { QueuePolicy, SchedulingPolicy } from '../core/batching-policy.js';
import { ModelQueuePolicy_TimeoutAction, type ModelConfig, type ModelQueuePolicy } from '../generated/model_config.js';
import { sequencePolicy } from './sequence-config.js';

/**
 * The scheduler a normalized, validated config asks for: the sequence batcher for a
 * sequence_batching block (batching or not, as in Triton; `initialStates` holds the
 * bytes of its initial_state data files), the dynamic batcher when the model batches and
 * has a dynamic_batching block, else Triton's default FIFO scheduler.
 */
export function schedulingPolicyFromConfig(config: ModelConfig, initialStates: ReadonlyMap<string, Uint8Array> = new Map()): SchedulingPolicy {
  const scheduling = config.schedulingChoice;
  if (scheduling?.$case === 'sequenceBatching') return { kind: 'sequence', ...sequencePolicy(config, initialStates) };
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
