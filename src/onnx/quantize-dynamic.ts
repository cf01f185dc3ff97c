/**
 * Dynamic int8 quantization in ONNX Runtime's IntegerOps form (what
 * `quantize_dynamic` produces with its defaults, except per-channel weights
 * by default here): weights are quantized offline (int8 symmetric by default;
 * see {@link Int8Format} for the 7-bit and uint8 forms), activations at run
 * time by DynamicQuantizeLinear (uint8), and the integer product is rescaled
 * to float:
 *
 * ```
 * A -> DynamicQuantizeLinear -> (A_q, A_scale, A_zp)
 * MatMulInteger(A_q, B_quantized, A_zp, B_zero_point) -> Cast(FLOAT) -> Mul(A_scale * B_scale) -> Y
 * ```
 *
 * Gemm with a constant B is first rewritten to MatMul (+ Add). Conv with
 * constant weights can become ConvInteger the same way (opt-in, see
 * {@link DynamicQuantOptions.quantizeConv}).
 */
import onnxProto from 'onnx-proto';
import type { Int8Format } from '../core/int8-format.js';
import { DataType, attr, node, tensor } from './graph-builder.js';
import { inferElemTypes, intAttr } from './elem-types.js';
import { findInitializer } from './graph-edit.js';
import { NameScope, defaultOpsetVersion, mainGraph } from './onnx-model.js';
import { upgradeOpset } from './opset-upgrade.js';
import { dropUnusedInitializers, prepareForQuantization } from './quantization-prep.js';
import { quantizeWeight, weightQuantization } from './quant-params.js';
import { elementCount, readFloats, tensorDims } from './tensor-data.js';

type ModelProto = onnxProto.onnx.IModelProto;
type GraphProto = onnxProto.onnx.IGraphProto;
type NodeProto = onnxProto.onnx.INodeProto;

/** Options of {@link quantizeDynamic}. */
export interface DynamicQuantOptions {
  /** Per-output-channel weight scales for MatMul (per column of B). Default true (ORT's default is false). */
  readonly perChannel?: boolean;
  /**
   * Also turn Conv with constant weights into ConvInteger (per output channel
   * when `perChannel`). Default false, because ORT's ConvInteger path (no
   * fusion with the rescale, no NCHWc layout) is usually slower than fp32 Conv on CPU.
   */
  readonly quantizeConv?: boolean;
  /** How weights are stored. Default 'u8s8' (ORT's default). */
  readonly format?: Int8Format;
}

/** DynamicQuantizeLinear needs the default opset at this version or later. */
export const DYNAMIC_QUANT_MIN_OPSET = 11;

interface Ctx {
  readonly g: GraphProto;
  readonly names: NameScope;
  readonly perChannel: boolean;
  readonly format: Int8Format;
  /** Quantized activations: float tensor -> [q, scale, zp]. */
  readonly activations: Map<string, readonly [string, string, string]>;
  readonly out: NodeProto[];
}

function floatAttr(n: NodeProto, name: string, fallback: number): number {
  return (n.attribute ?? []).find((a) => a.name === name)?.f ?? fallback;
}

/** Emits (once per tensor) the DynamicQuantizeLinear of activation `a`. */
function quantizeActivation(ctx: Ctx, a: string): readonly [string, string, string] {
  const known = ctx.activations.get(a);
  if (known !== undefined) return known;
  const outs = [ctx.names.fresh(`${a}_quantized`), ctx.names.fresh(`${a}_scale`), ctx.names.fresh(`${a}_zero_point`)] as const;
  ctx.out.push(node('DynamicQuantizeLinear', [a], outs, {}, { name: ctx.names.fresh(`${a}_QuantizeLinear`) }));
  ctx.activations.set(a, outs);
  return outs;
}

/**
 * Adds the quantized weight, scale and zero-point initializers; returns their names.
 * `zpDims` gives one zero point for every channel (the weights are symmetric, so all
 * channels share it), as ConvInteger needs.
 */
function addQuantizedWeight(
  ctx: Ctx, base: string, data: Float32Array, dims: number[], axis: number | undefined, scaleDims?: number[], zpDims?: number[],
): [string, string, string] {
  const { type, symmetric, reduceRange } = weightQuantization(ctx.format);
  const q = quantizeWeight(data, dims, axis, type, symmetric, reduceRange);
  const ints = (values: ArrayLike<number>) => (type === 'uint8' ? Uint8Array.from(values) : Int8Array.from(values));
  const shape = axis === undefined ? [] : [dims[axis]!];
  const names: [string, string, string] = [
    ctx.names.fresh(`${base}_quantized`), ctx.names.fresh(`${base}_scale`), ctx.names.fresh(`${base}_zero_point`),
  ];
  ctx.g.initializer!.push(
    tensor(names[0], ints(q.values), dims),
    tensor(names[1], Float32Array.from(q.params.map((p) => p.scale)), scaleDims ?? shape),
    zpDims === undefined
      ? tensor(names[2], ints(q.params.map((p) => p.zeroPoint)), shape)
      : tensor(names[2], ints(new Array<number>(elementCount(zpDims)).fill(q.params[0]!.zeroPoint)), zpDims),
  );
  return names;
}

/** Integer op output -> Cast(FLOAT) -> Mul(a_scale * w_scale) -> `y` (plus an optional bias Add). */
function rescale(ctx: Ctx, intOut: string, aScale: string, wScale: string, y: string, bias?: string): void {
  const cast = ctx.names.fresh(`${y}_output_cast`);
  const scales = ctx.names.fresh(`${y}_scales_mul`);
  ctx.out.push(node('Cast', [intOut], [cast], { to: attr.int(DataType.FLOAT) }, { name: ctx.names.fresh(`${cast}_node`) }));
  ctx.out.push(node('Mul', [aScale, wScale], [scales], {}, { name: ctx.names.fresh(`${scales}_node`) }));
  const scaled = bias === undefined ? y : ctx.names.fresh(`${y}_unbiased`);
  ctx.out.push(node('Mul', [cast, scales], [scaled], {}, { name: ctx.names.fresh(`${y}_scaled_node`) }));
  if (bias !== undefined) ctx.out.push(node('Add', [scaled, bias], [y], {}, { name: ctx.names.fresh(`${y}_bias_add`) }));
}

/** Rewrites Gemm(A, B const, C) as MatMul(A, B') (+ Add C'), folding alpha/transB/beta into constants. */
function gemmToMatMul(ctx: Ctx, n: NodeProto): boolean {
  const [a = '', bName = '', cName = ''] = n.input ?? [];
  const b = findInitializer(ctx.g, bName);
  if (b === undefined || b.dataType !== DataType.FLOAT || intAttr(n, 'transA') === 1) return false;
  const dims = tensorDims(b);
  if (dims.length !== 2) return false;
  const alpha = floatAttr(n, 'alpha', 1);
  const beta = floatAttr(n, 'beta', 1);
  const data = readFloats(b);
  let [k, cols] = dims as [number, number];
  let w = data;
  if (intAttr(n, 'transB') === 1) {
    [k, cols] = [cols, k];
    w = new Float32Array(data.length);
    for (let i = 0; i < k; i++) for (let j = 0; j < cols; j++) w[i * cols + j] = data[j * k + i]!;
  }
  if (alpha !== 1) w = w.map((x) => x * alpha);
  const y = n.output?.[0] ?? '';
  let wName = bName;
  if (w !== data) {
    wName = ctx.names.fresh(`${bName}_matmul`);
    ctx.g.initializer!.push(tensor(wName, w, [k, cols]));
  }
  const mmOut = cName === '' ? y : ctx.names.fresh(`${y}_matmul`);
  const mm = node('MatMul', [a, wName], [mmOut], {}, { name: ctx.names.fresh(`${n.name || y}_MatMul`) });
  let bias = cName;
  if (cName !== '' && beta !== 1) {
    const c = findInitializer(ctx.g, cName);
    if (c !== undefined && c.dataType === DataType.FLOAT) {
      bias = ctx.names.fresh(`${cName}_scaled`);
      ctx.g.initializer!.push(tensor(bias, readFloats(c).map((x) => x * beta), tensorDims(c)));
    } else {
      bias = ctx.names.fresh(`${cName}_scaled`);
      const betaName = ctx.names.fresh(`${cName}_beta`);
      ctx.g.initializer!.push(tensor(betaName, new Float32Array([beta]), []));
      ctx.out.push(node('Mul', [cName, betaName], [bias], {}, { name: ctx.names.fresh(`${bias}_node`) }));
    }
  }
  quantizeMatMul(ctx, mm) || ctx.out.push(mm);
  if (cName !== '') ctx.out.push(node('Add', [mmOut, bias], [y], {}, { name: ctx.names.fresh(`${n.name || y}_Add`) }));
  return true;
}

/** MatMul(A, B const 2-D) -> the IntegerOps pattern; false (nothing emitted) when B does not qualify. */
function quantizeMatMul(ctx: Ctx, n: NodeProto): boolean {
  const [a = '', bName = ''] = n.input ?? [];
  const b = findInitializer(ctx.g, bName);
  if (b === undefined || b.dataType !== DataType.FLOAT) return false;
  const dims = tensorDims(b);
  if (dims.length !== 2) return false;
  const [aq, aScale, aZp] = quantizeActivation(ctx, a);
  const [bq, bScale, bZp] = addQuantizedWeight(ctx, bName, readFloats(b), dims, ctx.perChannel ? 1 : undefined);
  const y = n.output?.[0] ?? '';
  const intOut = ctx.names.fresh(`${y}_MatMulInteger`);
  ctx.out.push(node('MatMulInteger', [aq, bq, aZp, bZp], [intOut], {}, { name: ctx.names.fresh(`${n.name || y}_quant`) }));
  rescale(ctx, intOut, aScale, bScale, y);
  return true;
}

/** Conv(X, W const, B?) -> ConvInteger with int8 weights, rescaled, plus the bias. */
function quantizeConv(ctx: Ctx, n: NodeProto): boolean {
  const [x = '', wName = '', bName = ''] = n.input ?? [];
  const w = findInitializer(ctx.g, wName);
  const b = bName === '' ? undefined : findInitializer(ctx.g, bName);
  if (w === undefined || w.dataType !== DataType.FLOAT || (bName !== '' && b === undefined)) return false;
  const dims = tensorDims(w);
  const m = dims[0]!;
  const [xq, xScale, xZp] = quantizeActivation(ctx, x);
  // ORT's CPU ConvInteger takes only a scalar weight zero point. Symmetric
  // weights have the same zero point in every channel (0, or 127 for uint8),
  // so per-channel weights still work: a scalar zero point, and the
  // per-channel scales ([M, 1, 1]) applied in the rescaling Mul.
  const spatialOnes = new Array<number>(dims.length - 2).fill(1);
  const [wq, wScale, wZp] = ctx.perChannel
    ? addQuantizedWeight(ctx, wName, readFloats(w), dims, 0, [m, ...spatialOnes], [])
    : addQuantizedWeight(ctx, wName, readFloats(w), dims, undefined);
  let bias: string | undefined;
  if (b !== undefined) {
    bias = ctx.names.fresh(`${bName}_reshaped`);
    const spatial = dims.length - 2;
    ctx.g.initializer!.push(tensor(bias, readFloats(b), [m, ...new Array<number>(spatial).fill(1)]));
  }
  const y = n.output?.[0] ?? '';
  const intOut = ctx.names.fresh(`${y}_ConvInteger`);
  const conv = node('ConvInteger', [xq, wq, xZp, wZp], [intOut], {}, { name: ctx.names.fresh(`${n.name || y}_quant`) });
  conv.attribute = (n.attribute ?? []).map((a) => ({ ...a }));
  ctx.out.push(conv);
  rescale(ctx, intOut, xScale, wScale, y, bias);
  return true;
}

/**
 * Returns a dynamically quantized copy of `model`. Only nodes of the main
 * graph with FLOAT activations and FLOAT constant weights are quantized;
 * everything else stays fp32.
 * @throws when the model's default opset is below 11 and cannot be raised
 *   safely (see {@link upgradeOpset}).
 */
export function quantizeDynamic(model: ModelProto, options: DynamicQuantOptions = {}): ModelProto {
  const m = prepareForQuantization(model);
  if (defaultOpsetVersion(m) < DYNAMIC_QUANT_MIN_OPSET) {
    try {
      upgradeOpset(m, DYNAMIC_QUANT_MIN_OPSET);
    } catch (err) {
      throw new Error(`dynamic quantization needs opset >= ${DYNAMIC_QUANT_MIN_OPSET}: ${(err as Error).message}`);
    }
  }
  const g = mainGraph(m);
  const types = inferElemTypes(g);
  const ctx: Ctx = { g, names: new NameScope(m), perChannel: options.perChannel ?? true, format: options.format ?? 'u8s8', activations: new Map(), out: [] };
  for (const n of g.node ?? []) {
    const isDefault = (n.domain ?? '') === '';
    const floatIn = types.get(n.input?.[0] ?? '') === DataType.FLOAT;
    const done =
      isDefault && floatIn &&
      ((n.opType === 'MatMul' && quantizeMatMul(ctx, n)) ||
        (n.opType === 'Gemm' && gemmToMatMul(ctx, n)) ||
        (n.opType === 'Conv' && options.quantizeConv === true && quantizeConv(ctx, n)));
    if (!done) ctx.out.push(n);
  }
  g.node = ctx.out;
  dropUnusedInitializers(g);
  return m;
}
