/**
 * Statistics for the benchmark: latency percentiles and summaries, the window-stability rule,
 * and an allocation-free latency recorder. Latencies are microseconds throughout.
 */
import type { LatencySummary } from './bench-types.js';

/**
 * The nearest-rank percentile of an ascending-sorted array: the smallest value such that at
 * least `p` % of the values are less than or equal to it, i.e. the value at 1-based rank
 * `ceil(p / 100 * n)` (rank 1 for p = 0). No interpolation, so the result is always one of the
 * samples: for [1, 2, ..., 100], p50 = 50, p90 = 90, p99 = 99, p100 = 100 and p0 = 1; for a
 * single sample every percentile is that sample.
 *
 * Returns NaN for an empty array. Throws a RangeError when `p` is outside [0, 100] or NaN.
 * The array is not checked for order; pass it sorted ascending.
 */
export function percentile(sortedUs: Float64Array | readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be in [0, 100], got ${p}`);
  const n = sortedUs.length;
  if (n === 0) return NaN;
  // p * n / 100 rather than p / 100 * n: exact for integer p and n (0.07 * 100 is 7.000000000000001,
  // whose ceiling would skip a rank). The small slack absorbs the rounding of fractional p.
  const rank = Math.ceil((p * n) / 100 - 1e-9);
  const index = Math.min(n - 1, Math.max(0, rank - 1));
  return sortedUs[index]!;
}

/**
 * Count, mean, p50/p90/p95/p99 (nearest rank, see `percentile`) and max of a set of latencies.
 * Sorts a copy; the input is left as it was. An empty input gives count 0 and NaN elsewhere
 * (note that JSON.stringify writes NaN as null).
 */
export function summarize(latenciesUs: Float64Array | readonly number[]): LatencySummary {
  const sorted = Float64Array.from(latenciesUs).sort();
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return {
    count: n,
    meanUs: n === 0 ? NaN : sum / n,
    p50Us: percentile(sorted, 50),
    p90Us: percentile(sorted, 90),
    p95Us: percentile(sorted, 95),
    p99Us: percentile(sorted, 99),
    maxUs: n === 0 ? NaN : sorted[n - 1]!,
  };
}

/** How many trailing windows the stability rule looks at (perf_analyzer's choice). */
export const STABLE_WINDOWS = 3;

/**
 * The largest relative deviation of the last `windows` throughputs from their mean:
 * max |x - mean| / mean. Null when there are fewer than `windows` values or one of them is not
 * finite. All-zero windows give 0 (they agree); a zero mean with non-zero values gives Infinity.
 */
export function tailDeviation(throughputs: readonly number[], windows: number = STABLE_WINDOWS): number | null {
  if (!Number.isInteger(windows) || windows < 1) throw new RangeError(`tailDeviation: windows must be a positive integer, got ${windows}`);
  if (throughputs.length < windows) return null;
  const tail = throughputs.slice(throughputs.length - windows);
  if (!tail.every(Number.isFinite)) return null;
  const mean = tail.reduce((a, b) => a + b, 0) / windows;
  const spread = Math.max(...tail.map((x) => Math.abs(x - mean)));
  if (mean === 0) return spread === 0 ? 0 : Infinity;
  return spread / Math.abs(mean);
}

/**
 * perf_analyzer's stability rule: true when there are at least 3 windows and each of the last 3
 * throughputs lies within `tolerance` (a fraction: 0.1 = ±10 %) of the mean of those 3.
 * The bound is inclusive ([90, 100, 110] is stable at 0.1).
 */
export function isStable(throughputs: readonly number[], tolerance: number): boolean {
  if (!(tolerance >= 0)) throw new RangeError(`isStable: tolerance must be >= 0, got ${tolerance}`);
  const deviation = tailDeviation(throughputs, STABLE_WINDOWS);
  // The slack keeps a boundary case such as [90, 100, 110] at 0.1 from failing on rounding.
  return deviation !== null && deviation <= tolerance + 1e-12;
}

/**
 * Collects latencies (µs) into a growable Float64Array: `add` allocates only when the buffer
 * doubles, never per sample.
 */
export class LatencyRecorder {
  private buffer: Float64Array;
  private length = 0;

  constructor(initialCapacity = 1024) {
    if (!Number.isInteger(initialCapacity) || initialCapacity < 1) {
      throw new RangeError(`LatencyRecorder: initialCapacity must be a positive integer, got ${initialCapacity}`);
    }
    this.buffer = new Float64Array(initialCapacity);
  }

  /** Number of samples recorded. */
  get count(): number {
    return this.length;
  }

  /** Current buffer size in samples (grows by doubling). */
  get capacity(): number {
    return this.buffer.length;
  }

  add(us: number): void {
    if (this.length === this.buffer.length) this.grow(this.length + 1);
    this.buffer[this.length++] = us;
  }

  /** Appends every value of `other` (e.g. a worker's samples, or another recorder's). */
  merge(other: Float64Array | LatencyRecorder): void {
    const values = other instanceof LatencyRecorder ? other.values() : other;
    if (this.length + values.length > this.buffer.length) this.grow(this.length + values.length);
    this.buffer.set(values, this.length);
    this.length += values.length;
  }

  /**
   * The recorded samples, in the order added, as a view of the internal buffer (no copy).
   * The view is only valid until the next `add`, `merge` or `clear`; use `snapshot()` to keep it.
   */
  values(): Float64Array {
    return this.buffer.subarray(0, this.length);
  }

  /** A copy of the recorded samples (e.g. to transfer to another thread). */
  snapshot(): Float64Array {
    return this.buffer.slice(0, this.length);
  }

  /** Forgets the samples, keeping the buffer for reuse. */
  clear(): void {
    this.length = 0;
  }

  summarize(): LatencySummary {
    return summarize(this.values());
  }

  private grow(minCapacity: number): void {
    let capacity = this.buffer.length;
    while (capacity < minCapacity) capacity *= 2;
    const next = new Float64Array(capacity);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }
}
