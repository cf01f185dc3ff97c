/**
 * The CPU features that decide which int8 kernels ONNX Runtime runs, and so which int8
 * format computes accurately (core/int8-format.ts).
 */

/** Features that change ONNX Runtime's int8 kernels, as Linux's /proc/cpuinfo names them. */
export const INT8_CPU_FEATURES: readonly string[] = Object.freeze([
  // x86-64: AVX2 and AVX-512 kernels sum uint8 x int8 pairs in int16 (VPMADDUBSW); VNNI
  // (AVX-512 or VEX-coded) and AMX accumulate in int32.
  'avx2', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'amx_tile', 'amx_int8',
  // ARM64: dot product and int8 matrix multiply.
  'asimddp', 'i8mm', 'sve',
]);

/** What the machine's CPU offers int8 kernels. */
export interface CpuFeatures {
  /** Node's `process.arch` (x64, arm64, ...). */
  readonly arch: string;
  /** The CPU's model name, '' when unknown. */
  readonly model: string;
  /** The features of {@link INT8_CPU_FEATURES} the CPU has, in that order. */
  readonly int8: readonly string[];
  /** False when the features could not be read (no /proc/cpuinfo): `int8` is then empty. */
  readonly known: boolean;
}

/**
 * Whether ONNX Runtime's U8S8 kernel on this CPU is expected to saturate: x86-64 without
 * an int8 dot product that accumulates in int32 (AVX-512 VNNI, AVX-VNNI or AMX). ARM64 is
 * expected exact (its kernels widen before they add; not measured on ARM here). Undefined
 * when the features are unknown. A prediction: the variant build checks it by running
 * the kernel (variants/build-host.ts).
 */
export function expectsU8s8Saturation(cpu: CpuFeatures): boolean | undefined {
  if (!cpu.known) return undefined;
  if (cpu.arch !== 'x64') return false;
  return !['avx512_vnni', 'avx_vnni', 'amx_int8'].some((f) => cpu.int8.includes(f));
}

/** One line for logs and reports: `x64 (AMD EPYC): avx2 avx512f avx512bw avx512_vnni`. */
export function describeCpu(cpu: CpuFeatures): string {
  const model = cpu.model === '' ? '' : ` (${cpu.model})`;
  if (!cpu.known) return `${cpu.arch}${model}: features unknown`;
  return `${cpu.arch}${model}: ${cpu.int8.length === 0 ? 'no int8 extensions' : cpu.int8.join(' ')}`;
}
