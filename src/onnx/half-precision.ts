/**
 * IEEE 754 binary16 ("float16", "half") conversions on bit patterns, written
 * for ONNX `raw_data`: fp32 -> fp16 rounds to nearest, ties to even, exactly as
 * a hardware conversion (or numpy's `astype(np.float16)`) would.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The smallest positive fp16 value (a subnormal, 2^-24), as the fp16 converters spell it. */
export const FLOAT16_MIN_POSITIVE = 5.96e-8;
/** The largest finite fp16 value. */
export const FLOAT16_MAX = 65504;

/** The fp16 bit pattern nearest to `x` (as fp32), ties to even; overflow gives ±Inf, NaN stays NaN. */
export function float32ToFloat16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00;
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is an fp16 subnormal (or zero): value = m * 2^-24.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    let m = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (m & 1) === 1)) m++;
    return sign | m;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Inf).
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++;
  return h;
}

/** The fp32 value of an fp16 bit pattern. */
export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Clamping bounds applied before fp16 rounding. */
export interface Float16Clamp {
  /** Non-zero magnitudes below this become ±this. Default {@link FLOAT16_MIN_POSITIVE}. */
  readonly minPositive?: number;
  /** Finite magnitudes above this become ±this. Default {@link FLOAT16_MAX}. */
  readonly maxFinite?: number;
}

/**
 * `x` clamped into fp16's range the way the ONNX fp16 converters do: tiny
 * non-zero values keep their sign at the smallest magnitude, huge finite ones
 * saturate; 0, NaN and ±Inf are left alone.
 */
export function clampForFloat16(x: number, clamp: Float16Clamp = {}): number {
  const minPositive = clamp.minPositive ?? FLOAT16_MIN_POSITIVE;
  const maxFinite = clamp.maxFinite ?? FLOAT16_MAX;
  if (x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  if (a < minPositive) return x < 0 ? -minPositive : minPositive;
  if (a > maxFinite) return x < 0 ? -maxFinite : maxFinite;
  return x;
}

/** Clamps then rounds every element to fp16 bit patterns. */
export function toFloat16Bits(data: ArrayLike<number>, clamp: Float16Clamp = {}): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = float32ToFloat16Bits(clampForFloat16(data[i]!, clamp));
  return out;
}

/** fp16 bit patterns widened back to fp32 values. */
export function fromFloat16Bits(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = float16BitsToFloat32(bits[i]!);
  return out;
}
