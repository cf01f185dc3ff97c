/**
 * Calibration for static quantization: measure the value range of each
 * activation tensor that {@link quantizeStaticQdq} will quantize, by running
 * representative inputs through an augmented copy of the model.
 *
 * The model is run by a caller-supplied function, so this folder stays free
 * of ONNX Runtime: the caller creates the session (e.g. onnxruntime-node on
 * CPU) and returns the requested outputs as Float32Arrays.
 *
 * - `minmax` (ORT's MinMax): ReduceMin/ReduceMax outputs are added per
 *   tensor; the range is the min of the mins and the max of the maxes over
 *   all batches (NaN ignored).
 * - `percentile` (ORT's Percentile, symmetric): the tensors themselves become
 *   graph outputs and feed a histogram of |x| (2048 bins); the range is
 *   ±(the `percentile` point of |x|), clamped to the observed min/max.
 */
import onnxProto from 'onnx-proto';
import { DataType, attr, node, valueInfo } from './graph-builder.js';
import { AbsHistogram } from './abs-histogram.js';
import { NameScope, mainGraph, writeModel } from './onnx-model.js';
import { DEFAULT_QDQ_OP_TYPES, tensorsToCalibrate } from './qdq-targets.js';
import { prepareForQuantization } from './quantization-prep.js';

type ModelProto = onnxProto.onnx.IModelProto;

/** One input tensor of a calibration batch. */
export interface CalibrationTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** The feeds of one calibration batch, by graph input name. */
export type CalibrationFeeds = Readonly<Record<string, CalibrationTensor>>;

/**
 * Runs `modelBytes` on `feeds` and returns every graph output as float32, by name.
 * It is called once per batch with the same `modelBytes` object, so an
 * implementation can create its session once and reuse it.
 */
export type CalibrationRunner = (modelBytes: Uint8Array, feeds: CalibrationFeeds) => Promise<Record<string, Float32Array>>;

/** A calibrated real range of one tensor. */
export interface ActivationRange {
  readonly min: number;
  readonly max: number;
}

/** Options of {@link collectActivationRanges}. */
export interface CalibrationOptions {
  /** Default 'minmax'. */
  readonly method?: 'minmax' | 'percentile';
  /** For 'percentile'; default 99.999. */
  readonly percentile?: number;
  /** For 'percentile'; default 2048. */
  readonly numBins?: number;
  /** The op types that will be quantized; must match the quantizer's. Default {@link DEFAULT_QDQ_OP_TYPES}. */
  readonly opTypes?: readonly string[];
}

/** The augmented model for MinMax and the output names holding each tensor's min and max. */
function minMaxModel(prepared: ModelProto, tensors: readonly string[]): { model: ModelProto; outputs: Map<string, [string, string]> } {
  const g = mainGraph(prepared);
  const names = new NameScope(prepared);
  const outputs = new Map<string, [string, string]>();
  for (const t of tensors) {
    const lo = names.fresh(`${t}_ReduceMin`);
    const hi = names.fresh(`${t}_ReduceMax`);
    // No `axes`: reduce over everything (valid in every opset), to a scalar.
    g.node!.push(node('ReduceMin', [t], [lo], { keepdims: attr.int(0) }, { name: names.fresh(`${lo}_node`) }));
    g.node!.push(node('ReduceMax', [t], [hi], { keepdims: attr.int(0) }, { name: names.fresh(`${hi}_node`) }));
    g.output!.push(valueInfo(lo, DataType.FLOAT), valueInfo(hi, DataType.FLOAT));
    outputs.set(t, [lo, hi]);
  }
  return { model: prepared, outputs };
}

function output(results: Record<string, Float32Array>, name: string): Float32Array {
  const data = results[name];
  if (data === undefined) throw new Error(`calibration: the runner returned no output '${name}'`);
  return data;
}

/**
 * Calibrates the activation ranges of `model` for static quantization.
 * Tensor names refer to the model as {@link prepareForQuantization} leaves
 * it, which is what {@link quantizeStaticQdq} works on.
 * @param batches Calibration inputs, one record of feeds per run.
 * @returns the range of every calibrated tensor.
 */
export async function collectActivationRanges(
  model: ModelProto,
  batches: readonly CalibrationFeeds[],
  run: CalibrationRunner,
  options: CalibrationOptions = {},
): Promise<Map<string, ActivationRange>> {
  if (batches.length === 0) throw new Error('calibration needs at least one batch');
  const prepared = prepareForQuantization(model);
  const tensors = tensorsToCalibrate(mainGraph(prepared), options.opTypes ?? DEFAULT_QDQ_OP_TYPES);
  const ranges = new Map<string, ActivationRange>();
  if ((options.method ?? 'minmax') === 'minmax') {
    const { model: augmented, outputs } = minMaxModel(prepared, tensors);
    const bytes = writeModel(augmented);
    const lo = new Map<string, number>();
    const hi = new Map<string, number>();
    for (const feeds of batches) {
      const results = await run(bytes, feeds);
      for (const [t, [minName, maxName]] of outputs) {
        const a = output(results, minName)[0]!;
        const b = output(results, maxName)[0]!;
        if (!Number.isNaN(a)) lo.set(t, Math.min(lo.get(t) ?? Infinity, a));
        if (!Number.isNaN(b)) hi.set(t, Math.max(hi.get(t) ?? -Infinity, b));
      }
    }
    for (const t of tensors) {
      if (lo.has(t) && hi.has(t)) ranges.set(t, { min: lo.get(t)!, max: hi.get(t)! });
    }
    return ranges;
  }
  const g = mainGraph(prepared);
  const existing = new Set((g.output ?? []).map((v) => v.name ?? ''));
  for (const t of tensors) if (!existing.has(t)) g.output!.push(valueInfo(t, DataType.FLOAT));
  const bytes = writeModel(prepared);
  const histograms = new Map(tensors.map((t) => [t, new AbsHistogram(options.numBins ?? 2048)]));
  for (const feeds of batches) {
    const results = await run(bytes, feeds);
    for (const [t, h] of histograms) h.add(output(results, t));
  }
  for (const [t, h] of histograms) ranges.set(t, h.percentileRange(options.percentile ?? 99.999));
  return ranges;
}
