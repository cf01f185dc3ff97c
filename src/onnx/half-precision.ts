/**
 * IEEE 754 binary16 ("float16", "half") conversions on bit patterns, written
 * for ONNX `raw_data`: fp32 -> fp16 rounds to nearest, ties to even, exactly as
 * a hardware conversion (or numpy's `astype(np.float16)`) would. The bit conversions
 * themselves live in core (core/float16-bits.ts), shared with the HTTP transport.
 */
import { float32ToFloat16Bits, float16BitsToFloat32 } from '../core/float16-bits.js';

/** The smallest positive fp16 value (a subnormal, 2^-24), as the fp16 converters spell it. */
export const FLOAT16_MIN_POSITIVE = 5.96e-8;
/** The largest finite fp16 value. */
export const FLOAT16_MAX = 65504;

export { float16BitsToFloat32, float32ToFloat16Bits } from '../core/float16-bits.js';

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
