import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeviceInventory } from '../../../src/core/execution.js';
import {
  ModelConfig,
  ModelDynamicBatching,
  ModelInstanceGroup_Kind as Kind,
} from '../../../src/generated/model_config.js';
import { normalizeModelConfig } from '../../../src/repository/normalize-config.js';

const CPU_ONLY: DeviceInventory = {
  cpuCores: 8,
  cpu: { arch: 'x64', model: 'test', int8: ['avx2'], known: true },
  gpuIds: [],
  providers: {
    cpu: { available: true },
    cuda: { available: false, reason: 'no NVIDIA driver' },
    webgpu: { available: false, reason: 'no adapter' },
  },
};

const TWO_GPUS: DeviceInventory = {
  cpuCores: 16,
  cpu: { arch: 'x64', model: 'test', int8: ['avx2', 'avx512f', 'avx512bw', 'avx512_vnni'], known: true },
  gpuIds: [0, 1],
  providers: { cpu: { available: true }, cuda: { available: true }, webgpu: { available: false, reason: 'no adapter' } },
};

const GPUS_NO_CUDA: DeviceInventory = { ...TWO_GPUS, providers: { ...TWO_GPUS.providers, cuda: { available: false, reason: 'libcudart missing' } } };

const onnx = (partial: Parameters<typeof ModelConfig.fromPartial>[0] = {}) =>
  ModelConfig.fromPartial({ name: 'm', backend: 'onnxruntime', platform: 'onnxruntime_onnx', ...partial });

const groups = (c: ModelConfig) => c.instanceGroup.map((g) => ({ name: g.name, kind: g.kind, count: g.count, gpus: g.gpus }));

describe('normalizeModelConfig', () => {
  it('defaults the version policy to latest { num_versions: 1 }', () => {
    const c = normalizeModelConfig(onnx(), CPU_ONLY);
    assert.deepEqual(c.versionPolicy?.policyChoice, { $case: 'latest', value: { numVersions: 1 } });
  });

  it('keeps a version policy that is set', () => {
    const c = normalizeModelConfig(onnx({ versionPolicy: { policyChoice: { $case: 'all', value: {} } } }), CPU_ONLY);
    assert.deepEqual(c.versionPolicy?.policyChoice, { $case: 'all', value: {} });
  });

  it('treats a version_policy block with no choice as unset', () => {
    const c = normalizeModelConfig(onnx({ versionPolicy: {} }), CPU_ONLY);
    assert.equal(c.versionPolicy?.policyChoice?.$case, 'latest');
  });

  it('defaults dynamic batching preferred_batch_size to [max_batch_size]', () => {
    const c = normalizeModelConfig(
      onnx({ maxBatchSize: 8, schedulingChoice: { $case: 'dynamicBatching', value: ModelDynamicBatching.fromPartial({}) } }),
      CPU_ONLY,
    );
    assert.equal(c.schedulingChoice?.$case, 'dynamicBatching');
    assert.deepEqual(c.schedulingChoice.value.preferredBatchSize, [8]);
  });

  it('keeps preferred batch sizes that are set', () => {
    const c = normalizeModelConfig(
      onnx({ maxBatchSize: 8, schedulingChoice: { $case: 'dynamicBatching', value: ModelDynamicBatching.fromPartial({ preferredBatchSize: [2, 4] }) } }),
      CPU_ONLY,
    );
    assert.equal(c.schedulingChoice?.$case, 'dynamicBatching');
    assert.deepEqual(c.schedulingChoice.value.preferredBatchSize, [2, 4]);
  });

  it('turns pinned memory on for inputs and outputs unless set', () => {
    const c = normalizeModelConfig(onnx(), CPU_ONLY);
    assert.equal(c.optimization?.inputPinnedMemory?.enable, true);
    assert.equal(c.optimization?.outputPinnedMemory?.enable, true);
    const off = normalizeModelConfig(onnx({ optimization: { inputPinnedMemory: { enable: false } } }), CPU_ONLY);
    assert.equal(off.optimization?.inputPinnedMemory?.enable, false);
    assert.equal(off.optimization?.outputPinnedMemory?.enable, true);
  });

  it('adds one CPU group named <model>_0 with 2 instances for ONNX Runtime on a machine without GPUs', () => {
    const c = normalizeModelConfig(onnx(), CPU_ONLY);
    assert.deepEqual(groups(c), [{ name: 'm_0', kind: Kind.KIND_CPU, count: 2, gpus: [] }]);
  });

  it('gives the identity backend 1 CPU instance', () => {
    const c = normalizeModelConfig(ModelConfig.fromPartial({ name: 'id', backend: 'identity' }), CPU_ONLY);
    assert.deepEqual(groups(c), [{ name: 'id_0', kind: Kind.KIND_CPU, count: 1, gpus: [] }]);
  });

  it('names groups <model>_<index> and keeps given names and counts', () => {
    const c = normalizeModelConfig(
      onnx({ instanceGroup: [{ kind: Kind.KIND_CPU }, { name: 'mine', kind: Kind.KIND_CPU, count: 3 }, { kind: Kind.KIND_CPU }] }),
      CPU_ONLY,
    );
    assert.deepEqual(
      groups(c).map((g) => [g.name, g.count]),
      [
        ['m_0', 2],
        ['mine', 3],
        ['m_2', 2],
      ],
    );
  });

  it('resolves KIND_AUTO to KIND_GPU on every GPU when GPUs and CUDA are there', () => {
    const c = normalizeModelConfig(onnx(), TWO_GPUS);
    assert.deepEqual(groups(c), [{ name: 'm_0', kind: Kind.KIND_GPU, count: 1, gpus: [0, 1] }]);
  });

  it('resolves KIND_AUTO to KIND_CPU when GPUs are visible but CUDA is not available', () => {
    const c = normalizeModelConfig(onnx(), GPUS_NO_CUDA);
    assert.deepEqual(groups(c), [{ name: 'm_0', kind: Kind.KIND_CPU, count: 2, gpus: [] }]);
  });

  it('resolves KIND_AUTO to KIND_CPU for the identity backend even with GPUs', () => {
    const c = normalizeModelConfig(ModelConfig.fromPartial({ name: 'id', backend: 'identity' }), TWO_GPUS);
    assert.equal(c.instanceGroup[0]!.kind, Kind.KIND_CPU);
  });

  it('keeps the GPUs a KIND_AUTO group lists when they exist', () => {
    const one = normalizeModelConfig(onnx({ instanceGroup: [{ gpus: [1] }] }), TWO_GPUS);
    assert.deepEqual(groups(one), [{ name: 'm_0', kind: Kind.KIND_GPU, count: 1, gpus: [1] }]);
  });

  it('puts a KIND_AUTO group on CPU, without its GPU list, when a listed GPU is missing or CUDA is unusable', () => {
    // model_config.proto: KIND_AUTO runs on GPU only if all listed GPUs are available, else on CPU.
    const missing = normalizeModelConfig(onnx({ instanceGroup: [{ gpus: [5] }] }), TWO_GPUS);
    assert.deepEqual(groups(missing), [{ name: 'm_0', kind: Kind.KIND_CPU, count: 2, gpus: [] }]);
    const noCuda = normalizeModelConfig(onnx({ instanceGroup: [{ gpus: [0] }] }), GPUS_NO_CUDA);
    assert.deepEqual(groups(noCuda), [{ name: 'm_0', kind: Kind.KIND_CPU, count: 2, gpus: [] }]);
  });

  it('gives a KIND_GPU group with no gpus every visible GPU', () => {
    const c = normalizeModelConfig(onnx({ instanceGroup: [{ kind: Kind.KIND_GPU, count: 2 }] }), TWO_GPUS);
    assert.deepEqual(groups(c), [{ name: 'm_0', kind: Kind.KIND_GPU, count: 2, gpus: [0, 1] }]);
  });

  it('mutates and returns the same object', () => {
    const c = onnx();
    assert.equal(normalizeModelConfig(c, CPU_ONLY), c);
  });
});
