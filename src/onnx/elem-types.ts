/**
 * Element-type inference: which ONNX element type (FLOAT, INT64, BOOL, ...)
 * each tensor of a graph holds. It is the slice of ONNX type inference that
 * the precision transformations need (they only ask "is this tensor float?"),
 * done by propagating declared types through per-operator rules, so that
 * models without `value_info` (such as the PaddleOCR exports) can be handled.
 */
import onnxProto from 'onnx-proto';
import { DataType } from './graph-builder.js';
import { toNumber } from './onnx-model.js';

type GraphProto = onnxProto.onnx.IGraphProto;
type NodeProto = onnxProto.onnx.INodeProto;

/** Element types by tensor name. Tensors whose type could not be inferred are absent. */
export type ElemTypes = Map<string, number>;

const BOOL_OUTPUT = new Set([
  'Equal', 'Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf',
]);
const INT64_OUTPUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression', 'StringNormalizer']);
/** Ops whose outputs are typed by a `dtype` attribute, defaulting to FLOAT. */
const DTYPE_ATTR_FLOAT = new Set(['RandomNormal', 'RandomUniform']);
/** Ops whose outputs are typed by an optional `dtype` attribute, else by input 0. */
const DTYPE_ATTR_LIKE = new Set(['RandomNormalLike', 'RandomUniformLike', 'EyeLike', 'Bernoulli']);

/** The value of an INT attribute, if present. */
export function intAttr(n: NodeProto, name: string): number | undefined {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  return a === undefined ? undefined : toNumber(a.i);
}

function constantType(n: NodeProto): number | undefined {
  for (const a of n.attribute ?? []) {
    switch (a.name) {
      case 'value': return a.t?.dataType ?? undefined;
      case 'value_float': case 'value_floats': return DataType.FLOAT;
      case 'value_int': case 'value_ints': return DataType.INT64;
      case 'value_string': case 'value_strings': return DataType.STRING;
      default:
    }
  }
  return undefined;
}

function declared(list: readonly onnxProto.onnx.IValueInfoProto[] | null | undefined, into: ElemTypes): void {
  for (const v of list ?? []) {
    const t = v.type?.tensorType?.elemType;
    if (v.name && t) into.set(v.name, t);
  }
}

/** The element types of the outputs of `n`, given the types known so far (undefined = unknown). */
function outputTypes(n: NodeProto, types: ElemTypes): (number | undefined)[] {
  const op = n.opType ?? '';
  const outs = n.output ?? [];
  const input = (i: number): number | undefined => {
    const name = (n.input ?? [])[i];
    return name ? types.get(name) : undefined;
  };
  const all = (t: number | undefined): (number | undefined)[] => outs.map(() => t);
  if ((n.domain ?? '') !== '' && n.domain !== 'ai.onnx') {
    if (n.domain === 'com.microsoft' && op === 'DynamicQuantizeLinear') return [DataType.UINT8, DataType.FLOAT, DataType.UINT8];
    return all(input(0));
  }
  if (BOOL_OUTPUT.has(op)) return all(DataType.BOOL);
  if (INT64_OUTPUT.has(op)) return all(DataType.INT64);
  switch (op) {
    case 'Cast': return all(intAttr(n, 'to'));
    case 'CastLike': return all(input(1));
    case 'Constant': return all(constantType(n));
    case 'ConstantOfShape': {
      const value = (n.attribute ?? []).find((a) => a.name === 'value');
      return all(value?.t?.dataType ?? DataType.FLOAT);
    }
    case 'TopK': return [input(0), DataType.INT64];
    case 'MaxPool': return [input(0), DataType.INT64];
    case 'Unique': return [input(0), DataType.INT64, DataType.INT64, DataType.INT64];
    case 'Dropout': return [input(0), DataType.BOOL];
    case 'Where': return all(input(1));
    case 'OneHot': return all(input(2));
    case 'QuantizeLinear': return all(input(2) ?? DataType.UINT8);
    case 'DequantizeLinear': return all(input(1) ?? DataType.FLOAT);
    case 'DynamicQuantizeLinear': return [DataType.UINT8, DataType.FLOAT, DataType.UINT8];
    case 'MatMulInteger': case 'ConvInteger': return all(DataType.INT32);
    case 'QLinearConv': case 'QLinearMatMul': return all(input(7));
    default:
  }
  if (DTYPE_ATTR_FLOAT.has(op)) return all(intAttr(n, 'dtype') ?? DataType.FLOAT);
  if (DTYPE_ATTR_LIKE.has(op)) return all(intAttr(n, 'dtype') ?? input(0));
  if (op === 'If' || op === 'Loop' || op === 'Scan') {
    const body = (n.attribute ?? []).find((a) => a.name === 'then_branch' || a.name === 'body')?.g;
    const bodyOut = (body?.output ?? []).map((v) => v.type?.tensorType?.elemType ?? undefined);
    // Loop's body outputs start with the continue condition; the node's outputs do not.
    return op === 'Loop' ? bodyOut.slice(1) : bodyOut;
  }
  // Most operators (elementwise, shape ops, Conv, MatMul, pooling, normalisation,
  // Gather, Concat, ...) produce the element type of their first input.
  return all(input(0));
}

/**
 * Infers the element type of every tensor in `g` (not of its subgraphs).
 * Declared types (inputs, outputs, value_info, initializers) win over
 * inferred ones. `outer` supplies the types of outer-scope tensors a subgraph
 * refers to. Nodes must be in topological order, as ONNX requires.
 */
export function inferElemTypes(g: GraphProto, outer: ReadonlyMap<string, number> = new Map()): ElemTypes {
  const types: ElemTypes = new Map(outer);
  for (const t of g.initializer ?? []) if (t.name && t.dataType) types.set(t.name, t.dataType);
  declared(g.input, types);
  const pinned: ElemTypes = new Map();
  declared(g.valueInfo, pinned);
  declared(g.output, pinned);
  for (const n of g.node ?? []) {
    const inferred = outputTypes(n, types);
    (n.output ?? []).forEach((name, i) => {
      if (!name) return;
      const t = pinned.get(name) ?? inferred[i];
      if (t !== undefined) types.set(name, t);
    });
  }
  for (const [name, t] of pinned) if (!types.has(name)) types.set(name, t);
  return types;
}
