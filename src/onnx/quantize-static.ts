/**
 * Static int8 quantization in QDQ form, S8S8 (ORT's `quantize_static`
 * defaults): activations int8 asymmetric from calibrated ranges, weights int8
 * symmetric (per channel: Conv axis 0, MatMul axis 1, Gemm along N), bias
 * int32 with `scale = input_scale * weight_scale`, zero point 0.
 *
 * ```
 * x -> QuantizeLinear -> DequantizeLinear -> Conv -> y -> QuantizeLinear -> DequantizeLinear -> consumers
 *      W_quantized    -> DequantizeLinear -^  ^- DequantizeLinear <- B_quantized
 * ```
 *
 * ORT fuses each `DQ -> op -> Q` group into an integer kernel (QLinearConv,
 * QLinearMatMul, QGemm) when it loads the model. A Relu/Clip that alone
 * consumes a quantized op's output is folded into that output's Q (its range
 * clips exactly like the activation); any other op (Add, Mul, pooling,
 * HardSigmoid, ...) stays fp32 between a DQ and the next Q. Weights, biases
 * and activations are quantized with the formulas of `quant-params.ts`.
 */
import onnxProto from 'onnx-proto';
import type { Int8Format } from '../core/int8-format.js';
import { type AttrValue, DataType, attr, node, tensor } from './graph-builder.js';
import { intAttr } from './elem-types.js';
import type { ActivationRange } from './calibration.js';
import { findInitializer, graphProducers } from './graph-edit.js';
import { NameScope, defaultOpsetVersion, mainGraph } from './onnx-model.js';
import { upgradeOpset } from './opset-upgrade.js';
import { DEFAULT_QDQ_OP_TYPES, qdqNodeKey, qdqTargets } from './qdq-targets.js';
import { dropUnusedInitializers, prepareForQuantization } from './quantization-prep.js';
import { type QuantParams, computeScaleZp, qRange, quantizeValue, quantizeWeight, weightQuantization } from './quant-params.js';
import { readFloats, tensorDims } from './tensor-data.js';

type ModelProto = onnxProto.onnx.IModelProto;
type NodeProto = onnxProto.onnx.INodeProto;

/** Options of {@link quantizeStaticQdq}. */
export interface StaticQuantOptions {
  /** Per-channel weights (needs opset 13, raised when safe). Default true. */
  readonly perChannel?: boolean;
  /** Quantize Conv/Gemm biases to int32. Default true. */
  readonly quantizeBias?: boolean;
  /** Op types to quantize. Default {@link DEFAULT_QDQ_OP_TYPES}; must match the calibration's. */
  readonly opTypes?: readonly string[];
  /**
   * Activation element type: 'int8' (S8S8, ORT's default) or 'uint8' (U8S8).
   * On x86 CPUs ORT converts int8 activation Q/DQ pairs to uint8 when it loads
   * the model, but only where a QuantizeLinear feeds a single DequantizeLinear;
   * a tensor with several consumers stays int8 and its Conv is not fused.
   * 'uint8' avoids that. Default 'int8'.
   */
  readonly activationType?: 'int8' | 'uint8';
  /**
   * Fold a Relu/Clip that alone consumes a quantized op's output into that
   * output's QuantizeLinear (quantizing the activation's output instead), when
   * the quantized range lies inside the activation's bounds so the Q clipping
   * computes it exactly. ORT's quantizer does the same. Default true.
   */
  readonly foldActivations?: boolean;
  /** Target nodes left in fp32, by {@link qdqNodeKey}. */
  readonly excludeNodes?: readonly string[];
  /**
   * How weights are stored (see {@link Int8Format}). Default 'u8s8': int8 weights, as ORT's
   * `quantize_static` stores them. 'u8u8' needs uint8 activations.
   */
  readonly format?: Int8Format;
}

/** Per-channel DequantizeLinear (`axis`) exists from this opset on. */
export const PER_CHANNEL_MIN_OPSET = 13;
/** QuantizeLinear/DequantizeLinear exist from this opset on. */
export const QDQ_MIN_OPSET = 10;

interface Quantized {
  /** The DequantizeLinear output consumers read. */
  readonly dq: string;
  readonly params: readonly QuantParams[];
}

/**
 * Returns a QDQ-quantized copy of `model`, using `ranges` from
 * {@link collectActivationRanges} on the same model. Target nodes whose
 * activation inputs have no range stay fp32; an output without a range is
 * left unquantized.
 * @throws when the opset cannot be raised safely to the one needed.
 */
export function quantizeStaticQdq(
  model: ModelProto,
  ranges: ReadonlyMap<string, ActivationRange>,
  options: StaticQuantOptions = {},
): ModelProto {
  const perChannel = options.perChannel ?? true;
  const quantizeBias = options.quantizeBias ?? true;
  const m = prepareForQuantization(model);
  const needed = perChannel ? PER_CHANNEL_MIN_OPSET : QDQ_MIN_OPSET;
  if (defaultOpsetVersion(m) < needed) {
    try {
      upgradeOpset(m, needed);
    } catch (err) {
      throw new Error(`static QDQ quantization needs opset >= ${needed}: ${(err as Error).message}`);
    }
  }
  const g = mainGraph(m);
  const names = new NameScope(m);
  const inits = g.initializer ?? (g.initializer = []);
  const activationType = options.activationType ?? 'int8';
  const format = options.format ?? 'u8s8';
  if (format === 'u8u8' && activationType !== 'uint8') throw new Error("the u8u8 int8 format needs uint8 activations");
  const weightType = weightQuantization(format);
  const [aMin, aMax] = qRange(activationType);
  const excluded = new Set(options.excludeNodes ?? []);
  const targets = qdqTargets(g, options.opTypes ?? DEFAULT_QDQ_OP_TYPES).filter(
    (t) => t.activationInputs.every((a) => ranges.has(a)) && !excluded.has(qdqNodeKey(t.node)),
  );

  // Activations: one Q/DQ pair per tensor, right after its producer.
  const activations = new Map<string, Quantized>();
  const graphOutputs = new Set((g.output ?? []).map((v) => v.name ?? ''));
  const pending = new Map<string, QuantParams>();
  const paramsOf = (name: string): QuantParams => {
    const r = ranges.get(name)!;
    return computeScaleZp(r.min, r.max, aMin, aMax, false);
  };
  const folded = new Set<NodeProto>();
  for (const t of targets) {
    for (const name of t.activationInputs) pending.set(name, paramsOf(name));
    const act = t.activation;
    const actOut = act?.output?.[0] ?? '';
    if (act !== undefined && (options.foldActivations ?? true) && ranges.has(actOut)) {
      const p = paramsOf(actOut);
      const [lo, hi] = activationBounds(g, act);
      if (p.scale * (aMin - p.zeroPoint) >= lo && p.scale * (aMax - p.zeroPoint) <= hi) {
        // The op now writes the activation's output; Q clipping does the activation's work.
        t.node.output = [actOut];
        folded.add(act);
        pending.set(actOut, p);
        continue;
      }
    }
    for (const name of t.outputs.filter((o) => ranges.has(o))) pending.set(name, paramsOf(name));
  }
  const qdqNodes = (name: string, p: QuantParams): NodeProto[] => {
    const scale = names.fresh(`${name}_scale`);
    const zp = names.fresh(`${name}_zero_point`);
    const zpData = activationType === 'int8' ? new Int8Array([p.zeroPoint]) : new Uint8Array([p.zeroPoint]);
    inits.push(tensor(scale, new Float32Array([p.scale]), []), tensor(zp, zpData, []));
    const q = names.fresh(`${name}_QuantizeLinear_Output`);
    const isOutput = graphOutputs.has(name);
    const dq = isOutput ? name : names.fresh(`${name}_DequantizeLinear_Output`);
    const src = isOutput ? names.fresh(`${name}_QuantizeLinear_Input`) : name;
    activations.set(name, { dq, params: [p] });
    return [
      node('QuantizeLinear', [src, scale, zp], [q], {}, { name: names.fresh(`${name}_QuantizeLinear`) }),
      node('DequantizeLinear', [q, scale, zp], [dq], {}, { name: names.fresh(`${name}_DequantizeLinear`) }),
    ];
  };

  // Weights and biases: stored quantized, one DequantizeLinear each.
  const weights = new Map<string, Quantized>();
  const weightNodes: NodeProto[] = [];
  const dequantized = (name: string, values: Int8Array | Uint8Array | Int32Array, dims: number[], params: readonly QuantParams[], axis: number | undefined): Quantized => {
    const shape = axis === undefined ? [] : [dims[axis]!];
    const q = names.fresh(`${name}_quantized`);
    const scale = names.fresh(`${name}_scale`);
    const zp = names.fresh(`${name}_zero_point`);
    const zps = params.map((p) => p.zeroPoint);
    inits.push(
      tensor(q, values, dims),
      tensor(scale, Float32Array.from(params.map((p) => p.scale)), shape),
      tensor(zp, values instanceof Int32Array ? Int32Array.from(zps) : values instanceof Uint8Array ? Uint8Array.from(zps) : Int8Array.from(zps), shape),
    );
    const dq = names.fresh(`${name}_DequantizeLinear_Output`);
    const attrs: Record<string, AttrValue> = axis === undefined ? {} : { axis: attr.int(axis) };
    weightNodes.push(node('DequantizeLinear', [q, scale, zp], [dq], attrs, { name: names.fresh(`${name}_DequantizeLinear`) }));
    return { dq, params };
  };
  const weightAxis = (n: NodeProto): number => {
    if (n.opType === 'Conv') return 0;
    if (n.opType === 'Gemm') return intAttr(n, 'transB') === 1 ? 0 : 1;
    return 1;
  };
  const quantizeWeightInput = (n: NodeProto, name: string): Quantized => {
    const key = `${name}\0${weightAxis(n)}`;
    const known = weights.get(key);
    if (known !== undefined) return known;
    const w = findInitializer(g, name)!;
    const dims = tensorDims(w);
    const axis = perChannel && dims.length >= 2 ? weightAxis(n) : undefined;
    const qw = quantizeWeight(readFloats(w), dims, axis, weightType.type, weightType.symmetric, weightType.reduceRange);
    const values = weightType.type === 'uint8' ? Uint8Array.from(qw.values) : Int8Array.from(qw.values);
    const result = dequantized(name, values, dims, qw.params, axis);
    weights.set(key, result);
    return result;
  };
  const quantizeBiasInput = (name: string, input: QuantParams, weight: readonly QuantParams[]): string | undefined => {
    const b = findInitializer(g, name);
    if (b === undefined || b.dataType !== DataType.FLOAT) return undefined;
    const dims = tensorDims(b);
    const data = readFloats(b);
    if (dims.length !== 1 || (weight.length !== 1 && weight.length !== data.length)) return undefined;
    const params = weight.map((w) => ({ scale: Math.fround(input.scale * w.scale), zeroPoint: 0 }));
    const [lo, hi] = qRange('int32');
    const values = Int32Array.from(data, (x, i) => quantizeValue(x, params[params.length === 1 ? 0 : i]!, lo, hi));
    return dequantized(name, values, dims, params, params.length === 1 ? undefined : 0).dq;
  };

  const producers = graphProducers(g);
  const out: NodeProto[] = [];
  for (const v of g.input ?? []) {
    const p = pending.get(v.name ?? '');
    if (p !== undefined && !producers.has(v.name ?? '')) out.push(...qdqNodes(v.name ?? '', p));
  }
  const targetNodes = new Map(targets.map((t) => [t.node, t]));
  for (const n of g.node ?? []) {
    if (folded.has(n)) continue;
    const t = targetNodes.get(n);
    if (t !== undefined) {
      const inputs = [...(n.input ?? [])];
      let weight: Quantized | undefined;
      for (const [i, name] of inputs.entries()) {
        if (i > 1 || name === '') continue;
        if (t.weightInputs.includes(name)) {
          weight = quantizeWeightInput(n, name);
          inputs[i] = weight.dq;
        }
      }
      const input = activations.get(inputs[0] ?? '')?.params[0];
      const bias = inputs[2];
      if (quantizeBias && bias && weight !== undefined && input !== undefined && n.opType !== 'MatMul') {
        inputs[2] = quantizeBiasInput(bias, input, weight.params) ?? bias;
      }
      out.push(...weightNodes.splice(0));
      n.input = inputs;
    }
    // Activation inputs read the DQ of their tensor (any consumer, so ORT sees one quantized edge).
    n.input = (n.input ?? []).map((name) => activations.get(name)?.dq ?? name);
    out.push(n);
    for (const [i, o] of (n.output ?? []).entries()) {
      const p = pending.get(o);
      if (p === undefined) continue;
      const qdq = qdqNodes(o, p);
      if (graphOutputs.has(o)) n.output![i] = qdq[0]!.input![0]!;
      out.push(...qdq);
    }
  }
  g.node = out;
  dropUnusedInitializers(g);
  return m;
}

/** The [min, max] a Relu or Clip clamps to (Clip bounds from attributes before opset 11, inputs after). */
function activationBounds(g: onnxProto.onnx.IGraphProto, act: NodeProto): [number, number] {
  if (act.opType === 'Relu') return [0, Infinity];
  const bound = (attrName: string, index: number, fallback: number): number => {
    const a = (act.attribute ?? []).find((x) => x.name === attrName);
    if (a !== undefined) return a.f ?? fallback;
    const name = act.input?.[index] ?? '';
    if (name === '') return fallback;
    const t = findInitializer(g, name);
    // A bound computed at run time: unknown, so never fold.
    return t === undefined ? NaN : readFloats(t)[0] ?? fallback;
  };
  return [bound('min', 1, -Infinity), bound('max', 2, Infinity)];
}
