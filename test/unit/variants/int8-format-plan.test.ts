import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CpuFeatures } from '../../../src/core/cpu-features.js';
import { chooseCandidate, planInt8Formats } from '../../../src/variants/int8-format-plan.js';

const AVX2: CpuFeatures = { arch: 'x64', model: 'AMD EPYC 7B13', int8: ['avx2'], known: true };
const VNNI: CpuFeatures = { arch: 'x64', model: 'AMD EPYC 9B14', int8: ['avx2', 'avx512f', 'avx512bw', 'avx512_vnni'], known: true };

describe('planInt8Formats', () => {
  it('auto: u8s8 where the U8S8 kernel is exact, with u8s8_reduce_range as the fallback', () => {
    const plan = planInt8Formats('auto', { cpu: VNNI, u8s8Exact: true });
    assert.deepEqual(plan, { candidates: ['u8s8', 'u8s8_reduce_range'], preferred: 1, why: "auto: ONNX Runtime's U8S8 kernel is exact on this CPU, so u8s8, with u8s8_reduce_range as the fallback" });
  });

  it('auto: u8u8 and u8s8_reduce_range measured where it saturates', () => {
    const plan = planInt8Formats('auto', { cpu: AVX2, u8s8Exact: false });
    assert.deepEqual([plan.candidates, plan.preferred], [['u8u8', 'u8s8_reduce_range'], 2], 'both preferred, measured against each other');
    assert.match(plan.why, /^auto: ONNX Runtime's U8S8 kernel saturates on this CPU \(x86 without VNNI\), so u8u8 and u8s8_reduce_range/);
    assert.equal(plan.warning, undefined);
  });

  it('goes by the check when it disagrees with the flags, and says so', () => {
    const plan = planInt8Formats('auto', { cpu: VNNI, u8s8Exact: false });
    assert.deepEqual(plan.candidates, ['u8u8', 'u8s8_reduce_range']);
    assert.match(plan.warning!, /predict that ONNX Runtime's U8S8 kernel is exact, but it saturated when checked .*going by the check$/);
    assert.match(planInt8Formats('auto', { cpu: AVX2, u8s8Exact: true }).warning!, /predict that .* saturates, but it computed exactly/);
  });

  it('without a check, goes by the flags; with unknown flags, measures both safe formats', () => {
    assert.deepEqual(planInt8Formats('auto', { cpu: VNNI, u8s8Exact: undefined }).candidates, ['u8s8', 'u8s8_reduce_range']);
    assert.deepEqual(planInt8Formats('auto', { cpu: AVX2, u8s8Exact: undefined }).candidates, ['u8u8', 'u8s8_reduce_range']);
    assert.deepEqual(planInt8Formats('auto', { cpu: { arch: 'x64', model: '', int8: [], known: false }, u8s8Exact: undefined }).candidates, ['u8u8', 'u8s8_reduce_range']);
  });

  it('builds a format set in the config alone, warning when u8s8 is set where it saturates', () => {
    for (const format of ['u8s8', 'u8s8_reduce_range', 'u8u8'] as const) {
      const plan = planInt8Formats(format, { cpu: VNNI, u8s8Exact: true });
      assert.deepEqual([plan.candidates, plan.preferred, plan.warning], [[format], 1, undefined]);
    }
    assert.equal(planInt8Formats('u8u8', { cpu: AVX2, u8s8Exact: false }).warning, undefined);
    assert.equal(
      planInt8Formats('u8s8', { cpu: AVX2, u8s8Exact: false }).warning,
      "int8_format u8s8 is set, but ONNX Runtime's U8S8 kernel saturates on this CPU (x86 without VNNI): expect a large int8 error",
    );
  });
});

describe('chooseCandidate', () => {
  it('serves the fastest of those within tolerance', () => {
    assert.equal(chooseCandidate([{ relativeL2Error: 0.01, speedup: 1.2, passes: true }, { relativeL2Error: 0.02, speedup: 1.5, passes: true }]), 1);
    assert.equal(chooseCandidate([{ relativeL2Error: 0.01, speedup: 1.2, passes: true }, { relativeL2Error: 0.2, speedup: 1.5, passes: false }]), 0);
  });

  it('takes the more accurate when its speed is within 10% of the fastest', () => {
    assert.equal(chooseCandidate([{ relativeL2Error: 0.01, speedup: 1.4, passes: true }, { relativeL2Error: 0.02, speedup: 1.5, passes: true }]), 0);
    assert.equal(chooseCandidate([{ relativeL2Error: 0.02, speedup: 1.5, passes: true }, { relativeL2Error: 0.01, speedup: 1.37, passes: true }]), 1);
    assert.equal(chooseCandidate([{ relativeL2Error: 0.01, speedup: 1.3, passes: true }, { relativeL2Error: 0.02, speedup: 1.5, passes: true }]), 1, '15% faster wins');
  });

  it('serves a fallback only when no preferred candidate is within tolerance', () => {
    const u8s8 = { relativeL2Error: 0.01, speedup: 1.0, passes: true };
    const reduced = { relativeL2Error: 0.02, speedup: 1.5, passes: true };
    assert.equal(chooseCandidate([u8s8, reduced], 1), 0, 'a faster fallback does not replace a preferred one that passes');
    assert.equal(chooseCandidate([{ ...u8s8, passes: false }, reduced], 1), 1, 'the fallback serves when the preferred one misses');
    assert.equal(chooseCandidate([{ ...u8s8, passes: false }, { ...reduced, passes: false }], 1), 0, 'neither: the most accurate is reported');
  });

  it('reports the most accurate when none is within tolerance, and the first when none was built', () => {
    assert.equal(chooseCandidate([{ relativeL2Error: 0.3, speedup: 2, passes: false }, { relativeL2Error: 0.1, speedup: 1, passes: false }]), 1);
    assert.equal(chooseCandidate([{ passes: false }, { relativeL2Error: 0.1, speedup: 1, passes: false }]), 1);
    assert.equal(chooseCandidate([{ passes: false }, { passes: false }]), 0);
  });
});
