import * as ort from 'onnxruntime-node';
import { readCpuFeatures } from '../backend/cpu-features.js';
import type { CpuFeatures } from '../core/cpu-features.js';
import { DataType, encodeModel, graph, model, node, tensor, valueInfo } from '../onnx/graph-builder.js';

/** The machine as a variant build sees it: what decides how int8 computes. */
export interface BuildHost {
  readonly cpu: CpuFeatures;
  /** Whether ONNX Runtime's U8S8 kernel computed exactly here ({@link u8s8IsExact}); undefined when not checked. */
  readonly u8s8Exact: boolean | undefined;
}

/** This machine; the U8S8 check runs only for a build with int8. Worker thread only. */
export async function detectBuildHost(int8: boolean): Promise<BuildHost> {
  return { cpu: readCpuFeatures(), u8s8Exact: int8 ? await u8s8IsExact() : undefined };
}

const M = 4;
const K = 64;
const N = 8;

/**
 * Whether ONNX Runtime's uint8 x int8 GEMM computes exactly on this machine. It runs one
 * MatMulInteger whose pairs of products (255 x 127, twice: 64,770) exceed int16: x86 kernels
 * without VNNI sum such pairs with VPMADDUBSW, which saturates at 32,767, and return a
 * smaller result. The CPU's feature flags predict the answer; this observes the kernel
 * itself, so an emulator or a hypervisor that hides features cannot mislead the format
 * choice. Worker thread only: it runs ONNX Runtime synchronously.
 */
export async function u8s8IsExact(): Promise<boolean> {
  const g = graph({
    name: 'u8s8_check',
    inputs: [valueInfo('a', DataType.UINT8, [M, K])],
    outputs: [valueInfo('y', DataType.INT32, [M, N])],
    initializers: [tensor('b', new Int8Array(K * N).fill(127), [K, N])],
    nodes: [node('MatMulInteger', ['a', 'b'], ['y'])],
  });
  const session = await ort.InferenceSession.create(encodeModel(model(g, { opsets: [{ domain: '', version: 13 }] })), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  try {
    const out = await session.run({ a: new ort.Tensor('uint8', new Uint8Array(M * K).fill(255), [M, K]) });
    const y = out['y']!.data as Int32Array;
    return y.every((v) => v === 255 * 127 * K);
  } finally {
    await session.release();
  }
}
