/**
 * The host's int8 kernels, as the precision tests need them: whether ONNX Runtime's U8S8
 * kernel is exact here, and a line naming the CPU for diagnostics and failure messages.
 */
import { readCpuFeatures } from '../../../src/backend/cpu-features.js';
import { describeCpu } from '../../../src/core/cpu-features.js';
import { u8s8IsExact } from '../../../src/variants/build-host.js';

let checked: Promise<{ u8s8Exact: boolean; line: string }> | undefined;

export function hostInt8(): Promise<{ u8s8Exact: boolean; line: string }> {
  checked ??= u8s8IsExact().then((u8s8Exact) => ({
    u8s8Exact,
    line: `host ${describeCpu(readCpuFeatures())}; ONNX Runtime's U8S8 kernel ${u8s8Exact ? 'computes exactly' : 'saturates'}`,
  }));
  return checked;
}
