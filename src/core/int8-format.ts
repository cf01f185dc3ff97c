/**
 * How an int8 variant stores its weights, in ONNX Runtime's terms. Which one computes
 * accurately depends on the CPU's int8 kernels (core/cpu-features.ts):
 * - `u8s8`: int8 weights, symmetric [-127, 127]. Exact where the CPU has VNNI (or AMX, or
 *   on ARM). On x86 without VNNI, ONNX Runtime's kernel (VPMADDUBSW) sums pairs of
 *   uint8 x int8 products in int16 with saturation, which costs accuracy.
 * - `u8s8_reduce_range`: int8 weights in 7 bits, [-64, 64]: the same kernel, whose pair
 *   sums then always fit int16, at half the weight resolution.
 * - `u8u8`: uint8 weights, symmetric [0, 254] with zero point 127: ONNX Runtime's U8U8
 *   kernel widens to 16 bits before multiplying, so it is exact on every CPU, at full
 *   resolution.
 * Activations are uint8 in every format (dynamic int8 always; static int8 on x86, where
 * ONNX Runtime turns int8 activations into uint8 when it loads the model).
 */
export type Int8Format = 'u8s8' | 'u8s8_reduce_range' | 'u8u8';

export const INT8_FORMATS: readonly Int8Format[] = Object.freeze(['u8s8', 'u8s8_reduce_range', 'u8u8']);

/** The `int8_format` model parameter: a format, or `auto` to choose by the machine. */
export type Int8FormatSetting = 'auto' | Int8Format;
