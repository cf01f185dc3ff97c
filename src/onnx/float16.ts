/**
 * fp32 -> fp16 model conversion, following the rules of onnxconverter-common's
 * `convert_float_to_float16` as ONNX Runtime's fork applies them (block list,
 * clamping, Cast insertion, keep_io_types), with one change in how casts are
 * placed: every float tensor gets one storage precision (fp16 unless a
 * blocked node produces it) and a Cast is inserted only where a consumer wants
 * the other precision, shared between consumers. So two adjacent blocked nodes
 * talk in fp32 with no fp16 round trip between them.
 *
 * value_info is kept consistent (each float entry gets its tensor's storage
 * type); the inserted Cast outputs carry no value_info and ORT infers them.
 */
import onnxProto from 'onnx-proto';
import { DataType, attr, node, tensor } from './graph-builder.js';
import { inferElemTypes, intAttr } from './elem-types.js';
import { type Float16Clamp, toFloat16Bits } from './half-precision.js';
import { NameScope, cloneModel, mainGraph } from './onnx-model.js';
import { readFloats, setFloat16Bits } from './tensor-data.js';
import { graphConsumers, renameTensor, subgraphsOf } from './graph-edit.js';

type ModelProto = onnxProto.onnx.IModelProto;
type GraphProto = onnxProto.onnx.IGraphProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

/** ORT's default fp16 op block list (its fork of onnxconverter-common's float16.py). */
export const DEFAULT_OP_BLOCK_LIST: readonly string[] = Object.freeze([
  'ArrayFeatureExtractor', 'Binarizer', 'CastMap', 'CategoryMapper', 'DictVectorizer', 'FeatureVectorizer',
  'Imputer', 'LabelEncoder', 'LinearClassifier', 'LinearRegressor', 'Normalizer', 'OneHotEncoder',
  'RandomUniformLike', 'SVMClassifier', 'SVMRegressor', 'Scaler', 'TreeEnsembleClassifier',
  'TreeEnsembleRegressor', 'TreeEnsemble', 'ZipMap', 'NonMaxSuppression', 'TopK', 'RoiAlign', 'Range',
  'CumSum', 'Min', 'Max', 'Upsample',
]);

/** Ops whose float inputs/outputs are fp32 by definition here; always treated as blocked. */
const ALWAYS_FP32_OPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear']);
/** Inputs that must stay fp32 even on a converted node (ORT's ALWAYS_FLOAT_INPUTS). */
const ALWAYS_FLOAT_INPUTS: Readonly<Record<string, readonly number[]>> = { Resize: [2], GroupNorm: [1, 2], SkipGroupNorm: [1, 2] };
const CONTROL_FLOW = new Set(['If', 'Loop', 'Scan']);
const DTYPE_OPS = new Set(['EyeLike', 'RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli']);

/** Options of {@link convertToFloat16}. */
export interface Float16Options extends Float16Clamp {
  /**
   * Keep FLOAT graph inputs and outputs (Casts are inserted after the inputs and
   * before the outputs). `false` gives the "fp16-I/O" form, whose float inputs
   * and outputs are FLOAT16. Default true.
   */
  readonly keepIoTypes?: boolean;
  /** Op types left in fp32, with Casts at their boundary. Default {@link DEFAULT_OP_BLOCK_LIST}. */
  readonly opBlockList?: readonly string[];
  /** Node names left in fp32, in addition to the blocked op types. */
  readonly nodeBlockList?: readonly string[];
}

type Precision = 'fp16' | 'fp32';

interface Context {
  readonly names: NameScope;
  readonly blockedOps: ReadonlySet<string>;
  readonly blockedNodes: ReadonlySet<string>;
  readonly keepIoTypes: boolean;
  readonly clamp: Float16Clamp;
}

/**
 * Converts a copy of `model` to fp16: FLOAT initializers, Constant/tensor
 * attributes, value types and `Cast(to=FLOAT)` become FLOAT16 outside blocked
 * ops; If/Loop/Scan bodies are converted too (blocking a control-flow op is refused).
 * @throws on models with local functions, FLOAT sparse tensors or external data.
 */
export function convertToFloat16(model: ModelProto, options: Float16Options = {}): ModelProto {
  const m = cloneModel(model);
  if ((m.functions ?? []).length > 0) throw new Error('fp16 conversion: models with local functions are not supported');
  const ctx: Context = {
    names: new NameScope(m),
    blockedOps: new Set([...(options.opBlockList ?? DEFAULT_OP_BLOCK_LIST), ...ALWAYS_FP32_OPS]),
    blockedNodes: new Set(options.nodeBlockList ?? []),
    keepIoTypes: options.keepIoTypes ?? true,
    clamp: { minPositive: options.minPositive, maxFinite: options.maxFinite },
  };
  convertGraph(mainGraph(m), ctx, true, new Map(), new Map());
  return m;
}

function isBlocked(n: NodeProto, ctx: Context): boolean {
  const blocked = ctx.blockedOps.has(n.opType ?? '') || (n.name !== undefined && n.name !== null && ctx.blockedNodes.has(n.name));
  if (blocked && CONTROL_FLOW.has(n.opType ?? '')) {
    throw new Error(`fp16 conversion: blocking control-flow node '${n.name ?? n.opType}' (${n.opType}) is not supported`);
  }
  return blocked;
}

/** Converts `t` (a FLOAT tensor) in place to clamped, rounded FLOAT16. */
function toFloat16Tensor(t: TensorProto, ctx: Context): void {
  if (t.dataType !== DataType.FLOAT) return;
  setFloat16Bits(t, toFloat16Bits(readFloats(t), ctx.clamp));
}

/** Rewrites the attributes of a converted node so that it computes in fp16. */
function convertAttributes(n: NodeProto, ctx: Context): void {
  const op = n.opType ?? '';
  const attrs = n.attribute ?? (n.attribute = []);
  for (const a of attrs) {
    if (a.t) toFloat16Tensor(a.t, ctx);
    for (const t of a.tensors ?? []) toFloat16Tensor(t, ctx);
    if (a.sparseTensor?.values?.dataType === DataType.FLOAT) {
      throw new Error(`fp16 conversion: node '${n.name ?? op}' has a FLOAT sparse tensor attribute, not supported`);
    }
  }
  if (op === 'Constant') {
    const i = attrs.findIndex((a) => a.name === 'value_float' || a.name === 'value_floats');
    if (i >= 0) {
      const a = attrs[i]!;
      const values = a.name === 'value_float' ? [a.f ?? 0] : (a.floats ?? []);
      const t = tensor('', Float32Array.from(values), a.name === 'value_float' ? [] : [values.length]);
      toFloat16Tensor(t, ctx);
      attrs[i] = { name: 'value', ...attr.tensor(t) };
    }
  }
  if (op === 'ConstantOfShape' && !attrs.some((a) => a.name === 'value')) {
    const t = tensor('', new Float32Array([0]), [1]);
    toFloat16Tensor(t, ctx);
    attrs.push({ name: 'value', ...attr.tensor(t) });
  }
  for (const a of attrs) {
    if ((op === 'Cast' && a.name === 'to') || (DTYPE_OPS.has(op) && a.name === 'dtype')) {
      if (intAttr(n, a.name) === DataType.FLOAT) a.i = DataType.FLOAT16;
    }
  }
  if ((op === 'RandomNormal' || op === 'RandomUniform') && intAttr(n, 'dtype') === undefined) {
    attrs.push({ name: 'dtype', ...attr.int(DataType.FLOAT16) });
  }
}

/**
 * Converts graph `g` in place. `outerStorage`/`outerTypes` describe the
 * outer-scope tensors a subgraph may refer to.
 */
function convertGraph(
  g: GraphProto,
  ctx: Context,
  isMain: boolean,
  outerStorage: ReadonlyMap<string, Precision>,
  outerTypes: ReadonlyMap<string, number>,
): void {
  const types = inferElemTypes(g, outerTypes);
  const isFloat = (name: string): boolean => name !== '' && types.get(name) === DataType.FLOAT;
  const nodes = g.node ?? [];
  const blocked = new Set(nodes.filter((n) => isBlocked(n, ctx)));
  const ioPrecision: Precision = isMain && ctx.keepIoTypes ? 'fp32' : 'fp16';

  // What each consumer wants of a float tensor.
  const wantOf = (consumer: NodeProto, index: number): Precision => {
    if (blocked.has(consumer)) return 'fp32';
    return (ALWAYS_FLOAT_INPUTS[consumer.opType ?? ''] ?? []).includes(index) ? 'fp32' : 'fp16';
  };
  const consumers = graphConsumers(g);
  const outputNames = new Set((g.output ?? []).map((v) => v.name ?? ''));
  const allWantFp32 = (name: string): boolean => {
    if (outputNames.has(name) && ioPrecision === 'fp16') return false;
    const uses = consumers.get(name) ?? [];
    return uses.length > 0 && uses.every((u) => wantOf(u.node, u.index) === 'fp32');
  };

  // One storage precision per float tensor.
  const storage = new Map<string, Precision>(outerStorage);
  for (const v of g.input ?? []) if (isFloat(v.name ?? '')) storage.set(v.name ?? '', ioPrecision);
  for (const t of g.initializer ?? []) {
    if (t.dataType !== DataType.FLOAT) continue;
    const p: Precision = allWantFp32(t.name ?? '') ? 'fp32' : 'fp16';
    storage.set(t.name ?? '', p);
    if (p === 'fp16') toFloat16Tensor(t, ctx);
  }
  const keptFp32 = new Set<NodeProto>(blocked);
  for (const n of nodes) {
    if (n.opType === 'Constant' && !blocked.has(n) && (n.output ?? []).every((o) => !isFloat(o) || allWantFp32(o))) keptFp32.add(n);
    const p: Precision = keptFp32.has(n) ? 'fp32' : 'fp16';
    for (const o of n.output ?? []) if (isFloat(o)) storage.set(o, p);
  }

  // Graph outputs stored in the wrong precision: the producer writes a new name, a Cast writes the output.
  const tailCasts: NodeProto[] = [];
  for (const v of g.output ?? []) {
    const name = v.name ?? '';
    const p = storage.get(name);
    if (!isFloat(name) || p === undefined || p === ioPrecision) continue;
    if ((g.input ?? []).some((i) => i.name === name)) throw new Error(`fp16 conversion: cannot retype pass-through tensor '${name}'`);
    const local = (g.initializer ?? []).some((t) => t.name === name) || nodes.some((n) => (n.output ?? []).includes(name));
    if (!local) {
      // A subgraph output that is an outer-scope tensor: outputs bind by position, so cast under a new name.
      const cast = ctx.names.fresh(`${name}_cast_${ioPrecision}`);
      tailCasts.push(castNode(name, cast, ioPrecision, ctx));
      v.name = cast;
      continue;
    }
    const inner = ctx.names.fresh(`${name}_${p}`);
    renameTensor(g, name, inner);
    storage.set(inner, p);
    types.set(inner, DataType.FLOAT);
    tailCasts.push(castNode(inner, name, ioPrecision, ctx));
  }
  for (const v of g.output ?? []) {
    const tt = v.type?.tensorType;
    if (tt && tt.elemType === DataType.FLOAT) tt.elemType = ioPrecision === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  }
  for (const v of [...(g.input ?? []), ...(g.valueInfo ?? [])]) {
    const tt = v.type?.tensorType;
    const p = storage.get(v.name ?? '');
    if (tt && tt.elemType === DataType.FLOAT && p !== undefined) tt.elemType = p === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  }

  // Rebuild the node list with shared Casts placed just before their first consumer.
  const casts = new Map<string, string>();
  const out: NodeProto[] = [];
  const inputAs = (name: string, want: Precision): string => {
    const have = storage.get(name);
    if (!isFloat(name) || have === undefined || have === want) return name;
    const key = `${name}\0${want}`;
    let castOut = casts.get(key);
    if (castOut === undefined) {
      castOut = ctx.names.fresh(`${name}_cast_${want}`);
      casts.set(key, castOut);
      storage.set(castOut, want);
      types.set(castOut, DataType.FLOAT);
      out.push(castNode(name, castOut, want, ctx));
    }
    return castOut;
  };
  for (const n of nodes) {
    n.input = (n.input ?? []).map((name, i) => inputAs(name, wantOf(n, i)));
    if (!keptFp32.has(n)) convertAttributes(n, ctx);
    for (const sub of subgraphsOf(n)) {
      // Outer tensors a body reads are handed over in the precision the body expects (fp16).
      for (const ref of outerReferences(sub)) {
        const fixed = inputAs(ref, 'fp16');
        if (fixed !== ref) renameTensor(sub, ref, fixed);
      }
      convertGraph(sub, ctx, false, storage, types);
    }
    out.push(n);
  }
  g.node = [...out, ...tailCasts];
}

function castNode(from: string, to: string, precision: Precision, ctx: Context): NodeProto {
  const elem = precision === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  return node('Cast', [from], [to], { to: attr.int(elem) }, { name: ctx.names.fresh(`${to}_node`) });
}

/** Names a subgraph reads but does not define (its outer-scope references). */
function outerReferences(g: GraphProto): Set<string> {
  const defined = new Set<string>([...(g.input ?? []).map((v) => v.name ?? ''), ...(g.initializer ?? []).map((t) => t.name ?? '')]);
  const refs = new Set<string>();
  const visit = (graph: GraphProto, local: Set<string>): void => {
    for (const n of graph.node ?? []) {
      for (const i of n.input ?? []) if (i !== '' && !local.has(i)) refs.add(i);
      for (const sub of subgraphsOf(n)) {
        const inner = new Set(local);
        for (const v of sub.input ?? []) inner.add(v.name ?? '');
        for (const t of sub.initializer ?? []) inner.add(t.name ?? '');
        visit(sub, inner);
      }
      for (const o of n.output ?? []) local.add(o);
    }
    for (const v of graph.output ?? []) if (!local.has(v.name ?? '')) refs.add(v.name ?? '');
  };
  visit(g, defined);
  return refs;
}
