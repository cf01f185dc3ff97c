/**
 * Quantization arithmetic, as ONNX Runtime's quantization tool defines it
 * (`quant_utils.py`): `r = scale * (q - zero_point)`, scale/zero-point from a
 * real range, numpy's round-half-to-even, and per-channel weight quantization.
 */
import type { Int8Format } from '../core/int8-format.js';

/** Integer element types the quantizers produce. */
export type QuantType = 'int8' | 'uint8' | 'int32';

/** A scale and zero point (per tensor), with the integer range they map onto. */
export interface QuantParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

/**
 * The [qmin, qmax] ORT uses for a type; symmetric ranges drop the most negative value.
 * `reduceRange` gives ORT's 7-bit ranges (int8 [-64, 64], uint8 [0, 127]): with 7-bit
 * weights, a pair of uint8 x int8 products never exceeds int16, so x86 int8 kernels without
 * VNNI (VPMADDUBSW, whose 16-bit pair sums saturate) compute exactly.
 */
export function qRange(type: QuantType, symmetric = false, reduceRange = false): readonly [number, number] {
  if (reduceRange && type === 'int8') return [-64, 64];
  if (reduceRange && type === 'uint8') return [0, 127];
  switch (type) {
    case 'int8': return symmetric ? [-127, 127] : [-128, 127];
    case 'uint8': return symmetric ? [0, 254] : [0, 255];
    case 'int32': return [-2147483648, 2147483647];
  }
}

/** Rounds to the nearest integer, ties to even (numpy's `np.round`). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds ties up; pull exact .5 ties back when that made r odd.
  const even = Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  return even === 0 ? 0 : even; // no -0
}

const FLOAT32_TINY = 1.1754943508222875e-38;

/**
 * ORT's `compute_scale_zp`: the range is widened to include 0 (so 0 is exact),
 * optionally to a minimum width, and made symmetric on request; then
 * `scale = (rmax - rmin) / (qmax - qmin)` in float64 and
 * `zp = symmetric ? round((qmin + qmax) / 2) : round(qmin - rmin / scale)`.
 * A scale below float32's smallest normal becomes scale 1, zero point 0.
 */
export function computeScaleZp(
  rmin: number,
  rmax: number,
  qmin: number,
  qmax: number,
  symmetric: boolean,
  minRealRange?: number,
): QuantParams {
  let lo = Math.min(rmin, 0);
  let hi = Math.max(rmax, 0);
  if (minRealRange !== undefined) hi = Math.max(hi, lo + minRealRange);
  if (symmetric) {
    const absmax = Math.max(Math.abs(lo), Math.abs(hi));
    lo = -absmax;
    hi = absmax;
  }
  const scale = (hi - lo) / (qmax - qmin);
  if (scale < FLOAT32_TINY) return { scale: 1, zeroPoint: 0 };
  const zeroPoint = symmetric ? roundHalfEven((qmin + qmax) / 2) : roundHalfEven(qmin - lo / scale);
  return { scale: Math.fround(scale), zeroPoint };
}

/** `clip(round(x / scale) + zp, qmin, qmax)` for one value. */
export function quantizeValue(x: number, p: QuantParams, qmin: number, qmax: number): number {
  const q = roundHalfEven(x / p.scale) + p.zeroPoint;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

/** `scale * (q - zp)` for one value. */
export function dequantizeValue(q: number, p: QuantParams): number {
  return p.scale * (q - p.zeroPoint);
}

/** A weight tensor quantized per channel (or per tensor: one channel spanning everything). */
export interface QuantizedWeight {
  /** Quantized values, same layout as the input. */
  readonly values: Int32Array;
  /** One entry per channel along `axis` (length 1 when per tensor). */
  readonly params: readonly QuantParams[];
  /** The channel axis, or undefined when per tensor. */
  readonly axis: number | undefined;
}

/**
 * Quantizes `data` (shape `dims`) with one scale/zero point per index along
 * `axis` (per tensor when `axis` is undefined), computing each channel's
 * range from its own min and max. ORT's default for weights is int8 symmetric;
 * `reduceRange` maps onto the 7-bit range of {@link qRange}.
 */
export function quantizeWeight(
  data: Float32Array,
  dims: readonly number[],
  axis: number | undefined,
  type: QuantType = 'int8',
  symmetric = true,
  reduceRange = false,
): QuantizedWeight {
  const [qmin, qmax] = qRange(type, symmetric, reduceRange);
  const channels = axis === undefined ? 1 : dims[axis]!;
  const inner = axis === undefined ? data.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number): number => (axis === undefined ? 0 : Math.floor(i / inner) % channels);
  const mins = new Float64Array(channels).fill(Infinity);
  const maxs = new Float64Array(channels).fill(-Infinity);
  for (let i = 0; i < data.length; i++) {
    const c = channelOf(i);
    const x = data[i]!;
    if (x < mins[c]!) mins[c] = x;
    if (x > maxs[c]!) maxs[c] = x;
  }
  const params: QuantParams[] = [];
  for (let c = 0; c < channels; c++) {
    const lo = Number.isFinite(mins[c]!) ? mins[c]! : 0;
    const hi = Number.isFinite(maxs[c]!) ? maxs[c]! : 0;
    params.push(computeScaleZp(lo, hi, qmin, qmax, symmetric));
  }
  const values = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) values[i] = quantizeValue(data[i]!, params[channelOf(i)]!, qmin, qmax);
  return { values, params, axis };
}

/** Inverse of {@link quantizeWeight} (for tests and error estimates). */
export function dequantizeWeight(w: QuantizedWeight, dims: readonly number[]): Float32Array {
  const channels = w.axis === undefined ? 1 : dims[w.axis]!;
  const inner = w.axis === undefined ? w.values.length : dims.slice(w.axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(w.values.length);
  for (let i = 0; i < out.length; i++) {
    const c = w.axis === undefined ? 0 : Math.floor(i / inner) % channels;
    out[i] = dequantizeValue(w.values[i]!, w.params[c]!);
  }
  return out;
}

/** The element type, range and symmetry {@link quantizeWeight} takes for an int8 format's weights. */
export function weightQuantization(format: Int8Format): { readonly type: 'int8' | 'uint8'; readonly symmetric: true; readonly reduceRange: boolean } {
  return { type: format === 'u8u8' ? 'uint8' : 'int8', symmetric: true, reduceRange: format === 'u8s8_reduce_range' };
}
