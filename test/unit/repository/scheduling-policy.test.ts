import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelConfig, ModelDynamicBatching } from '../../../src/generated/model_config.js';
import { schedulingPolicyFromConfig } from '../../../src/repository/scheduling-policy.js';

const dynamic = (preferredBatchSize: number[] = []) => ({ $case: 'dynamicBatching' as const, value: ModelDynamicBatching.fromPartial({ preferredBatchSize, maxQueueDelayMicroseconds: 100n }) });

describe('schedulingPolicyFromConfig', () => {
  it('batches a model that batches and has dynamic_batching', () => {
    const policy = schedulingPolicyFromConfig(ModelConfig.fromPartial({ maxBatchSize: 8, schedulingChoice: dynamic([4, 2, 4]) }));
    assert.equal(policy.kind, 'dynamic');
    assert.ok(policy.kind === 'dynamic');
    assert.equal(policy.maxBatchSize, 8);
    assert.deepEqual(policy.preferredBatchSizes, [2, 4]);
    assert.equal(policy.maxQueueDelayUs, 100);
  });

  it('keeps FIFO for max_batch_size 0 even with dynamic_batching, and without dynamic_batching', () => {
    assert.deepEqual(schedulingPolicyFromConfig(ModelConfig.fromPartial({ maxBatchSize: 0, schedulingChoice: dynamic() })), { kind: 'fifo' });
    assert.deepEqual(schedulingPolicyFromConfig(ModelConfig.fromPartial({ maxBatchSize: 8 })), { kind: 'fifo' });
  });
});
