/**
 * A generated MLP for the precision tests and benchmarks, built with graph-builder
 * from a seeded generator, and seeded random inputs. No binary fixtures:
 * everything is rebuilt on each run.
 */
import { seededRandom } from '../../src/variants/sample-inputs.js';
import { DataType, type ModelProto, attr, graph, model, node, tensor, valueInfo } from '../../src/onnx/graph-builder.js';

export { seededRandom };

/** `n` uniform values in [lo, hi). */
export function uniform(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

/** Options of {@link buildMlp}. */
export interface MlpOptions {
  readonly layers?: number;
  readonly hidden?: number;
  /** 'gemm': Gemm(transB=1) + Relu; 'matmul': MatMul + Add + Relu. */
  readonly form?: 'gemm' | 'matmul';
  readonly seed?: number;
  readonly opset?: number;
}

/**
 * An MLP `x [N, hidden] -> y [N, hidden]` of `layers` fully connected layers
 * (ReLU between them, none after the last), weights uniform in ±sqrt(6 / fan_in).
 */
export function buildMlp(options: MlpOptions = {}): ModelProto {
  const layers = options.layers ?? 4;
  const h = options.hidden ?? 768;
  const form = options.form ?? 'matmul';
  const seed = options.seed ?? 7;
  const bound = Math.sqrt(6 / h);
  const nodes = [];
  const inits = [];
  let x = 'x';
  for (let l = 0; l < layers; l++) {
    const w = uniform(h * h, seed + l, -bound, bound);
    const b = uniform(h, seed + 100 + l, -0.1, 0.1);
    const last = l === layers - 1;
    const pre = last ? 'y' : `fc${l}`;
    if (form === 'gemm') {
      inits.push(tensor(`w${l}`, w, [h, h]), tensor(`b${l}`, b, [h]));
      nodes.push(node('Gemm', [x, `w${l}`, `b${l}`], [pre], { transB: attr.int(1) }, { name: `gemm${l}` }));
    } else {
      inits.push(tensor(`w${l}`, w, [h, h]), tensor(`b${l}`, b, [h]));
      nodes.push(node('MatMul', [x, `w${l}`], [`mm${l}`], {}, { name: `matmul${l}` }));
      nodes.push(node('Add', [`mm${l}`, `b${l}`], [pre], {}, { name: `add${l}` }));
    }
    if (!last) {
      nodes.push(node('Relu', [pre], [`relu${l}`], {}, { name: `relu${l}` }));
      x = `relu${l}`;
    }
  }
  const g = graph({
    name: `mlp_${form}`,
    inputs: [valueInfo('x', DataType.FLOAT, ['N', h])],
    outputs: [valueInfo('y', DataType.FLOAT, ['N', h])],
    nodes,
    initializers: inits,
  });
  return model(g, { opsets: [{ domain: '', version: options.opset ?? 17 }] });
}
