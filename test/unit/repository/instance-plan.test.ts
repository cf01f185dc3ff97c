import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeviceInventory } from '../../../src/core/execution.js';
import { ModelConfig, ModelInstanceGroup_Kind as Kind } from '../../../src/generated/model_config.js';
import { ModelConfigError } from '../../../src/repository/config-error.js';
import { checkInstanceMemory, INSTANCE_OVERHEAD_BYTES, planInstances } from '../../../src/repository/instance-plan.js';

function devices(cpuCores: number, gpuIds: number[], cuda: boolean, webgpu = false): DeviceInventory {
  return {
    cpuCores,
    cpu: { arch: 'x64', model: 'test', int8: ['avx2'], known: true },
    gpuIds,
    providers: {
      cpu: { available: true },
      cuda: cuda ? { available: true } : { available: false, reason: 'libcudart.so.12: cannot open shared object file' },
      webgpu: webgpu ? { available: true } : { available: false, reason: 'no WebGPU adapter found' },
    },
  };
}

type Partial = Parameters<typeof ModelConfig.fromPartial>[0];
const config = (overrides: Partial) => ModelConfig.fromPartial({ name: 'm', backend: 'onnxruntime', platform: 'onnxruntime_onnx', ...overrides });
const cpuGroup = (name: string, count: number) => ({ name, kind: Kind.KIND_CPU, count });
const gpuGroup = (name: string, count: number, gpus: number[]) => ({ name, kind: Kind.KIND_GPU, count, gpus });
const params = (entries: Record<string, string>) =>
  Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, { stringValue: v }]));

function rejects(c: ModelConfig, d: DeviceInventory, message: string): void {
  assert.throws(
    () => planInstances(c, d),
    (err: unknown) => {
      assert.ok(err instanceof ModelConfigError);
      assert.equal(err.message, message);
      return true;
    },
  );
}

describe('planInstances', () => {
  describe('how many instances one model may have', () => {
    it('refuses count 1000 before planning anything: 4 per core, at least 16, by default', () => {
      rejects(
        config({ instanceGroup: [cpuGroup('m_0', 1000)] }),
        devices(2, [], false),
        "model 'm': instance_group asks for 1000 instances, more than the 16 one model may have here (4 per CPU core, at least 16; " +
          '--max-instances-per-model changes it); each instance is a thread with its own heap and ONNX Runtime session',
      );
      assert.equal(planInstances(config({ instanceGroup: [cpuGroup('m_0', 16)] }), devices(2, [], false)).length, 16);
      assert.equal(planInstances(config({ instanceGroup: [cpuGroup('m_0', 32)] }), devices(8, [], false)).length, 32);
      assert.throws(() => planInstances(config({ instanceGroup: [cpuGroup('m_0', 33)] }), devices(8, [], false)), /asks for 33 instances, more than the 32/);
    });

    it('refuses instances whose sessions cannot fit in the memory the process may use', () => {
      const MiB = 2 ** 20;
      checkInstanceMemory('m', 4, 100 * MiB, 4 * (INSTANCE_OVERHEAD_BYTES + 100 * MiB));
      checkInstanceMemory('m', 1000, 100 * MiB, undefined);
      assert.throws(
        () => checkInstanceMemory('m', 8, 1024 * MiB, 8192 * MiB),
        (err: unknown) =>
          err instanceof ModelConfigError &&
          err.message ===
            "model 'm': 8 instances would need about 8392 MiB (25 MiB each plus 1024 MiB of model files, held by each instance's session), " +
              'more than the 8192 MiB this process may use; lower instance_group count',
      );
    });

    it('counts every group, and GPU groups once per GPU; a configured limit replaces the default', () => {
      const groups = config({ instanceGroup: [cpuGroup('a', 2), gpuGroup('b', 3, [0, 1])] });
      assert.equal(planInstances(groups, devices(2, [0, 1], true), 8).length, 8);
      assert.throws(
        () => planInstances(groups, devices(2, [0, 1], true), 7),
        (err: unknown) => err instanceof ModelConfigError && err.message.startsWith("model 'm': instance_group asks for 8 instances, more than the 7 one model may have here (--max-instances-per-model)"),
      );
    });
  });

  describe('CPU', () => {
    it('names each instance <group>_<i> and splits the cores: 2 cores / 2 instances -> 1 thread each', () => {
      const plans = planInstances(config({ instanceGroup: [cpuGroup('m_0', 2)] }), devices(2, [], false));
      assert.deepEqual(plans, [
        { name: 'm_0_0', kind: 'cpu', settings: { executionProvider: 'cpu', deviceId: 0, intraOpThreads: 1, interOpThreads: 1, allowSpinning: false } },
        { name: 'm_0_1', kind: 'cpu', settings: { executionProvider: 'cpu', deviceId: 0, intraOpThreads: 1, interOpThreads: 1, allowSpinning: false } },
      ]);
    });

    it('splits the cores across all CPU groups of the model, rounding down', () => {
      const plans = planInstances(config({ instanceGroup: [cpuGroup('a', 2), cpuGroup('b', 1)] }), devices(16, [], false));
      assert.deepEqual(
        plans.map((p) => [p.name, p.settings.intraOpThreads]),
        [
          ['a_0', 5],
          ['a_1', 5],
          ['b_0', 5],
        ],
      );
    });

    it('gives every instance at least one thread', () => {
      const plans = planInstances(config({ instanceGroup: [cpuGroup('m_0', 4)] }), devices(2, [], false));
      assert.deepEqual(
        plans.map((p) => p.settings.intraOpThreads),
        [1, 1, 1, 1],
      );
    });

    it('uses intra_op_thread_count and inter_op_thread_count when set', () => {
      const plans = planInstances(
        config({ instanceGroup: [cpuGroup('m_0', 2)], parameters: params({ intra_op_thread_count: '3', inter_op_thread_count: '2' }) }),
        devices(2, [], false),
      );
      assert.deepEqual(
        plans.map((p) => [p.settings.intraOpThreads, p.settings.interOpThreads]),
        [
          [3, 2],
          [3, 2],
        ],
      );
    });

    it('treats a thread count parameter of 0 or empty as unset', () => {
      for (const value of ['0', '']) {
        const [plan] = planInstances(config({ instanceGroup: [cpuGroup('m_0', 1)], parameters: params({ intra_op_thread_count: value }) }), devices(8, [], false));
        assert.equal(plan!.settings.intraOpThreads, 8);
      }
    });

    it('rejects a thread count parameter that is not a non-negative integer', () => {
      for (const value of ['two', '-1', '1.5']) {
        rejects(
          config({ instanceGroup: [cpuGroup('m_0', 1)], parameters: params({ intra_op_thread_count: value }) }),
          devices(8, [], false),
          `model 'm': parameter 'intra_op_thread_count' must be a non-negative integer, got '${value}'`,
        );
      }
      rejects(
        config({ instanceGroup: [cpuGroup('m_0', 1)], parameters: params({ inter_op_thread_count: 'x' }) }),
        devices(8, [], false),
        "model 'm': parameter 'inter_op_thread_count' must be a non-negative integer, got 'x'",
      );
    });

    it('turns spinning on only for allow_spinning "true"', () => {
      const spin = (value?: string) =>
        planInstances(
          config({ instanceGroup: [cpuGroup('m_0', 1)], parameters: value === undefined ? {} : params({ allow_spinning: value }) }),
          devices(4, [], false),
        )[0]!.settings.allowSpinning;
      assert.equal(spin('true'), true);
      assert.equal(spin('false'), false);
      assert.equal(spin(), false);
    });

    it('plans nothing for a model without instance groups', () => {
      assert.deepEqual(planInstances(config({ instanceGroup: [] }), devices(4, [], false)), []);
    });
  });

  describe('GPU', () => {
    it('makes count instances per listed GPU, named <group>_<i>_gpu<id>, on cuda by default', () => {
      const plans = planInstances(config({ instanceGroup: [gpuGroup('m_0', 2, [0, 1])] }), devices(16, [0, 1], true));
      assert.deepEqual(
        plans.map((p) => [p.name, p.kind, p.settings.executionProvider, p.settings.deviceId, p.settings.intraOpThreads]),
        [
          ['m_0_0_gpu0', 'gpu', 'cuda', 0, 1],
          ['m_0_1_gpu0', 'gpu', 'cuda', 0, 1],
          ['m_0_0_gpu1', 'gpu', 'cuda', 1, 1],
          ['m_0_1_gpu1', 'gpu', 'cuda', 1, 1],
        ],
      );
    });

    it('does not count GPU instances when splitting CPU cores', () => {
      const plans = planInstances(
        config({ instanceGroup: [gpuGroup('g', 4, [0]), cpuGroup('c', 2)] }),
        devices(8, [0], true),
      );
      assert.deepEqual(
        plans.filter((p) => p.kind === 'cpu').map((p) => p.settings.intraOpThreads),
        [4, 4],
      );
    });

    it('applies the thread parameters to GPU instances too', () => {
      const [plan] = planInstances(
        config({ instanceGroup: [gpuGroup('g', 1, [0])], parameters: params({ intra_op_thread_count: '2', inter_op_thread_count: '3' }) }),
        devices(8, [0], true),
      );
      assert.deepEqual([plan!.settings.intraOpThreads, plan!.settings.interOpThreads], [2, 3]);
    });

    it("fails with the provider's reason when cuda is unavailable", () => {
      rejects(
        config({ instanceGroup: [gpuGroup('m_0', 1, [0])] }),
        devices(8, [0], false),
        "model 'm': instance group 'm_0' needs the cuda execution provider: libcudart.so.12: cannot open shared object file",
      );
    });

    it('fails when a listed GPU is not visible', () => {
      rejects(
        config({ instanceGroup: [gpuGroup('m_0', 1, [0, 3])] }),
        devices(8, [0, 1], true),
        "model 'm': instance group 'm_0' asks for GPU 3, but the visible GPUs are [0, 1]",
      );
    });

    it('fails when a KIND_GPU group has no GPU', () => {
      rejects(
        config({ instanceGroup: [gpuGroup('m_0', 1, [])] }),
        devices(8, [], true),
        "model 'm': instance group 'm_0' is KIND_GPU but no GPU is visible",
      );
    });

    it('uses webgpu when it is the first gpu_execution_accelerator', () => {
      const c = config({
        instanceGroup: [gpuGroup('m_0', 1, [0])],
        optimization: { executionAccelerators: { gpuExecutionAccelerator: [{ name: 'webgpu' }, { name: 'cuda' }] } },
      });
      const [plan] = planInstances(c, devices(8, [], false, true));
      assert.deepEqual([plan!.name, plan!.settings.executionProvider, plan!.settings.deviceId], ['m_0_0_gpu0', 'webgpu', 0]);
    });

    it("fails with webgpu's reason when webgpu is unavailable", () => {
      const c = config({
        instanceGroup: [gpuGroup('m_0', 1, [0])],
        optimization: { executionAccelerators: { gpuExecutionAccelerator: [{ name: 'webgpu' }] } },
      });
      rejects(c, devices(8, [0], true, false), "model 'm': instance group 'm_0' needs the webgpu execution provider: no WebGPU adapter found");
    });

    it('rejects an unsupported accelerator name', () => {
      const c = config({
        instanceGroup: [gpuGroup('m_0', 1, [0])],
        optimization: { executionAccelerators: { gpuExecutionAccelerator: [{ name: 'tensorrt' }] } },
      });
      rejects(c, devices(8, [0], true), "model 'm': gpu_execution_accelerator 'tensorrt' is not supported; use one of cuda, webgpu");
    });
  });
});
