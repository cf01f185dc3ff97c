import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DataType,
  ModelInstanceGroup_Kind as Kind,
  ModelQueuePolicy_TimeoutAction,
  type ModelConfig,
} from '../../../src/generated/model_config.js';
import { parseModelConfigText } from '../../../src/repository/config-text.js';

/** The `simple` example's config.pbtxt as Triton ships it. */
const SIMPLE = `
# The "simple" example from Triton's docs.
name: "simple"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [
  {
    name: "INPUT0"
    data_type: TYPE_INT32
    dims: [ 16 ]
  },
  {
    name: "INPUT1"
    data_type: TYPE_INT32
    dims: [ 16 ]
  }
]
output [
  {
    name: "OUTPUT0"  # sum
    data_type: TYPE_INT32
    dims: [ 16 ]
  },
  {
    name: "OUTPUT1"  # difference
    data_type: TYPE_INT32
    dims: [ 16 ]
  }
]
`;

const dynamicBatching = (config: ModelConfig) => {
  assert.equal(config.schedulingChoice?.$case, 'dynamicBatching');
  return config.schedulingChoice.value;
};

describe('parseModelConfigText', () => {
  it("parses Triton's simple example", () => {
    const config = parseModelConfigText(SIMPLE);
    assert.equal(config.name, 'simple');
    assert.equal(config.platform, 'onnxruntime_onnx');
    assert.equal(config.maxBatchSize, 8);
    assert.deepEqual(
      config.input.map((i) => [i.name, i.dataType, i.dims]),
      [
        ['INPUT0', DataType.TYPE_INT32, [16n]],
        ['INPUT1', DataType.TYPE_INT32, [16n]],
      ],
    );
    assert.deepEqual(
      config.output.map((o) => o.name),
      ['OUTPUT0', 'OUTPUT1'],
    );
  });

  it('returns defaults for an empty text or one with only comments', () => {
    for (const text of ['', '# nothing here\n   \n']) {
      const config = parseModelConfigText(text);
      assert.equal(config.name, '');
      assert.equal(config.maxBatchSize, 0);
      assert.deepEqual(config.input, []);
      assert.equal(config.versionPolicy, undefined);
      assert.equal(config.schedulingChoice, undefined);
    }
  });

  it('accepts negative dims, repeated scalar fields, and repeated message blocks without a list', () => {
    const config = parseModelConfigText(`
      input { name: "A" data_type: TYPE_FP32 dims: [ -1, 16 ] }
      input { name: "B", data_type: TYPE_STRING, dims: 3 dims: 4 }
      output: { name: "C" data_type: TYPE_BOOL dims: [ -1 ] }
    `);
    assert.deepEqual(
      config.input.map((i) => [i.name, i.dataType, i.dims]),
      [
        ['A', DataType.TYPE_FP32, [-1n, 16n]],
        ['B', DataType.TYPE_STRING, [3n, 4n]],
      ],
    );
    assert.deepEqual(config.output[0]!.dims, [-1n]);
    assert.equal(config.output[0]!.dataType, DataType.TYPE_BOOL);
  });

  it('keeps an empty reshape and the optional flag', () => {
    const config = parseModelConfigText(`input [ { name: "S" data_type: TYPE_INT64 dims: [1] reshape: { shape: [] } optional: true } ]`);
    const input = config.input[0]!;
    assert.ok(input.reshape !== undefined, 'an empty reshape must stay present');
    assert.deepEqual(input.reshape.shape, []);
    assert.equal(input.optional, true);
    assert.equal(parseModelConfigText('input { name: "T" dims: [1] }').input[0]!.reshape, undefined);
  });

  it('reads enums such as KIND_CPU / KIND_GPU and instance group lists', () => {
    const config = parseModelConfigText(`
      instance_group [
        { count: 2 kind: KIND_CPU },
        { name: "g" kind: KIND_GPU gpus: [ 0, 1 ] }
      ]
    `);
    assert.deepEqual(
      config.instanceGroup.map((g) => [g.name, g.kind, g.count, g.gpus]),
      [
        ['', Kind.KIND_CPU, 2, []],
        ['g', Kind.KIND_GPU, 0, [0, 1]],
      ],
    );
  });

  it('reads parameters in both the repeated-block and the list form', () => {
    const config = parseModelConfigText(`
      parameters { key: "intra_op_thread_count" value: { string_value: "2" } }
      parameters [
        { key: "a" value: { string_value: "x y" } },
        { key: "b" value { string_value: "" } }
      ]
    `);
    assert.deepEqual(
      Object.fromEntries(Object.entries(config.parameters).map(([k, v]) => [k, v.stringValue])),
      { intra_op_thread_count: '2', a: 'x y', b: '' },
    );
  });

  it('reads dynamic_batching with a priority_queue_policy map keyed by uint64', () => {
    const config = parseModelConfigText(`
      max_batch_size: 16
      dynamic_batching {
        preferred_batch_size: [ 4, 8 ]
        max_queue_delay_microseconds: 100
        priority_levels: 2
        default_priority_level: 1
        default_queue_policy { max_queue_size: 3 }
        priority_queue_policy { key: 1 value: { timeout_action: DELAY default_timeout_microseconds: 500 } }
        priority_queue_policy [ { key: 18446744073709551615 value: { max_queue_size: 7 allow_timeout_override: true } } ]
      }
    `);
    const batching = dynamicBatching(config);
    assert.deepEqual(batching.preferredBatchSize, [4, 8]);
    assert.equal(batching.maxQueueDelayMicroseconds, 100n);
    assert.equal(batching.priorityLevels, 2n);
    assert.equal(batching.defaultPriorityLevel, 1n);
    assert.equal(batching.defaultQueuePolicy?.maxQueueSize, 3);
    assert.deepEqual([...batching.priorityQueuePolicy.keys()], [1n, 18446744073709551615n]);
    const first = batching.priorityQueuePolicy.get(1n)!;
    assert.equal(first.timeoutAction, ModelQueuePolicy_TimeoutAction.DELAY);
    assert.equal(first.defaultTimeoutMicroseconds, 500n);
    const last = batching.priorityQueuePolicy.get(18446744073709551615n)!;
    assert.equal(last.maxQueueSize, 7);
    assert.equal(last.allowTimeoutOverride, true);
  });

  it('reads an empty dynamic_batching block as present', () => {
    assert.deepEqual(dynamicBatching(parseModelConfigText('max_batch_size: 4 dynamic_batching { }')).preferredBatchSize, []);
  });

  it('reads each version_policy form', () => {
    assert.deepEqual(parseModelConfigText('version_policy: { latest { num_versions: 2 } }').versionPolicy?.policyChoice, {
      $case: 'latest',
      value: { numVersions: 2 },
    });
    assert.deepEqual(parseModelConfigText('version_policy: { all {} }').versionPolicy?.policyChoice, { $case: 'all', value: {} });
    assert.deepEqual(parseModelConfigText('version_policy { specific { versions: [1, 3] } }').versionPolicy?.policyChoice, {
      $case: 'specific',
      value: { versions: [1n, 3n] },
    });
  });

  it('reads the execution accelerators and the transaction policy', () => {
    const config = parseModelConfigText(`
      optimization { execution_accelerators { gpu_execution_accelerator [ { name: "webgpu" } ] } }
      model_transaction_policy { decoupled: true }
    `);
    assert.equal(config.optimization?.executionAccelerators?.gpuExecutionAccelerator[0]?.name, 'webgpu');
    assert.equal(config.modelTransactionPolicy?.decoupled, true);
  });

  it('keeps a negative max_batch_size for validation to reject', () => {
    assert.equal(parseModelConfigText('max_batch_size: -3').maxBatchSize, -3);
  });

  describe('errors', () => {
    it('names an unknown field', () => {
      assert.throws(() => parseModelConfigText('name: "m"\nfoo: 1\n'), /unknown field "foo"/);
    });

    it('names an unknown enum value', () => {
      assert.throws(() => parseModelConfigText('input { name: "a" data_type: TYPE_NOPE }'), /TYPE_NOPE/);
    });

    it('rejects a value of the wrong type', () => {
      assert.throws(() => parseModelConfigText('max_batch_size: "eight"'), /expected an integer/);
      assert.throws(() => parseModelConfigText('name: 12'), Error);
    });

    it('rejects two members of a oneof', () => {
      assert.throws(() => parseModelConfigText('version_policy { all {} latest {} }'), /policy_choice/);
    });

    it('rejects a non-repeated field given twice', () => {
      assert.throws(() => parseModelConfigText('name: "a" name: "b"'), /"name"/);
    });

    it('rejects broken syntax', () => {
      assert.throws(() => parseModelConfigText('input [ { name: "a" '), Error);
      assert.throws(() => parseModelConfigText('name "a"'), Error);
    });

    it('says on which line a value had the wrong type', () => {
      assert.throws(() => parseModelConfigText('name: "m"\n# a comment\nmax_batch_size: "eight"\n'), {
        message: 'line 3: expected an integer, got a string',
      });
      assert.throws(() => parseModelConfigText('input [\n  {\n    name: "a"\n    dims: [ x ]\n  }\n]'), { message: /^line 4: / });
    });
  });
});
