/**
 * Writes the fixture models used only by tests (Triton layout):
 *
 * - `slow`   OUTPUT0 = INPUT0 (exactly), after a Loop that burns CPU for
 *            max(DELAY) iterations. One iteration (128x128 MatMul + Tanh)
 *            took ~0.027 ms with 1 intra-op thread on the 2-core x86_64
 *            development machine (ORT 1.30): DELAY 5000 ≈ 135 ms,
 *            DELAY 15000 ≈ 405 ms; see {@link SLOW_MS_PER_ITERATION}.
 * - `fail`   OUT = Reshape(DATA, SHAPE): SHAPE [2,2] works, [3,5] fails at run time.
 * - `add_fp32_nobatch_noconfig`  C = A + B on float [2,3], no config.pbtxt.
 * - `add_fp32_batch_noconfig`    C = A + B on float [N,3], no config.pbtxt.
 *
 * Usage: npx tsx scripts/make-test-models.ts <outDir>
 */
import path from 'node:path';

import {
  DataType,
  attr,
  encodeModel,
  graph,
  model,
  node,
  tensor,
  valueInfo,
} from '../src/onnx/graph-builder.js';
import { isMain, writeModel } from './lib/model-repo.js';

/**
 * Rough cost of one `slow` loop iteration in milliseconds (1 intra-op
 * thread, measured on the development machine); tests derive DELAY from it
 * but should allow for machines several times faster or slower.
 */
export const SLOW_MS_PER_ITERATION = 0.027;

const N = 128;

/** Deterministic N x N matrix with entries `scale * fn(i)`. */
function matrix(fn: (i: number) => number, scale: number): Float32Array {
  return Float32Array.from({ length: N * N }, (_, i) => scale * fn(i));
}

function slowModel(): Uint8Array {
  const body = graph({
    name: 'burn',
    nodes: [
      node('Identity', ['cond_in'], ['cond_out']),
      node('MatMul', ['state_in', 'W'], ['prod']),
      node('Tanh', ['prod'], ['state_out']),
    ],
    inputs: [
      valueInfo('iter', DataType.INT64, []),
      valueInfo('cond_in', DataType.BOOL, []),
      valueInfo('state_in', DataType.FLOAT, [N, N]),
    ],
    outputs: [valueInfo('cond_out', DataType.BOOL, []), valueInfo('state_out', DataType.FLOAT, [N, N])],
  });
  const g = graph({
    name: 'slow',
    nodes: [
      // Trip count: scalar int64 max over the whole DELAY tensor.
      node('ReduceMax', ['DELAY'], ['trips'], { keepdims: attr.int(0) }),
      node('Loop', ['trips', '', 'state0'], ['final_state'], { body: attr.graph(body) }),
      // |sum| * -0.0 is always -0.0, and x + -0.0 === x bit-for-bit (even for x = -0.0),
      // so OUTPUT0 depends on the loop result but equals INPUT0 exactly.
      node('ReduceSum', ['final_state'], ['total'], { keepdims: attr.int(0) }),
      node('Abs', ['total'], ['abs_total']),
      node('Mul', ['abs_total', 'neg_zero'], ['zero']),
      node('Add', ['INPUT0', 'zero'], ['OUTPUT0']),
    ],
    inputs: [valueInfo('INPUT0', DataType.FLOAT, ['batch', 16]), valueInfo('DELAY', DataType.INT64, ['batch', 1])],
    outputs: [valueInfo('OUTPUT0', DataType.FLOAT, ['batch', 16])],
    initializers: [
      tensor('W', matrix(Math.sin, 0.01), [N, N]),
      tensor('state0', matrix(Math.cos, 0.5), [N, N]),
      tensor('neg_zero', new Float32Array([-0]), []),
    ],
  });
  return encodeModel(model(g));
}

function failModel(): Uint8Array {
  const g = graph({
    name: 'fail',
    nodes: [node('Reshape', ['DATA', 'SHAPE'], ['OUT'])],
    inputs: [valueInfo('DATA', DataType.FLOAT, [4]), valueInfo('SHAPE', DataType.INT64, [2])],
    outputs: [valueInfo('OUT', DataType.FLOAT, ['d0', 'd1'])],
  });
  return encodeModel(model(g));
}

function addModel(name: string, dims: readonly (number | string)[]): Uint8Array {
  const g = graph({
    name,
    nodes: [node('Add', ['A', 'B'], ['C'])],
    inputs: [valueInfo('A', DataType.FLOAT, dims), valueInfo('B', DataType.FLOAT, dims)],
    outputs: [valueInfo('C', DataType.FLOAT, dims)],
  });
  return encodeModel(model(g));
}

/** Writes the test fixture models under `outDir`; returns the model directories written. */
/** STRING identity through ONNX Runtime (the example repository's simple_identity is not ONNX). */
function stringIdentityModel(): Uint8Array {
  const io = (name: string) => valueInfo(name, DataType.STRING, ['batch', 'len']);
  const g = graph({ name: 'string_identity', nodes: [node('Identity', ['INPUT0'], ['OUTPUT0'])], inputs: [io('INPUT0')], outputs: [io('OUTPUT0')] });
  return encodeModel(model(g));
}

export async function makeTestModels(outDir: string): Promise<string[]> {
  return [
    await writeModel(outDir, 'slow', slowModel(), {
      name: 'slow',
      maxBatchSize: 8,
      inputs: [
        { name: 'INPUT0', dataType: 'TYPE_FP32', dims: [16] },
        { name: 'DELAY', dataType: 'TYPE_INT64', dims: [1] },
      ],
      outputs: [{ name: 'OUTPUT0', dataType: 'TYPE_FP32', dims: [16] }],
    }),
    await writeModel(outDir, 'fail', failModel(), {
      name: 'fail',
      maxBatchSize: 0,
      inputs: [
        { name: 'DATA', dataType: 'TYPE_FP32', dims: [4] },
        { name: 'SHAPE', dataType: 'TYPE_INT64', dims: [2] },
      ],
      outputs: [{ name: 'OUT', dataType: 'TYPE_FP32', dims: [-1, -1] }],
    }),
    await writeModel(outDir, 'string_identity', stringIdentityModel(), {
      name: 'string_identity',
      maxBatchSize: 8,
      inputs: [{ name: 'INPUT0', dataType: 'TYPE_STRING', dims: [-1] }],
      outputs: [{ name: 'OUTPUT0', dataType: 'TYPE_STRING', dims: [-1] }],
    }),
    await writeModel(outDir, 'add_fp32_nobatch_noconfig', addModel('add_fp32_nobatch_noconfig', [2, 3]), null),
    await writeModel(outDir, 'add_fp32_batch_noconfig', addModel('add_fp32_batch_noconfig', ['N', 3]), null),
  ];
}

if (isMain(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: npx tsx scripts/make-test-models.ts <outDir>');
    process.exit(2);
  }
  for (const dir of await makeTestModels(path.resolve(outDir))) console.log(`wrote ${dir}`);
}
