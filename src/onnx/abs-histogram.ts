/**
 * A growing histogram of absolute values, for percentile calibration the way
 * ORT's HistogramCollector does it (symmetric mode): the bin width is fixed
 * by the first data seen (`absmax / numBins`), and bins of the same width are
 * appended when later data reaches further, so no data is ever re-binned.
 */
export class AbsHistogram {
  private counts: Float64Array = new Float64Array(0);
  private width = 0;
  private total = 0;
  /** Smallest and largest (signed) values seen. */
  min = Infinity;
  max = -Infinity;

  constructor(private readonly numBins = 2048) {}

  /** Adds a batch of values (NaN is ignored). */
  add(data: ArrayLike<number>): void {
    let absmax = 0;
    for (let i = 0; i < data.length; i++) {
      const x = data[i]!;
      if (Number.isNaN(x)) continue;
      if (x < this.min) this.min = x;
      if (x > this.max) this.max = x;
      const a = Math.abs(x);
      if (a > absmax) absmax = a;
    }
    if (this.width === 0) {
      if (absmax === 0) {
        // All zeros so far: remember how many, bin them once a width exists.
        this.total += data.length;
        return;
      }
      this.width = absmax / this.numBins;
      this.counts = new Float64Array(this.numBins);
      this.counts[0] = this.total;
    }
    const needed = Math.floor(absmax / this.width) + 1;
    if (needed > this.counts.length) {
      const grown = new Float64Array(needed);
      grown.set(this.counts);
      this.counts = grown;
    }
    const last = this.counts.length - 1;
    for (let i = 0; i < data.length; i++) {
      const x = data[i]!;
      if (Number.isNaN(x)) continue;
      const bin = Math.min(Math.floor(Math.abs(x) / this.width), last);
      this.counts[bin]! += 1;
      this.total++;
    }
  }

  /**
   * The symmetric range `(-t, t)` where `t` is the upper edge of the bin at
   * which the cumulative share of values reaches `percentile` / 100, clamped
   * to the observed min and max (so non-negative data gives `(0, t)`).
   */
  percentileRange(percentile: number): { min: number; max: number } {
    if (this.total === 0) return { min: 0, max: 0 };
    if (this.width === 0) return { min: 0, max: 0 };
    const target = (percentile / 100) * this.total;
    let cumulative = 0;
    let bin = this.counts.length - 1;
    for (let i = 0; i < this.counts.length; i++) {
      cumulative += this.counts[i]!;
      if (cumulative >= target) {
        bin = i;
        break;
      }
    }
    const t = (bin + 1) * this.width;
    return { min: Math.max(-t, this.min), max: Math.min(t, this.max) };
  }
}
