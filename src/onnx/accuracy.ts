/**
 * Pure metrics comparing a precision variant's outputs with the fp32
 * reference outputs of the same inputs. All take flat arrays of equal length.
 */

function assertSameLength(reference: ArrayLike<number>, candidate: ArrayLike<number>): void {
  if (reference.length !== candidate.length) {
    throw new RangeError(`outputs differ in length: reference ${reference.length}, candidate ${candidate.length}`);
  }
}

/** The largest |reference[i] - candidate[i]| (NaN when either side has a NaN there). */
export function maxAbsError(reference: ArrayLike<number>, candidate: ArrayLike<number>): number {
  assertSameLength(reference, candidate);
  let max = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(reference[i]! - candidate[i]!);
    if (Number.isNaN(d)) return NaN;
    if (d > max) max = d;
  }
  return max;
}

/**
 * `||reference - candidate|| / ||reference||` (Euclidean norms, in float64).
 * 0 for two all-zero arrays; Infinity when only the reference is all zeros.
 */
export function relativeL2Error(reference: ArrayLike<number>, candidate: ArrayLike<number>): number {
  assertSameLength(reference, candidate);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i]!;
    const d = r - candidate[i]!;
    diff += d * d;
    norm += r * r;
  }
  if (norm === 0) return diff === 0 ? 0 : Infinity;
  return Math.sqrt(diff) / Math.sqrt(norm);
}

function argmax(data: ArrayLike<number>, start: number, count: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = data[start + i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/**
 * The fraction of rows whose argmax agrees, for classifier-shaped outputs
 * ([N, C], or [N, T, C] treated as N*T rows of C) laid out row-major.
 * First maximum wins ties, on both sides.
 * @param classAxisSize C, the length of the last axis.
 */
export function top1Agreement(reference: ArrayLike<number>, candidate: ArrayLike<number>, classAxisSize: number): number {
  assertSameLength(reference, candidate);
  if (!Number.isInteger(classAxisSize) || classAxisSize <= 0 || reference.length % classAxisSize !== 0) {
    throw new RangeError(`length ${reference.length} is not a whole number of rows of ${classAxisSize}`);
  }
  const rows = reference.length / classAxisSize;
  if (rows === 0) return 1;
  let agree = 0;
  for (let r = 0; r < rows; r++) {
    if (argmax(reference, r * classAxisSize, classAxisSize) === argmax(candidate, r * classAxisSize, classAxisSize)) agree++;
  }
  return agree / rows;
}
