/**
 * Which nodes static (QDQ) quantization rewrites, and which of their tensors
 * are activations that need a calibrated range. Shared by the calibration
 * (which measures those tensors) and the quantizer (which uses the ranges).
 */
import onnxProto from 'onnx-proto';
import { DataType } from './graph-builder.js';
import { inferElemTypes } from './elem-types.js';
import { graphConsumers } from './graph-edit.js';

type GraphProto = onnxProto.onnx.IGraphProto;
type NodeProto = onnxProto.onnx.INodeProto;

/**
 * Op types quantized by default: the ones whose QDQ form ORT turns into
 * integer kernels (QLinearConv, QLinearMatMul, QGemm). Relu/Clip and the
 * other "pass-through" ops of ORT's QDQ registry are left in fp32.
 */
export const DEFAULT_QDQ_OP_TYPES: readonly string[] = Object.freeze(['Conv', 'MatMul', 'Gemm']);

/** Input indices that carry data (activations or weights), per op; others (e.g. bias) are handled apart. */
const DATA_INPUTS: Readonly<Record<string, readonly number[]>> = { Conv: [0, 1], MatMul: [0, 1], Gemm: [0, 1] };

/** A node to quantize, with the names of its activation inputs and float outputs. */
export interface QdqTarget {
  readonly node: NodeProto;
  /** Float inputs that are not initializers (need calibrated ranges). */
  readonly activationInputs: readonly string[];
  /** Float data inputs that are initializers (quantized offline as weights). */
  readonly weightInputs: readonly string[];
  readonly outputs: readonly string[];
  /**
   * A Relu or Clip that is the only consumer of the (single, non-graph-output)
   * output: the quantizer may fold it into the output's QuantizeLinear, as
   * ORT's QDQ quantizer does with "removable activations".
   */
  readonly activation?: NodeProto;
}

/** Activations that quantization can absorb (the Q range clips like they do). */
export const FOLDABLE_ACTIVATIONS: ReadonlySet<string> = new Set(['Relu', 'Clip']);

/** The nodes of `g`'s main level whose op type is in `opTypes` and whose data inputs are FLOAT. */
export function qdqTargets(g: GraphProto, opTypes: readonly string[] = DEFAULT_QDQ_OP_TYPES): QdqTarget[] {
  const types = inferElemTypes(g);
  const initializers = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const ops = new Set(opTypes);
  const consumers = graphConsumers(g);
  const graphOutputs = new Set((g.output ?? []).map((v) => v.name ?? ''));
  const out: QdqTarget[] = [];
  for (const n of g.node ?? []) {
    const op = n.opType ?? '';
    if (!ops.has(op) || (n.domain ?? '') !== '' || DATA_INPUTS[op] === undefined) continue;
    const data = DATA_INPUTS[op].map((i) => n.input?.[i] ?? '');
    if (data.some((name) => name === '' || types.get(name) !== DataType.FLOAT)) continue;
    const outputs = (n.output ?? []).filter((o) => o !== '' && types.get(o) === DataType.FLOAT);
    const uses = outputs.length === 1 ? (consumers.get(outputs[0]!) ?? []) : [];
    const next = uses.length === 1 && uses[0]!.index === 0 ? uses[0]!.node : undefined;
    const foldable = next !== undefined && FOLDABLE_ACTIVATIONS.has(next.opType ?? '') && (next.domain ?? '') === '' && !graphOutputs.has(outputs[0]!);
    out.push({
      node: n,
      activationInputs: data.filter((name) => !initializers.has(name)),
      weightInputs: data.filter((name) => initializers.has(name)),
      outputs,
      ...(foldable ? { activation: next } : {}),
    });
  }
  return out;
}

/** How a target node is named in exclusion lists: its name, or its first output when unnamed. */
export function qdqNodeKey(n: NodeProto): string {
  return n.name !== undefined && n.name !== null && n.name !== '' ? n.name : (n.output?.[0] ?? '');
}

/** Every tensor whose range static quantization of `g` would use, in graph order, without duplicates. */
export function tensorsToCalibrate(g: GraphProto, opTypes: readonly string[] = DEFAULT_QDQ_OP_TYPES): string[] {
  const names = new Set<string>();
  for (const t of qdqTargets(g, opTypes)) {
    for (const a of t.activationInputs) names.add(a);
    for (const o of t.outputs) names.add(o);
    for (const o of t.activation?.output ?? []) if (o !== '') names.add(o);
  }
  return [...names];
}
