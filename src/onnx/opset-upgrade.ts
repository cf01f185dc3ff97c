/**
 * Raising a model's default-domain opset (e.g. 9 -> 13 so that
 * DynamicQuantizeLinear and per-channel DequantizeLinear are available) when
 * that is known to be safe. Each op in the graph must be either on a list of
 * ops whose meaning did not change between the two versions (only new types
 * or new attributes with backward-compatible defaults), or have an adapter
 * below that rewrites it to the new form. Anything else refuses the upgrade
 * with an error naming the ops.
 *
 * Supported: from opset >= 9 to opset <= 17 (opset 18 moved `axes` of every
 * Reduce* op to an input, which is not adapted here).
 */
import onnxProto from 'onnx-proto';
import { DataType, attr, node, tensor } from './graph-builder.js';
import { inferElemTypes } from './elem-types.js';
import { subgraphsOf } from './graph-edit.js';
import { NameScope, cloneModel, defaultOpsetVersion, mainGraph, setDefaultOpsetVersion, toNumber } from './onnx-model.js';
import { float32ToFloat16Bits } from './half-precision.js';

type ModelProto = onnxProto.onnx.IModelProto;
type GraphProto = onnxProto.onnx.IGraphProto;
type NodeProto = onnxProto.onnx.INodeProto;

/** The lowest and highest opsets {@link upgradeOpset} handles. */
export const UPGRADE_MIN_FROM = 9;
export const UPGRADE_MAX_TO = 17;

/** Ops unchanged in meaning from opset 9 to 17 (later versions only add types or defaulted attributes). */
const COMPATIBLE = new Set(`Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization
Cast Ceil Celu Compress Concat ConcatFromSequence Constant ConstantOfShape Conv ConvInteger ConvTranspose Cos Cosh CumSum
DepthToSpace DequantizeLinear Det Div DynamicQuantizeLinear Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor GRU
Gather GatherElements GatherND Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool Greater GreaterOrEqual HardSigmoid
HardSwish Identity If InstanceNormalization IsInf IsNaN LRN LSTM LeakyRelu Less LessOrEqual Log Loop LpNormalization
LpPool MatMul MatMulInteger Max MaxPool MaxRoiPool MaxUnpool Mean MeanVarianceNormalization Min Mod Mul Multinomial Neg
NonMaxSuppression NonZero Not OneHot Or PRelu Pow QLinearConv QLinearMatMul QuantizeLinear RNN RandomNormal
RandomNormalLike RandomUniform RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp
ReduceMax ReduceMean ReduceMin ReduceProd ReduceSumSquare Relu Reshape ReverseSequence RoiAlign Round Scan
ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh Size Softplus Softsign SpaceToDepth Sqrt Sub Sum Tan
Tanh ThresholdedRelu Tile Transpose Unique Where Xor`.split(/\s+/));

/** Minimum IR version for an opset (ONNX's release table). */
function irVersionFor(opset: number): number {
  return opset <= 9 ? 4 : opset === 10 ? 5 : opset === 11 ? 6 : opset <= 14 ? 7 : 8;
}

interface Edit {
  readonly g: GraphProto;
  readonly names: NameScope;
  readonly from: number;
  readonly to: number;
  readonly types: Map<string, number>;
  readonly ranks: Map<string, number>;
  /** Nodes to emit in place of the node being adapted. */
  readonly out: NodeProto[];
}

const crosses = (e: Edit, version: number): boolean => e.from < version && e.to >= version;

function takeAttr(n: NodeProto, name: string): onnxProto.onnx.IAttributeProto | undefined {
  const attrs = n.attribute ?? [];
  const i = attrs.findIndex((a) => a.name === name);
  if (i < 0) return undefined;
  const [a] = attrs.splice(i, 1);
  return a;
}

function int64Input(e: Edit, n: NodeProto, what: string, values: readonly number[]): string {
  const name = e.names.fresh(`${n.name || n.output?.[0] || n.opType}_${what}`);
  (e.g.initializer ?? (e.g.initializer = [])).push(tensor(name, BigInt64Array.from(values.map(BigInt)), [values.length]));
  return name;
}

/** A scalar initializer of the same float type as tensor `like`. */
function scalarInput(e: Edit, n: NodeProto, what: string, value: number, like: string): string {
  const name = e.names.fresh(`${n.name || n.output?.[0] || n.opType}_${what}`);
  const type = e.types.get(like) ?? DataType.FLOAT;
  const inits = e.g.initializer ?? (e.g.initializer = []);
  if (type === DataType.FLOAT) inits.push(tensor(name, new Float32Array([value]), []));
  else if (type === DataType.FLOAT16) inits.push(tensor(name, new Uint16Array([float32ToFloat16Bits(value)]), [], DataType.FLOAT16));
  else if (type === DataType.DOUBLE) inits.push(tensor(name, new Float64Array([value]), []));
  else throw new Error(`opset upgrade: ${n.opType} '${n.name ?? ''}' on element type ${type} cannot be adapted`);
  return name;
}

/** Moves an INTS attribute to a new trailing int64 input; returns false when absent. */
function attrToInput(e: Edit, n: NodeProto, attrName: string, inputIndex: number): boolean {
  const a = takeAttr(n, attrName);
  if (a === undefined) return false;
  const inputs = n.input ?? (n.input = []);
  while (inputs.length < inputIndex) inputs.push('');
  inputs[inputIndex] = int64Input(e, n, attrName, (a.ints ?? []).map(toNumber));
  return true;
}

/** Rewrites `n` for the new opset, pushing its replacement(s) to `e.out`; false when `n` cannot be adapted. */
function adapt(n: NodeProto, e: Edit): boolean {
  const op = n.opType ?? '';
  if (COMPATIBLE.has(op)) {
    if (op === 'BatchNormalization' && (n.output ?? []).slice(1).some((o) => o !== '')) return false;
    e.out.push(n);
    return true;
  }
  switch (op) {
    case 'Clip':
      if (crosses(e, 11)) {
        const min = takeAttr(n, 'min');
        const max = takeAttr(n, 'max');
        const x = n.input?.[0] ?? '';
        n.input = [x, min ? scalarInput(e, n, 'min', min.f ?? 0, x) : '', max ? scalarInput(e, n, 'max', max.f ?? 0, x) : ''];
        while (n.input.at(-1) === '') n.input.pop();
      }
      break;
    case 'Slice':
      if (crosses(e, 10)) {
        const x = n.input?.[0] ?? '';
        n.input = [x];
        attrToInput(e, n, 'starts', 1);
        attrToInput(e, n, 'ends', 2);
        attrToInput(e, n, 'axes', 3);
      }
      break;
    case 'Squeeze': case 'Unsqueeze': case 'ReduceSum':
      if (crosses(e, 13)) attrToInput(e, n, 'axes', 1);
      break;
    case 'Split':
      if (crosses(e, 13)) attrToInput(e, n, 'split', 1);
      break;
    case 'Pad':
      if (crosses(e, 11)) {
        const pads = takeAttr(n, 'pads');
        const value = takeAttr(n, 'value');
        const x = n.input?.[0] ?? '';
        n.input = [x, int64Input(e, n, 'pads', (pads?.ints ?? []).map(toNumber))];
        if (value !== undefined) n.input.push(scalarInput(e, n, 'value', value.f ?? 0, x));
      }
      break;
    case 'Dropout':
      // Inference-only: Dropout is the identity once its mask output is unused.
      if ((n.output ?? []).slice(1).some((o) => o !== '')) return false;
      e.out.push(node('Identity', [n.input?.[0] ?? ''], [n.output?.[0] ?? ''], {}, { name: n.name ?? '' }));
      return true;
    case 'TopK':
      if (crosses(e, 10)) return false;
      break;
    case 'Resize':
      if (crosses(e, 11)) return false;
      break;
    case 'Softmax': case 'LogSoftmax': case 'Hardmax':
      if (crosses(e, 13)) return adaptSoftmax(n, e);
      break;
    default:
      return false;
  }
  e.out.push(n);
  return true;
}

/**
 * Before opset 13 these ops flattened the input to 2-D at `axis` (default 1);
 * from 13 they work along `axis` (default -1) only. The two agree when `axis`
 * is the last axis; otherwise the old meaning is rebuilt as
 * Flatten(axis) -> op(axis=-1) -> Reshape(to the input's shape).
 */
function adaptSoftmax(n: NodeProto, e: Edit): boolean {
  const axisAttr = takeAttr(n, 'axis');
  const axis = axisAttr === undefined ? 1 : toNumber(axisAttr.i);
  const x = n.input?.[0] ?? '';
  const y = n.output?.[0] ?? '';
  const rank = e.ranks.get(x) ?? e.ranks.get(y);
  if (axis === -1 || (rank !== undefined && axis === rank - 1)) {
    n.attribute = [...(n.attribute ?? []), { name: 'axis', ...attr.int(-1) }];
    e.out.push(n);
    return true;
  }
  const base = n.name || y;
  const flat = e.names.fresh(`${base}_flat`);
  const shape = e.names.fresh(`${base}_shape`);
  const soft = e.names.fresh(`${base}_2d`);
  e.out.push(node('Flatten', [x], [flat], { axis: attr.int(axis) }, { name: e.names.fresh(`${base}_flatten`) }));
  e.out.push(node('Shape', [x], [shape], {}, { name: e.names.fresh(`${base}_shape_of`) }));
  n.input = [flat];
  n.output = [soft];
  n.attribute = [...(n.attribute ?? []), { name: 'axis', ...attr.int(-1) }];
  e.out.push(n);
  e.out.push(node('Reshape', [soft, shape], [y], {}, { name: e.names.fresh(`${base}_reshape`) }));
  return true;
}

function declaredRanks(g: GraphProto): Map<string, number> {
  const ranks = new Map<string, number>();
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) {
    const shape = v.type?.tensorType?.shape;
    if (shape && v.name) ranks.set(v.name, (shape.dim ?? []).length);
  }
  return ranks;
}

function upgradeGraph(g: GraphProto, names: NameScope, from: number, to: number, outerTypes: Map<string, number>, refused: Set<string>): void {
  const types = inferElemTypes(g, outerTypes);
  const e: Edit = { g, names, from, to, types, ranks: declaredRanks(g), out: [] };
  for (const n of g.node ?? []) {
    const isDefault = (n.domain ?? '') === '' || n.domain === 'ai.onnx';
    for (const sub of subgraphsOf(n)) upgradeGraph(sub, names, from, to, types, refused);
    if (!isDefault) e.out.push(n);
    else if (!adapt(n, e)) refused.add(n.opType ?? '');
  }
  g.node = e.out;
}

/**
 * The ops that stop `model` from being raised to opset `to` (empty when the
 * upgrade is safe). Does not modify `model`.
 */
export function opsetUpgradeBlockers(model: ModelProto, to: number): string[] {
  try {
    upgradeOpset(cloneModel(model), to);
    return [];
  } catch (err) {
    const blockers = (err as { blockers?: string[] }).blockers;
    if (blockers !== undefined) return blockers;
    throw err;
  }
}

/**
 * Raises `model`'s default-domain opset to `to` IN PLACE, adapting the ops
 * whose form changed (Clip, Slice, Pad, Squeeze/Unsqueeze, ReduceSum, Split,
 * Softmax/LogSoftmax/Hardmax, Dropout). A no-op when the model already
 * imports `to` or later. Also raises the IR version to the one `to` needs.
 * On failure `model` is left untouched.
 * @throws an Error (with a `blockers` list) when an op cannot be carried over safely.
 */
export function upgradeOpset(model: ModelProto, to: number): void {
  const from = defaultOpsetVersion(model);
  if (from >= to) return;
  if (from < UPGRADE_MIN_FROM || to > UPGRADE_MAX_TO) {
    throw new Error(`opset upgrade from ${from} to ${to} is not supported (only ${UPGRADE_MIN_FROM}..${UPGRADE_MAX_TO})`);
  }
  const work = cloneModel(model);
  const refused = new Set<string>();
  upgradeGraph(mainGraph(work), new NameScope(work), from, to, new Map(), refused);
  if (refused.size > 0) {
    const list = [...refused].sort();
    throw Object.assign(new Error(`cannot raise the opset from ${from} to ${to} safely: op(s) ${list.join(', ')} changed meaning and have no adapter`), { blockers: list });
  }
  model.graph = work.graph;
  setDefaultOpsetVersion(model, to);
  model.irVersion = Math.max(toNumber(model.irVersion), irVersionFor(to));
}
