import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DataType, ModelConfig } from '../../../src/generated/model_config.js';
import { ModelConfigError } from '../../../src/repository/config-error.js';
import { readPrecisionConfig, variantBuildJob } from '../../../src/repository/precision-config.js';

type Partial = Parameters<typeof ModelConfig.fromPartial>[0];
const params = (entries: Record<string, string>) => Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, { stringValue: v }]));

function config(parameters: Record<string, string>, overrides: Partial = {}): ModelConfig {
  return ModelConfig.fromPartial({
    name: 'm',
    backend: 'onnxruntime',
    platform: 'onnxruntime_onnx',
    maxBatchSize: 8,
    input: [{ name: 'x', dataType: DataType.TYPE_FP32, dims: [3, 48, -1] }],
    output: [{ name: 'y', dataType: DataType.TYPE_FP32, dims: [2] }],
    parameters: params(parameters),
    ...overrides,
  });
}

function rejects(c: ModelConfig, message: string | RegExp): void {
  assert.throws(
    () => readPrecisionConfig(c, '/repo/m'),
    (err: unknown) => {
      assert.ok(err instanceof ModelConfigError);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

describe('readPrecisionConfig', () => {
  it('is undefined (fp32 only) without precision_variants, or with fp32 alone', () => {
    assert.equal(readPrecisionConfig(config({}), '/repo/m'), undefined);
    assert.equal(readPrecisionConfig(config({ precision_variants: 'fp32' }), '/repo/m'), undefined);
  });

  it('reads every setting, with the defaults filled in', () => {
    const settings = readPrecisionConfig(config({ precision_variants: 'int8, fp32', sample_dims: '3,48,320' }), '/repo/m')!;
    assert.deepEqual(settings.variants, ['fp32', 'int8']);
    assert.equal(settings.defaultPrecision, 'fp32');
    assert.equal(settings.int8Mode, 'dynamic');
    assert.equal(settings.int8Format, 'auto', 'the format follows the CPU unless set');
    assert.equal(settings.int8Activations, 'uint8');
    assert.equal(settings.calibrationMethod, 'minmax');
    assert.deepEqual(settings.calibration, { kind: 'generated', batches: 8, seed: 1000 });
    assert.deepEqual(settings.validation, { kind: 'generated', batches: 8, seed: 2000 });
    assert.deepEqual(settings.generatedInputs, [{ name: 'x', dims: [4, 3, 48, 320] }]);
    assert.deepEqual(settings.generatedRange, [0, 1]);
    assert.equal(settings.maxRelativeError, 0.05);
    assert.equal(settings.minTop1Agreement, 0.99);
    assert.equal(settings.classifierOutputs, undefined);
  });

  it('resolves sample folders against the model directory; validation defaults to the calibration folder', () => {
    const settings = readPrecisionConfig(config({ precision_variants: 'fp32,int8', int8_mode: 'static', calibration: 'calibration' }), '/repo/m')!;
    assert.deepEqual(settings.calibration, { kind: 'directory', path: path.resolve('/repo/m/calibration') });
    assert.deepEqual(settings.validation, settings.calibration);
    assert.deepEqual(settings.generatedInputs, [], 'nothing is generated, so variable dims need no sample_dims');
    const separate = readPrecisionConfig(config({ precision_variants: 'fp32,int8', calibration: 'cal', validation: '/data/val', sample_dims: 'x:3,48,100' }), '/repo/m')!;
    assert.deepEqual(separate.validation, { kind: 'directory', path: '/data/val' });
  });

  it('refuses values it cannot use, naming the parameter', () => {
    rejects(config({ precision_variants: 'fp32,bf16' }), "model 'm': parameter 'precision_variants' names 'bf16'; use fp32, fp16, int8");
    rejects(config({ precision_variants: 'fp16,int8' }), "model 'm': parameter 'precision_variants' must include fp32: every other precision is measured against it");
    rejects(config({ precision_variants: 'fp32,fp16', default_precision: 'int8' }), "model 'm': parameter 'default_precision' is 'int8'; it must be one of precision_variants (fp32, fp16)");
    rejects(config({ precision_variants: 'fp32,int8', int8_mode: 'qat', sample_dims: '3,48,8' }), "model 'm': parameter 'int8_mode' is 'qat'; use dynamic or static");
    rejects(config({ precision_variants: 'fp32,int8', int8_format: 's8s8', sample_dims: '3,48,8' }), "model 'm': parameter 'int8_format' is 's8s8'; use auto or u8s8 or u8s8_reduce_range or u8u8");
    rejects(
      config({ precision_variants: 'fp32,int8', int8_format: 'u8u8', int8_activations: 'int8', sample_dims: '3,48,8' }),
      "model 'm': parameter 'int8_format' is 'u8u8', which needs uint8 activations, but 'int8_activations' is 'int8'",
    );
    rejects(config({ precision_variants: 'fp32,int8', max_relative_error: 'small', sample_dims: '3,48,8' }), "model 'm': parameter 'max_relative_error' is 'small'; it must be a number from 0 to 1000000000");
    rejects(config({ precision_variants: 'fp32,int8', min_top1_agreement: '1.5', sample_dims: '3,48,8' }), "model 'm': parameter 'min_top1_agreement' is '1.5'; it must be a number from 0 to 1");
    rejects(config({ precision_variants: 'fp32,int8', sample_range: '1,0', sample_dims: '3,48,8' }), "model 'm': parameter 'sample_range' is '1,0'; give 'low,high' with low < high");
    rejects(config({ precision_variants: 'fp32,int8', classifier_outputs: 'z', sample_dims: '3,48,8' }), "model 'm': parameter 'classifier_outputs' names 'z', which is not an output of the model");
    rejects(config({ precision_variants: 'fp32,int8', calibration_batches: '0', sample_dims: '3,48,8' }), "model 'm': parameter 'calibration_batches' is '0'; it must be an integer from 1 to 1024");
    rejects(config({ precision_variants: 'fp32,fp16' }, { backend: 'identity' }), "model 'm': precision variants need the onnxruntime backend, not 'identity'");
  });

  it('needs concrete sample dims and FP32 inputs to generate samples', () => {
    rejects(config({ precision_variants: 'fp32,int8' }), "model 'm': input 'x' has dims [3,48,-1]; set 'sample_dims' to concrete dims that fit them to generate samples");
    rejects(config({ precision_variants: 'fp32,int8', sample_dims: '3,32,100' }), /input 'x' has dims \[3,48,-1\]/);
    rejects(
      config({ precision_variants: 'fp32,int8' }, { input: [{ name: 'ids', dataType: DataType.TYPE_INT64, dims: [16] }] }),
      "model 'm': input 'ids' is not TYPE_FP32, so calibration and validation inputs cannot be generated; set 'calibration' to a folder of samples",
    );
    rejects(
      config({ precision_variants: 'fp32,int8', sample_dims: '4' }, { input: [{ name: 'a', dataType: DataType.TYPE_FP32, dims: [4] }, { name: 'b', dataType: DataType.TYPE_FP32, dims: [-1] }] }),
      "model 'm': parameter 'sample_dims' must name each input ('input:d1,d2;...') for a model with several inputs",
    );
    const two = readPrecisionConfig(
      config({ precision_variants: 'fp32,int8', sample_dims: 'b:7' }, { maxBatchSize: 0, input: [{ name: 'a', dataType: DataType.TYPE_FP32, dims: [4] }, { name: 'b', dataType: DataType.TYPE_FP32, dims: [-1] }] }),
      '/repo/m',
    )!;
    assert.deepEqual(two.generatedInputs, [{ name: 'a', dims: [4] }, { name: 'b', dims: [7] }]);
  });
});

describe('variantBuildJob', () => {
  it('builds beside the model, leaves int8 out on GPU instances, and adds fp16-io for FP32 inputs', () => {
    const c = config({ precision_variants: 'fp32,fp16,int8', sample_dims: '3,48,64' });
    const settings = readPrecisionConfig(c, '/repo/m')!;
    const cpu = variantBuildJob(c, settings, 3, '/repo/m/3/model.onnx', 2, false);
    assert.equal(cpu.cacheDir, '/repo/m/3/.nereid-variants');
    assert.deepEqual(cpu.precisions, ['fp16', 'int8']);
    assert.equal(cpu.fp16Io, true);
    assert.equal(cpu.threads, 2);
    assert.equal(cpu.int8Format, 'auto');
    for (const format of ['u8s8', 'u8s8_reduce_range', 'u8u8']) {
      const forced = config({ precision_variants: 'fp32,int8', sample_dims: '3,48,64', int8_format: format });
      assert.equal(variantBuildJob(forced, readPrecisionConfig(forced, '/repo/m')!, 3, '/repo/m/3/model.onnx', 2, false).int8Format, format);
    }
    assert.deepEqual(variantBuildJob(c, settings, 3, '/repo/m/3/model.onnx', 2, true).precisions, ['fp16']);
  });
});
