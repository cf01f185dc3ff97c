import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataType as ProtocolDataType } from '../../../src/core/data-type.js';
import {
  DataType,
  ModelConfig,
  ModelDynamicBatching,
  ModelEnsembling,
  ModelInstanceGroup_Kind as Kind,
  ModelSequenceBatching,
} from '../../../src/generated/model_config.js';
import type { OnnxMetadata, OnnxTensorInfo } from '../../../src/onnx/onnx-metadata.js';
import { ModelConfigError } from '../../../src/repository/config-error.js';
import { validateAgainstOnnx, validateModelConfig } from '../../../src/repository/validate-config.js';

type Partial = Parameters<typeof ModelConfig.fromPartial>[0];

/** A valid, normalized ONNX config like `simple`. */
function simple(overrides: Partial = {}): ModelConfig {
  return ModelConfig.fromPartial({
    name: 'simple',
    backend: 'onnxruntime',
    platform: 'onnxruntime_onnx',
    maxBatchSize: 8,
    input: [
      { name: 'INPUT0', dataType: DataType.TYPE_INT32, dims: [16n] },
      { name: 'INPUT1', dataType: DataType.TYPE_INT32, dims: [16n] },
    ],
    output: [
      { name: 'OUTPUT0', dataType: DataType.TYPE_INT32, dims: [16n] },
      { name: 'OUTPUT1', dataType: DataType.TYPE_INT32, dims: [16n] },
    ],
    versionPolicy: { policyChoice: { $case: 'latest', value: { numVersions: 1 } } },
    instanceGroup: [{ name: 'simple_0', kind: Kind.KIND_CPU, count: 2 }],
    ...overrides,
  });
}

/** A valid identity-backend config. */
function identity(overrides: Partial = {}): ModelConfig {
  return ModelConfig.fromPartial({
    name: 'echo',
    backend: 'identity',
    maxBatchSize: 0,
    input: [{ name: 'IN', dataType: DataType.TYPE_STRING, dims: [-1n] }],
    output: [{ name: 'OUT', dataType: DataType.TYPE_STRING, dims: [-1n] }],
    instanceGroup: [{ name: 'echo_0', kind: Kind.KIND_CPU, count: 1 }],
    ...overrides,
  });
}

function rejects(config: ModelConfig, message: string): void {
  assert.throws(
    () => validateModelConfig(config),
    (err: unknown) => {
      assert.ok(err instanceof ModelConfigError, `expected ModelConfigError, got ${String(err)}`);
      assert.equal(err.message, message);
      return true;
    },
  );
}

const int32 = (name: string, dims: bigint[], extra: object = {}) => ({ name, dataType: DataType.TYPE_INT32, dims, ...extra });

describe('validateModelConfig', () => {
  it('accepts a valid ONNX config and a valid identity config', () => {
    assert.doesNotThrow(() => validateModelConfig(simple()));
    assert.doesNotThrow(() => validateModelConfig(identity()));
  });

  it('accepts dynamic batching with preferred sizes in range', () => {
    const batching = ModelDynamicBatching.fromPartial({ preferredBatchSize: [1, 8] });
    assert.doesNotThrow(() => validateModelConfig(simple({ schedulingChoice: { $case: 'dynamicBatching', value: batching } })));
  });

  it('rejects other platforms and backends', () => {
    rejects(
      simple({ platform: 'tensorflow_savedmodel', backend: 'tensorflow' }),
      "model 'simple': unsupported platform 'tensorflow_savedmodel' / backend 'tensorflow'; Nereid serves ONNX models " +
        '(platform "onnxruntime_onnx", backend "onnxruntime") and the "identity" and "repeat" backends',
    );
    rejects(
      simple({ platform: '' }),
      "model 'simple': unsupported platform '' / backend 'onnxruntime'; Nereid serves ONNX models " +
        '(platform "onnxruntime_onnx", backend "onnxruntime") and the "identity" and "repeat" backends',
    );
    rejects(
      identity({ platform: 'onnxruntime_onnx' }),
      "model 'echo': unsupported platform 'onnxruntime_onnx' / backend 'identity'; Nereid serves ONNX models " +
        '(platform "onnxruntime_onnx", backend "onnxruntime") and the "identity" and "repeat" backends',
    );
  });

  it('rejects a negative max_batch_size', () => {
    rejects(simple({ maxBatchSize: -1 }), "model 'simple': 'max_batch_size' must be non-negative value");
  });

  it('needs at least one input and one output', () => {
    rejects(simple({ input: [] }), "model 'simple': must specify at least one input");
    rejects(simple({ output: [] }), "model 'simple': must specify at least one output");
  });

  describe('inputs and outputs', () => {
    it('need a name', () => {
      rejects(simple({ input: [int32('', [16n])] }), "model 'simple': every input must have a name");
      rejects(simple({ output: [int32('', [16n])] }), "model 'simple': every output must have a name");
    });

    it('must not be declared twice', () => {
      rejects(simple({ input: [int32('A', [1n]), int32('A', [1n])] }), "model 'simple': input 'A' is declared twice");
    });

    it('need a valid data type, and not BF16', () => {
      rejects(simple({ input: [{ name: 'A', dims: [1n] }] }), "model 'simple': input 'A' must specify a valid 'data_type'");
      rejects(
        simple({ output: [{ name: 'B', dataType: DataType.TYPE_BF16, dims: [1n] }] }),
        "model 'simple': output 'B': TYPE_BF16 tensors are not supported by ONNX Runtime for Node.js",
      );
    });

    it('need dims', () => {
      rejects(simple({ input: [int32('A', [])] }), "model 'simple': input 'A' must specify 'dims'");
    });

    it('reject dims of 0 or below -1', () => {
      const message = "model 'simple': input 'A' dimension must be integer >= 1, or -1 to indicate a variable-size dimension";
      rejects(simple({ input: [int32('A', [0n])] }), message);
      rejects(simple({ input: [int32('A', [4n, -2n])] }), message);
    });

    it('reject a reshape with a different element count', () => {
      rejects(
        simple({ input: [int32('A', [4n], { reshape: { shape: [3n] } })] }),
        "model 'simple': input 'A' has different size for dims and reshape",
      );
    });

    it('accept a matching reshape, an empty reshape of [1], and any reshape with -1', () => {
      assert.doesNotThrow(() => validateModelConfig(simple({ input: [int32('A', [4n], { reshape: { shape: [2n, 2n] } })] })));
      assert.doesNotThrow(() => validateModelConfig(simple({ input: [int32('A', [1n], { reshape: { shape: [] } })] })));
      assert.doesNotThrow(() => validateModelConfig(simple({ input: [int32('A', [-1n], { reshape: { shape: [3n, 5n] } })] })));
    });
  });

  describe('scheduling', () => {
    it('accepts sequence batching (checked in sequence-config.test.ts) and rejects ensembles', () => {
      assert.doesNotThrow(() => validateModelConfig(simple({ schedulingChoice: { $case: 'sequenceBatching', value: ModelSequenceBatching.fromPartial({}) } })));
      rejects(
        simple({ schedulingChoice: { $case: 'ensembleScheduling', value: ModelEnsembling.fromPartial({}) } }),
        "model 'simple': ensemble_scheduling is not supported",
      );
    });

    it('accepts dynamic batching with max_batch_size 0 (scheduled FIFO), but not a preferred size above it', () => {
      assert.doesNotThrow(() => validateModelConfig(simple({ maxBatchSize: 0, schedulingChoice: { $case: 'dynamicBatching', value: ModelDynamicBatching.fromPartial({}) } })));
      rejects(
        simple({ maxBatchSize: 0, schedulingChoice: { $case: 'dynamicBatching', value: ModelDynamicBatching.fromPartial({ preferredBatchSize: [2] }) } }),
        "model 'simple': dynamic batching preferred size 2 must be between 1 and max_batch_size 0",
      );
    });

    it('needs preferred batch sizes between 1 and max_batch_size', () => {
      for (const size of [0, 9]) {
        rejects(
          simple({ schedulingChoice: { $case: 'dynamicBatching', value: ModelDynamicBatching.fromPartial({ preferredBatchSize: [2, size] }) } }),
          `model 'simple': dynamic batching preferred size ${size} must be between 1 and max_batch_size 8`,
        );
      }
    });

    it('rejects a decoupled transaction policy on an ONNX model: only the repeat backend sends several responses', () => {
      rejects(
        simple({ modelTransactionPolicy: { decoupled: true } }),
        `model 'simple': decoupled transaction policy needs a backend that sends several responses per request; of Nereid's backends only "repeat" does`,
      );
      assert.doesNotThrow(() => validateModelConfig(simple({ modelTransactionPolicy: { decoupled: false } })));
    });
  });

  describe('identity backend', () => {
    it('needs as many outputs as inputs', () => {
      rejects(
        identity({ output: [] }),
        "model 'echo': must specify at least one output",
      );
      rejects(
        identity({ input: [int32('A', [1n]), int32('B', [1n])], output: [int32('C', [1n])] }),
        "model 'echo': the identity backend needs as many outputs as inputs",
      );
    });

    it('pairs input i with output i: same data type and dims', () => {
      const message =
        "model 'echo': the identity backend pairs input 'A' with output 'C', so their data_type and dims must match";
      rejects(identity({ input: [int32('A', [2n])], output: [int32('C', [3n])] }), message);
      rejects(identity({ input: [int32('A', [2n])], output: [{ name: 'C', dataType: DataType.TYPE_FP32, dims: [2n] }] }), message);
    });

    it('runs on CPU only', () => {
      rejects(
        identity({ instanceGroup: [{ name: 'g', kind: Kind.KIND_GPU, count: 1, gpus: [0] }] }),
        "model 'echo': instance group 'g': the identity backend runs on CPU only (KIND_CPU)",
      );
    });
  });

  it('needs num_versions >= 1 for the latest policy', () => {
    rejects(
      simple({ versionPolicy: { policyChoice: { $case: 'latest', value: { numVersions: 0 } } } }),
      "model 'simple': version_policy latest must keep num_versions >= 1",
    );
  });

  describe('instance groups', () => {
    it('need count >= 1', () => {
      rejects(simple({ instanceGroup: [{ name: 'g', kind: Kind.KIND_CPU, count: 0 }] }), "model 'simple': instance group 'g' must specify 'count' >= 1");
    });

    it('must not list GPUs for KIND_CPU', () => {
      rejects(
        simple({ instanceGroup: [{ name: 'g', kind: Kind.KIND_CPU, count: 1, gpus: [0] }] }),
        "model 'simple': instance group 'g' has kind KIND_CPU but specifies one or more GPUs",
      );
    });

    it('reject KIND_MODEL', () => {
      rejects(simple({ instanceGroup: [{ name: 'g', kind: Kind.KIND_MODEL, count: 1 }] }), "model 'simple': instance group 'g': KIND_MODEL is not supported");
    });

    it('reject a negative GPU id', () => {
      rejects(
        simple({ instanceGroup: [{ name: 'g', kind: Kind.KIND_GPU, count: 1, gpus: [0, -1] }] }),
        "model 'simple': instance group 'g' lists a negative GPU id",
      );
    });
  });
});

const ELEM: Record<string, number> = { FP32: 1, INT32: 6, BYTES: 8 };
const t = (name: string, datatype: ProtocolDataType | undefined, dims: number[] | undefined, elemType?: number): OnnxTensorInfo => ({
  name,
  datatype,
  dims,
  elemType: elemType ?? ELEM[datatype ?? ''] ?? 0,
});
const graph = (inputs: readonly OnnxTensorInfo[], outputs: readonly OnnxTensorInfo[]): OnnxMetadata => ({ irVersion: 8, opsetVersion: 17, inputs, outputs });

/** The graph behind `simple`. */
const SIMPLE_GRAPH = graph(
  [t('INPUT0', 'INT32', [-1, 16]), t('INPUT1', 'INT32', [-1, 16])],
  [t('OUTPUT0', 'INT32', [-1, 16]), t('OUTPUT1', 'INT32', [-1, 16])],
);

function mismatch(config: ModelConfig, onnx: OnnxMetadata, message: string): void {
  assert.throws(
    () => validateAgainstOnnx(config, onnx),
    (err: unknown) => {
      assert.ok(err instanceof ModelConfigError);
      assert.equal(err.message, message);
      return true;
    },
  );
}

describe('validateAgainstOnnx', () => {
  it('accepts a config that describes the graph', () => {
    assert.doesNotThrow(() => validateAgainstOnnx(simple(), SIMPLE_GRAPH));
  });

  it('accepts a config that leaves out some graph outputs', () => {
    assert.doesNotThrow(() => validateAgainstOnnx(simple({ output: [int32('OUTPUT1', [16n])] }), SIMPLE_GRAPH));
  });

  it('accepts fixed config dims where the graph has symbolic dims', () => {
    const onnx = graph([t('INPUT0', 'INT32', [-1, -1]), t('INPUT1', 'INT32', [-1, 16])], SIMPLE_GRAPH.outputs);
    assert.doesNotThrow(() => validateAgainstOnnx(simple(), onnx));
  });

  it('skips the shape check when the graph declares no shape', () => {
    const onnx = graph([t('INPUT0', 'INT32', undefined), t('INPUT1', 'INT32', [-1, 16])], SIMPLE_GRAPH.outputs);
    assert.doesNotThrow(() => validateAgainstOnnx(simple(), onnx));
  });

  it('compares the reshape, not the dims, with the graph', () => {
    const config = simple({ input: [int32('S', [1n], { reshape: { shape: [] } })], output: [int32('O', [4n], { reshape: { shape: [2n, 2n] } })] });
    assert.doesNotThrow(() => validateAgainstOnnx(config, graph([t('S', 'INT32', [-1])], [t('O', 'INT32', [-1, 2, 2])])));
  });

  it('rejects a configured input or output the graph lacks', () => {
    mismatch(
      simple({ input: [int32('INPUT0', [16n]), int32('INPUT9', [16n])] }),
      SIMPLE_GRAPH,
      "model 'simple': configuration lists input 'INPUT9', but the ONNX model's inputs are [INPUT0, INPUT1]",
    );
    mismatch(
      simple({ output: [int32('OUT', [16n])] }),
      SIMPLE_GRAPH,
      "model 'simple': configuration lists output 'OUT', but the ONNX model's outputs are [OUTPUT0, OUTPUT1]",
    );
  });

  it('rejects a graph input missing from the config', () => {
    mismatch(simple({ input: [int32('INPUT0', [16n])] }), SIMPLE_GRAPH, "model 'simple': ONNX model input 'INPUT1' is missing from the configuration");
  });

  it('rejects a data type that differs from the graph', () => {
    mismatch(
      simple({ input: [{ name: 'INPUT0', dataType: DataType.TYPE_FP32, dims: [16n] }, int32('INPUT1', [16n])] }),
      SIMPLE_GRAPH,
      "model 'simple': input 'INPUT0': configuration says TYPE_FP32 but the ONNX model declares TYPE_INT32",
    );
    mismatch(
      simple({ output: [int32('OUTPUT0', [16n])] }),
      graph(SIMPLE_GRAPH.inputs, [t('OUTPUT0', 'BYTES', [-1, 16])]),
      "model 'simple': output 'OUTPUT0': configuration says TYPE_INT32 but the ONNX model declares TYPE_STRING",
    );
    mismatch(
      simple({ output: [int32('OUTPUT0', [16n])] }),
      graph(SIMPLE_GRAPH.inputs, [t('OUTPUT0', undefined, [-1, 16], 14)]),
      "model 'simple': output 'OUTPUT0': configuration says TYPE_INT32 but the ONNX model declares ONNX element type 14",
    );
  });

  it('rejects batching when the graph has a fixed first dim', () => {
    mismatch(
      simple(),
      graph([t('INPUT0', 'INT32', [1, 16]), t('INPUT1', 'INT32', [-1, 16])], SIMPLE_GRAPH.outputs),
      "model 'simple': input 'INPUT0': max_batch_size is 8 but the ONNX model's shape [1,16] has no variable first dim, so it cannot batch",
    );
  });

  it('rejects dims that differ from the graph, printing the batch dim as -1', () => {
    mismatch(
      simple({ input: [int32('INPUT0', [8n]), int32('INPUT1', [16n])] }),
      SIMPLE_GRAPH,
      "model 'simple': input 'INPUT0': configuration shape [-1,8] does not match the ONNX model's [-1,16]",
    );
  });

  it('rejects a rank that differs from the graph', () => {
    mismatch(
      simple({ maxBatchSize: 0, input: [int32('INPUT0', [-1n, 16n]), int32('INPUT1', [16n])] }),
      SIMPLE_GRAPH,
      "model 'simple': input 'INPUT1': configuration shape [16] does not match the ONNX model's [-1,16]",
    );
  });

  it('rejects a variable config dim where the graph has a fixed one', () => {
    mismatch(
      simple({ input: [int32('INPUT0', [-1n]), int32('INPUT1', [16n])] }),
      SIMPLE_GRAPH,
      "model 'simple': input 'INPUT0': configuration shape [-1,-1] does not match the ONNX model's [-1,16]",
    );
  });

  it(
    'explains a batching config for a scalar graph tensor without printing "undefined"',
    () => {
      assert.throws(
        () => validateAgainstOnnx(simple({ input: [int32('S', [1n], { reshape: { shape: [] } })], output: [] }), graph([t('S', 'INT32', [])], [])),
        (err: unknown) => err instanceof ModelConfigError && !err.message.includes('undefined'),
      );
    },
  );
});
