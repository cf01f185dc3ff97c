/**
 * The graph clean-up every quantizer (and the calibration that feeds one)
 * starts from, like ORT's `quant_pre_process`: Constant nodes become
 * initializers, and BatchNormalization after a Conv with constant weights is
 * folded into that Conv, so the quantized Conv computes what the pair did
 * (and ORT can still fuse it once Q/DQ nodes sit between them).
 *
 * It is deterministic: the same model always gives the same tensor names, so
 * ranges calibrated on one prepared copy apply to another.
 */
import onnxProto from 'onnx-proto';
import { tensor } from './graph-builder.js';
import { intAttr } from './elem-types.js';
import { findInitializer, graphConsumers, liftConstants } from './graph-edit.js';
import { NameScope, cloneModel, mainGraph } from './onnx-model.js';
import { readFloats, tensorDims } from './tensor-data.js';

type ModelProto = onnxProto.onnx.IModelProto;
type GraphProto = onnxProto.onnx.IGraphProto;
type NodeProto = onnxProto.onnx.INodeProto;

function floatAttr(n: NodeProto, name: string): number | undefined {
  return (n.attribute ?? []).find((a) => a.name === name)?.f ?? undefined;
}

/**
 * Folds each `Conv -> BatchNormalization` pair into one Conv, in place:
 * `W'[m] = W[m] * a[m]`, `B'[m] = (B[m] - mean[m]) * a[m] + beta[m]` with
 * `a = gamma / sqrt(var + epsilon)`. Only pairs whose Conv output feeds the
 * BatchNormalization alone, whose parameters are all initializers, and whose
 * BatchNormalization has a single output are folded.
 * @returns the number of pairs folded.
 */
export function foldBatchNorm(g: GraphProto, names: NameScope): number {
  const consumers = graphConsumers(g);
  const graphOutputs = new Set((g.output ?? []).map((v) => v.name ?? ''));
  const convOf = new Map<string, NodeProto>();
  for (const n of g.node ?? []) if (n.opType === 'Conv' && (n.domain ?? '') === '') convOf.set(n.output?.[0] ?? '', n);
  const removed = new Set<NodeProto>();
  let folded = 0;
  for (const bn of g.node ?? []) {
    if (bn.opType !== 'BatchNormalization' || (bn.output ?? []).slice(1).some((o) => o !== '')) continue;
    if (intAttr(bn, 'training_mode') === 1) continue;
    const y = bn.input?.[0] ?? '';
    const conv = convOf.get(y);
    if (conv === undefined || graphOutputs.has(y) || (consumers.get(y) ?? []).length !== 1) continue;
    const [, wName = '', bName = ''] = conv.input ?? [];
    const w = findInitializer(g, wName);
    const b = bName === '' ? undefined : findInitializer(g, bName);
    const params = (bn.input ?? []).slice(1, 5).map((name) => findInitializer(g, name));
    if (w === undefined || (bName !== '' && b === undefined) || params.length !== 4 || params.some((p) => p === undefined)) continue;
    const [gamma, beta, mean, variance] = params.map((p) => readFloats(p!)) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const dims = tensorDims(w);
    const m = dims[0]!;
    if ([gamma, beta, mean, variance].some((p) => p.length !== m)) continue;
    const eps = floatAttr(bn, 'epsilon') ?? 1e-5;
    const wData = readFloats(w);
    const bData = b === undefined ? new Float32Array(m) : readFloats(b);
    const inner = wData.length / m;
    const newW = new Float32Array(wData.length);
    const newB = new Float32Array(m);
    for (let c = 0; c < m; c++) {
      const a = gamma[c]! / Math.sqrt(variance[c]! + eps);
      for (let i = 0; i < inner; i++) newW[c * inner + i] = wData[c * inner + i]! * a;
      newB[c] = (bData[c]! - mean[c]!) * a + beta[c]!;
    }
    const wOut = names.fresh(`${wName}_bn_folded`);
    const bOut = names.fresh(`${bName || wName}_bias_bn_folded`);
    g.initializer!.push(tensor(wOut, newW, dims), tensor(bOut, newB, [m]));
    conv.input = [conv.input?.[0] ?? '', wOut, bOut];
    conv.output = [bn.output?.[0] ?? ''];
    removed.add(bn);
    folded++;
  }
  g.node = (g.node ?? []).filter((n) => !removed.has(n));
  dropUnusedInitializers(g);
  return folded;
}

/** Removes initializers nothing reads any more (e.g. the weights replaced by folded or quantized ones). */
export function dropUnusedInitializers(g: GraphProto): void {
  const used = new Set(graphConsumers(g).keys());
  for (const v of g.output ?? []) used.add(v.name ?? '');
  const inputs = new Set((g.input ?? []).map((v) => v.name ?? ''));
  g.initializer = (g.initializer ?? []).filter((t) => used.has(t.name ?? '') || inputs.has(t.name ?? ''));
}

/** A copy of `model` with constants lifted to initializers and Conv+BatchNormalization folded. */
export function prepareForQuantization(model: ModelProto): ModelProto {
  const m = cloneModel(model);
  const g = mainGraph(m);
  liftConstants(g);
  foldBatchNorm(g, new NameScope(m));
  return m;
}
