import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataType as ProtocolDataType } from '../../../src/core/data-type.js';
import { DataType, ModelConfig, ModelDynamicBatching, ModelSequenceBatching } from '../../../src/generated/model_config.js';
import type { OnnxMetadata, OnnxTensorInfo } from '../../../src/onnx/onnx-metadata.js';
import { completeBackendFields, completeFromOnnx } from '../../../src/repository/auto-complete.js';
import { ModelConfigError } from '../../../src/repository/config-error.js';

const ELEM: Record<string, number> = { FP32: 1, INT32: 6, INT64: 7, BYTES: 8, BOOL: 9 };

function t(name: string, datatype: ProtocolDataType | undefined, dims: number[] | undefined, elemType?: number): OnnxTensorInfo {
  return { name, datatype, dims, elemType: elemType ?? ELEM[datatype ?? ''] ?? 0 };
}

function onnx(inputs: OnnxTensorInfo[], outputs: OnnxTensorInfo[]): OnnxMetadata {
  return { irVersion: 8, opsetVersion: 17, inputs, outputs };
}

/** A graph with a variable first dim everywhere. */
const BATCHABLE = onnx([t('INPUT0', 'INT32', [-1, 16]), t('INPUT1', 'INT32', [-1, 16])], [t('OUTPUT0', 'FP32', [-1, 16])]);
/** Fixed first dim: cannot batch. */
const FIXED = onnx([t('X', 'FP32', [2, 3])], [t('Y', 'FP32', [2, 3])]);

const config = (partial: Parameters<typeof ModelConfig.fromPartial>[0] = {}) => ModelConfig.fromPartial({ name: 'm', ...partial });

describe('completeBackendFields', () => {
  it('defaults the name to the directory name', () => {
    assert.equal(completeBackendFields(ModelConfig.fromPartial({}), 'dir', false).name, 'dir');
    assert.equal(completeBackendFields(ModelConfig.fromPartial({ name: 'given' }), 'dir', false).name, 'given');
  });

  it('fills the ONNX fields when a model.onnx exists and nothing is set', () => {
    const c = completeBackendFields(ModelConfig.fromPartial({}), 'dir', true);
    assert.deepEqual([c.backend, c.platform, c.defaultModelFilename], ['onnxruntime', 'onnxruntime_onnx', 'model.onnx']);
  });

  it('fills the ONNX fields from the platform alone', () => {
    const c = completeBackendFields(ModelConfig.fromPartial({ platform: 'onnxruntime_onnx' }), 'dir', false);
    assert.deepEqual([c.backend, c.platform, c.defaultModelFilename], ['onnxruntime', 'onnxruntime_onnx', 'model.onnx']);
  });

  it('fills the ONNX fields from the backend or the default file name', () => {
    const byBackend = completeBackendFields(ModelConfig.fromPartial({ backend: 'onnxruntime' }), 'dir', false);
    assert.equal(byBackend.platform, 'onnxruntime_onnx');
    const byFile = completeBackendFields(ModelConfig.fromPartial({ defaultModelFilename: 'model.onnx' }), 'dir', false);
    assert.deepEqual([byFile.backend, byFile.platform], ['onnxruntime', 'onnxruntime_onnx']);
  });

  it('keeps a custom model file name', () => {
    const c = completeBackendFields(ModelConfig.fromPartial({ backend: 'onnxruntime', defaultModelFilename: 'net.onnx' }), 'dir', false);
    assert.equal(c.defaultModelFilename, 'net.onnx');
  });

  it('leaves other backends alone, even with an ONNX file on disk', () => {
    const c = completeBackendFields(ModelConfig.fromPartial({ backend: 'identity' }), 'dir', true);
    assert.deepEqual([c.backend, c.platform, c.defaultModelFilename], ['identity', '', '']);
    const none = completeBackendFields(ModelConfig.fromPartial({}), 'dir', false);
    assert.deepEqual([none.backend, none.platform], ['', '']);
  });

  it('mutates and returns the same object', () => {
    const c = ModelConfig.fromPartial({});
    assert.equal(completeBackendFields(c, 'dir', true), c);
  });
});

describe('completeFromOnnx', () => {
  it('does nothing when the config lists inputs and outputs', () => {
    const c = config({
      maxBatchSize: 0,
      input: [{ name: 'A', dataType: DataType.TYPE_FP32, dims: [3n] }],
      output: [{ name: 'B', dataType: DataType.TYPE_FP32, dims: [3n] }],
    });
    const before = ModelConfig.toJSON(c);
    assert.deepEqual(completeFromOnnx(c, BATCHABLE, 4), []);
    assert.deepEqual(ModelConfig.toJSON(c), before);
  });

  it('gives a batchable model the default max batch size, with a warning, and dynamic batching', () => {
    const c = config();
    const warnings = completeFromOnnx(c, BATCHABLE, 4);
    assert.equal(c.maxBatchSize, 4);
    assert.deepEqual(warnings, [
      "autofilled max_batch_size to 4 for model 'm' since batching is supported but no max_batch_size is specified in " +
        'model configuration. Must specify max_batch_size to utilize autofill with a larger max batch size',
    ]);
    assert.equal(c.schedulingChoice?.$case, 'dynamicBatching');
  });

  it('fills inputs and outputs without the batch dim when batching', () => {
    const c = config();
    completeFromOnnx(c, BATCHABLE, 4);
    assert.deepEqual(
      c.input.map((i) => [i.name, i.dataType, i.dims, i.reshape]),
      [
        ['INPUT0', DataType.TYPE_INT32, [16n], undefined],
        ['INPUT1', DataType.TYPE_INT32, [16n], undefined],
      ],
    );
    assert.deepEqual(
      c.output.map((o) => [o.name, o.dataType, o.dims]),
      [['OUTPUT0', DataType.TYPE_FP32, [16n]]],
    );
  });

  it('keeps a max_batch_size the config sets, without a warning', () => {
    const c = config({ maxBatchSize: 8 });
    assert.deepEqual(completeFromOnnx(c, BATCHABLE, 4), []);
    assert.equal(c.maxBatchSize, 8);
    assert.equal(c.schedulingChoice?.$case, 'dynamicBatching');
  });

  it('adds no dynamic batching when max_batch_size is 1', () => {
    const c = config();
    completeFromOnnx(c, BATCHABLE, 1);
    assert.equal(c.maxBatchSize, 1);
    assert.equal(c.schedulingChoice, undefined);
  });

  it('keeps a scheduler the config already chose', () => {
    const c = config({
      maxBatchSize: 8,
      schedulingChoice: { $case: 'dynamicBatching', value: ModelDynamicBatching.fromPartial({ preferredBatchSize: [2] }) },
    });
    completeFromOnnx(c, BATCHABLE, 4);
    assert.equal(c.schedulingChoice?.$case, 'dynamicBatching');
    assert.deepEqual(c.schedulingChoice.value.preferredBatchSize, [2]);
    const seq = config({ maxBatchSize: 8, schedulingChoice: { $case: 'sequenceBatching', value: ModelSequenceBatching.fromPartial({}) } });
    completeFromOnnx(seq, BATCHABLE, 4);
    assert.equal(seq.schedulingChoice?.$case, 'sequenceBatching');
  });

  it('leaves a model that cannot batch at max_batch_size 0, with its full dims', () => {
    const c = config();
    assert.deepEqual(completeFromOnnx(c, FIXED, 4), []);
    assert.equal(c.maxBatchSize, 0);
    assert.equal(c.schedulingChoice, undefined);
    assert.deepEqual(c.input[0]!.dims, [2n, 3n]);
    assert.deepEqual(c.output[0]!.dims, [2n, 3n]);
  });

  it('rejects a non-zero max_batch_size for a model that cannot batch', () => {
    const c = config({ maxBatchSize: 2 });
    assert.throws(
      () => completeFromOnnx(c, FIXED, 4),
      (err: unknown) => {
        assert.ok(err instanceof ModelConfigError);
        assert.equal(
          err.message,
          "autofill failed for model 'm': model does not support batching while non-zero max_batch_size is specified",
        );
        return true;
      },
    );
  });

  it('needs a variable first dim on every input and output to batch', () => {
    const mixed = onnx([t('A', 'FP32', [-1, 3])], [t('B', 'FP32', [1, 3])]);
    const c = config();
    completeFromOnnx(c, mixed, 4);
    assert.equal(c.maxBatchSize, 0);
    const scalarInput = onnx([t('A', 'FP32', [])], [t('B', 'FP32', [-1])]);
    const s = config();
    completeFromOnnx(s, scalarInput, 4);
    assert.equal(s.maxBatchSize, 0);
  });

  it('declares a per-item scalar as dims [1] with an empty reshape when batching', () => {
    const c = config();
    completeFromOnnx(c, onnx([t('S', 'INT64', [-1])], [t('O', 'FP32', [-1, 2])]), 4);
    const input = c.input[0]!;
    assert.deepEqual(input.dims, [1n]);
    assert.ok(input.reshape !== undefined);
    assert.deepEqual(input.reshape.shape, []);
    assert.equal(c.output[0]!.reshape, undefined);
  });

  it('declares a scalar as dims [1] without reshape when not batching', () => {
    const c = config();
    completeFromOnnx(c, onnx([t('S', 'FP32', [])], [t('O', 'FP32', [])]), 4);
    assert.deepEqual(c.input[0]!.dims, [1n]);
    assert.equal(c.input[0]!.reshape, undefined);
  });

  it('fills only the missing side', () => {
    const c = config({ maxBatchSize: 4, output: [{ name: 'OUTPUT0', dataType: DataType.TYPE_FP32, dims: [16n] }] });
    completeFromOnnx(c, BATCHABLE, 4);
    assert.deepEqual(
      c.input.map((i) => i.name),
      ['INPUT0', 'INPUT1'],
    );
    assert.equal(c.output.length, 1);
  });

  it('maps BYTES to TYPE_STRING', () => {
    const c = config();
    completeFromOnnx(c, onnx([t('T', 'BYTES', [-1, -1])], [t('U', 'BYTES', [-1, -1])]), 4);
    assert.equal(c.input[0]!.dataType, DataType.TYPE_STRING);
    assert.deepEqual(c.input[0]!.dims, [-1n]);
  });

  it('rejects an ONNX type that has no Triton data type', () => {
    const c = config();
    assert.throws(
      () => completeFromOnnx(c, onnx([t('C', undefined, [2], 14)], [t('O', 'FP32', [2])]), 4),
      new ModelConfigError("autofill failed for model 'm': tensor 'C' has ONNX element type 14, which has no Triton data type"),
    );
  });

  it('rejects a graph tensor without a shape', () => {
    const c = config();
    assert.throws(
      () => completeFromOnnx(c, onnx([t('A', 'FP32', [3])], [t('O', 'FP32', undefined)]), 4),
      new ModelConfigError("autofill failed for model 'm': the ONNX graph declares no shape for 'O'; list it in config.pbtxt"),
    );
  });
});
