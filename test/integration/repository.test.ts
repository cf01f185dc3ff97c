import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { EXAMPLE_REPOSITORY, scratchDirectory, testRepository } from '../helpers/fixtures.js';
import { startTestServer, testConfig, testLogging, type TestServer } from '../helpers/test-server.js';
import { float32Bytes, readFloat32 } from '../helpers/tensors.js';
import { NereidServer, StartupError } from '../../src/server.js';

/** Models that cannot be served, each for its own reason, next to one good model. */
async function mixedRepository(): Promise<string> {
  const dir = scratchDirectory('mixed');
  const add = (name: string, config: string | undefined, onnx: string | undefined) => {
    mkdirSync(path.join(dir, name, '1'), { recursive: true });
    if (config !== undefined) writeFileSync(path.join(dir, name, 'config.pbtxt'), config);
    if (onnx !== undefined) copyFileSync(onnx, path.join(dir, name, '1', 'model.onnx'));
  };
  const simple = path.join(EXAMPLE_REPOSITORY, 'simple', '1', 'model.onnx');
  const batchable = path.join(await testRepository(), 'add_fp32_batch_noconfig', '1', 'model.onnx');
  add('good', undefined, batchable);
  add('on_gpu', 'instance_group [ { kind: KIND_GPU } ]', batchable);
  add('bad_syntax', 'max_batch_size: [', simple);
  add('wrong_type', 'max_batch_size: 8\ninput [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]\noutput [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] } ]', simple);
  add('no_file', 'platform: "onnxruntime_onnx"\nmax_batch_size: 0\ninput [ { name: "A" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: "B" data_type: TYPE_FP32 dims: [ 1 ] } ]', undefined);
  return dir;
}

const GPU_REASON = /^model 'on_gpu': instance group 'on_gpu_0' needs the cuda execution provider: the CUDA execution provider libraries are not installed \(.*libonnxruntime_providers_cuda\.so is missing\); reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12/;

describe('model repository: auto-complete and models that fail to load', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer([await testRepository(), await mixedRepository()], {
      flags: ['--strict-readiness', 'false'],
      // This machine's real inventory, plus a GPU the CUDA libraries are missing for.
      devices: { cpuCores: 2, cpu: { arch: 'x64', model: 'test', int8: ['avx2'], known: true }, gpuIds: [0], providers: { cpu: { available: true }, cuda: { available: false, reason: 'the CUDA execution provider libraries are not installed (/x/libonnxruntime_providers_cuda.so is missing); reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12, on a machine with CUDA 12 and cuDNN 9' }, webgpu: { available: false, reason: 'no Vulkan' } } },
    });
  });
  after(async () => {
    await t.stop();
  });

  it('completes a config-less batchable model from its ONNX graph', async () => {
    const { config } = await t.client.call<{ config: Record<string, any> }>('ModelConfig', { name: 'add_fp32_batch_noconfig' });
    assert.equal(config['max_batch_size'], 4);
    assert.equal(config['platform'], 'onnxruntime_onnx');
    assert.deepEqual(config['input'].map((i: any) => [i.name, i.data_type, i.dims]), [
      ['A', 'TYPE_FP32', [3]],
      ['B', 'TYPE_FP32', [3]],
    ]);
    assert.deepEqual(config['output'].map((i: any) => [i.name, i.data_type, i.dims]), [['C', 'TYPE_FP32', [3]]]);
    assert.deepEqual(config['dynamic_batching']['preferred_batch_size'], [4]);
    const answer = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: 'add_fp32_batch_noconfig',
      inputs: [
        { name: 'A', datatype: 'FP32', shape: [2, 3] },
        { name: 'B', datatype: 'FP32', shape: [2, 3] },
      ],
      raw_input_contents: [float32Bytes([1, 2, 3, 4, 5, 6]), float32Bytes([10, 20, 30, 40, 50, 60])],
    });
    assert.deepEqual(readFloat32(answer.raw_output_contents[0]!), [11, 22, 33, 44, 55, 66]);
  });

  it('completes a config-less fixed-shape model with max_batch_size 0', async () => {
    const { config } = await t.client.call<{ config: Record<string, any> }>('ModelConfig', { name: 'add_fp32_nobatch_noconfig' });
    assert.equal(config['max_batch_size'], 0);
    assert.deepEqual(config['input'][0].dims, [2, 3]);
    assert.equal(config['dynamic_batching'] ?? null, null);
    const metadata = await t.client.call<{ inputs: { shape: number[] }[] }>('ModelMetadata', { name: 'add_fp32_nobatch_noconfig' });
    assert.deepEqual(metadata.inputs[0]!.shape, [2, 3]);
  });

  it('a KIND_GPU model without CUDA libraries is unavailable with that reason; the rest serve', async () => {
    assert.deepEqual(await t.client.call('ModelReady', { name: 'on_gpu' }), { ready: false });
    const row = t.server.registry.index().find((r) => r.name === 'on_gpu')!;
    assert.equal(row.state, 'UNAVAILABLE');
    assert.match(row.reason, GPU_REASON);
    assert.deepEqual(await t.client.call('ModelReady', { name: 'good' }), { ready: true });
  });

  it('reports each broken model with a reason that names the problem', async () => {
    const reason = (name: string) => t.server.registry.index().find((r) => r.name === name)!.reason;
    assert.match(reason('bad_syntax'), /^model 'bad_syntax': failed to parse config\.pbtxt: /);
    assert.equal(reason('wrong_type'), "model 'wrong_type': input 'INPUT0': configuration says TYPE_FP32 but the ONNX model declares TYPE_INT32");
    assert.match(reason('no_file'), /^model 'no_file': model file '.*no_file\/1\/model\.onnx' does not exist$/);
    await assertGrpcError(
      t.client.call('ModelInfer', { model_name: 'wrong_type', model_version: '1' }),
      status.UNAVAILABLE,
      "Request for unknown model: 'wrong_type' version 1 is not at ready state",
    );
  });

  it('ServerReady is false under --strict-readiness while a model is unavailable', async () => {
    const strict = await startTestServer([await mixedRepository()], {
      devices: { cpuCores: 2, cpu: { arch: 'x64', model: 'test', int8: ['avx2'], known: true }, gpuIds: [], providers: { cpu: { available: true }, cuda: { available: false, reason: 'x' }, webgpu: { available: false, reason: 'y' } } },
    });
    try {
      assert.deepEqual(await strict.client.call('ServerReady', {}), { ready: false });
      assert.deepEqual(await strict.client.healthCheck(''), { status: 'NOT_SERVING' });
      assert.deepEqual(await strict.client.healthCheck('good'), { status: 'SERVING' });
    } finally {
      await strict.stop();
    }
  });

  it('start-up fails when no model loads, or any fails with --exit-on-error', async () => {
    const { logger, settings: logControl } = testLogging();
    const broken = scratchDirectory('only-broken');
    mkdirSync(path.join(broken, 'bad', '1'), { recursive: true });
    writeFileSync(path.join(broken, 'bad', 'config.pbtxt'), 'max_batch_size: -3');
    await assert.rejects(NereidServer.start(testConfig([broken]), { logger, logControl }), (err: Error) => {
      assert.ok(err instanceof StartupError);
      assert.match(err.message, /^no model could be loaded: /);
      return true;
    });
    await assert.rejects(NereidServer.start(testConfig([await mixedRepository()], ['--exit-on-error']), { logger, logControl }), /^StartupError: --exit-on-error: /);
  });
});
