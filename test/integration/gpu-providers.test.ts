import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EXAMPLE_REPOSITORY, scratchDirectory } from '../helpers/fixtures.js';
import { startTestServer } from '../helpers/test-server.js';
import { probeDevices } from '../../src/backend/device-probe.js';

/** `simple` three times: on CPU, on KIND_GPU with CUDA, and on KIND_GPU with WebGPU. */
function gpuRepository(): string {
  const dir = scratchDirectory('gpu');
  const add = (name: string, extra: string) => {
    mkdirSync(path.join(dir, name, '1'), { recursive: true });
    copyFileSync(path.join(EXAMPLE_REPOSITORY, 'simple', '1', 'model.onnx'), path.join(dir, name, '1', 'model.onnx'));
    writeFileSync(path.join(dir, name, 'config.pbtxt'), `name: "${name}"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 8\n${extra}\n`);
  };
  add('on_cpu', 'instance_group [ { kind: KIND_CPU count: 1 } ]');
  add('on_cuda', 'instance_group [ { kind: KIND_GPU count: 2 } ]');
  add('on_webgpu', 'instance_group [ { kind: KIND_GPU count: 2 } ]\noptimization { execution_accelerators { gpu_execution_accelerator: [ { name: "webgpu" } ] } }');
  add('on_tensorrt', 'instance_group [ { kind: KIND_GPU } ]\noptimization { execution_accelerators { gpu_execution_accelerator: [ { name: "tensorrt" } ] } }');
  return dir;
}

describe('GPU execution providers on a machine without them (this one)', () => {
  const devices = probeDevices();

  it('reports GPU models UNAVAILABLE with the exact missing piece, and keeps serving the rest', async (t) => {
    if (devices.providers.cuda.available || devices.providers.webgpu.available) {
      // Only real where the providers are missing, as on the development and CI machines.
      t.diagnostic('this machine has a GPU provider; the unavailable path is not exercised here');
      return;
    }
    const server = await startTestServer([gpuRepository()], { flags: ['--strict-readiness', 'false'] });
    try {
      const reason = (name: string) => server.server.registry.index().find((r) => r.name === name)!.reason;
      assert.match(
        reason('on_cuda'),
        /^model 'on_cuda': instance group 'on_cuda_0' needs the cuda execution provider: the CUDA execution provider libraries are not installed \(.*libonnxruntime_providers_cuda\.so is missing\)/,
        'CUDA reason',
      );
      assert.match(reason('on_webgpu'), /needs the webgpu execution provider: WebGPU needs the Vulkan loader \(libvulkan\.so\.1\)/, 'WebGPU reason');
      assert.match(reason('on_tensorrt'), /gpu_execution_accelerator 'tensorrt' is not supported; use one of cuda, webgpu/, 'unsupported accelerator');
      assert.deepEqual(await server.client.call('ModelReady', { name: 'on_cuda' }), { ready: false });
      assert.deepEqual(await server.client.call('ModelReady', { name: 'on_cpu' }), { ready: true }, 'the CPU model serves');
    } finally {
      await server.stop();
    }
  });
});
