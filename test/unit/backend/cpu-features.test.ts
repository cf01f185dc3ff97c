import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCpuInfo, readCpuFeatures } from '../../../src/backend/cpu-features.js';
import { describeCpu, expectsU8s8Saturation } from '../../../src/core/cpu-features.js';

const ZEN3 = `processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
flags\t\t: fpu vme sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma bmi1 avx2 bmi2 sha_ni
processor\t: 1
flags\t\t: fpu avx512_vnni
`;
const SAPPHIRE_RAPIDS = `model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16 avx_vnni amx_bf16 amx_tile amx_int8
`;
const GRAVITON3 = `processor\t: 0
BogoMIPS\t: 2100.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs paca pacg dcpodp svei8mm svebf16 i8mm bf16 dgh rng
CPU implementer\t: 0x41
`;

describe('parseCpuInfo', () => {
  it('reads the first processor of an x86 CPU without VNNI (AVX2 only)', () => {
    const cpu = parseCpuInfo(ZEN3, 'x64');
    assert.deepEqual(cpu, { arch: 'x64', model: 'AMD EPYC 7B13', int8: ['avx2'], known: true }, 'the second processor line is not read');
    assert.equal(expectsU8s8Saturation(cpu), true);
    assert.equal(describeCpu(cpu), 'x64 (AMD EPYC 7B13): avx2');
  });

  it('reads AVX-512 VNNI, AVX-VNNI and AMX', () => {
    const cpu = parseCpuInfo(SAPPHIRE_RAPIDS, 'x64');
    assert.deepEqual(cpu.int8, ['avx2', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'amx_tile', 'amx_int8']);
    assert.equal(expectsU8s8Saturation(cpu), false);
  });

  it("reads an ARM CPU's Features line (dot product, i8mm)", () => {
    const cpu = parseCpuInfo(GRAVITON3, 'arm64');
    assert.deepEqual(cpu, { arch: 'arm64', model: '', int8: ['asimddp', 'i8mm', 'sve'], known: true });
    assert.equal(expectsU8s8Saturation(cpu), false, "ARM64's kernels widen before they add");
    assert.equal(describeCpu(cpu), 'arm64: asimddp i8mm sve');
  });

  it('gives unknown features for text without a flags line', () => {
    const cpu = parseCpuInfo('processor : 0\n', 'x64');
    assert.equal(cpu.known, false);
    assert.equal(expectsU8s8Saturation(cpu), undefined);
    assert.equal(describeCpu(cpu), 'x64: features unknown');
    assert.equal(describeCpu({ arch: 'x64', model: '', int8: [], known: true }), 'x64: no int8 extensions');
  });

  it('reads this machine', (t) => {
    const cpu = readCpuFeatures();
    t.diagnostic(`this machine: ${describeCpu(cpu)}`);
    assert.equal(cpu.arch, process.arch);
    if (process.platform === 'linux') assert.equal(cpu.known, true);
  });
});
