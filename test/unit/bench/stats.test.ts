import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStable, LatencyRecorder, percentile, STABLE_WINDOWS, summarize, tailDeviation } from '../../../scripts/bench/stats.js';

const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('percentile (nearest rank)', () => {
  it('gives p50 = 50, p90 = 90, p95 = 95, p99 = 99, p100 = 100 and p0 = 1 on 1..100', () => {
    const values = oneTo(100);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile(values, 90), 90);
    assert.equal(percentile(values, 95), 95);
    assert.equal(percentile(values, 99), 99);
    assert.equal(percentile(values, 100), 100);
    assert.equal(percentile(values, 0), 1);
    assert.equal(percentile(values, 1), 1);
  });

  it('is exact where p / 100 * n would round up past a rank', () => {
    // 0.07 * 100 is 7.000000000000001 in floating point; the rank is still 7.
    assert.equal(percentile(oneTo(100), 7), 7);
    assert.equal(percentile(oneTo(100), 29), 29);
    assert.equal(percentile(oneTo(1000), 99.9), 999);
  });

  it('returns the smallest value with at least p % of the values at or below it', () => {
    const values = [10, 20, 30, 40];
    assert.equal(percentile(values, 25), 10);
    assert.equal(percentile(values, 26), 20);
    assert.equal(percentile(values, 50), 20);
    assert.equal(percentile(values, 51), 30);
    assert.equal(percentile(values, 75), 30);
    assert.equal(percentile(values, 99), 40);
  });

  it('does not interpolate: the result is always a sample', () => {
    assert.equal(percentile([1, 1000], 50), 1);
    assert.equal(percentile([1, 1000], 50.1), 1000);
  });

  it('gives the one sample for every p on a single-element array', () => {
    for (const p of [0, 1, 50, 99, 100]) assert.equal(percentile([7], p), 7);
  });

  it('gives NaN on an empty array', () => {
    assert.equal(percentile([], 50), NaN);
    assert.equal(percentile(new Float64Array(0), 99), NaN);
  });

  it('accepts a Float64Array', () => {
    assert.equal(percentile(Float64Array.from(oneTo(100)), 99), 99);
  });

  it('rejects p outside [0, 100]', () => {
    for (const p of [-1, 100.5, NaN, Infinity]) assert.throws(() => percentile([1, 2, 3], p), RangeError);
  });
});

describe('summarize', () => {
  it('gives count, mean, percentiles and max', () => {
    assert.deepEqual(summarize([5, 1, 3, 2, 4]), {
      count: 5,
      meanUs: 3,
      p50Us: 3,
      p90Us: 5,
      p95Us: 5,
      p99Us: 5,
      maxUs: 5,
    });
    const s = summarize(oneTo(100).reverse());
    assert.equal(s.count, 100);
    assert.equal(s.meanUs, 50.5);
    assert.deepEqual([s.p50Us, s.p90Us, s.p95Us, s.p99Us, s.maxUs], [50, 90, 95, 99, 100]);
  });

  it('sorts numerically, not as strings', () => {
    const s = summarize([100, 9, 20]);
    assert.equal(s.p50Us, 20);
    assert.equal(s.maxUs, 100);
  });

  it('does not mutate its input (array or Float64Array)', () => {
    const array = [5, 1, 3, 2, 4];
    summarize(array);
    assert.deepEqual(array, [5, 1, 3, 2, 4]);
    const typed = Float64Array.from([5, 1, 3, 2, 4]);
    summarize(typed);
    assert.deepEqual([...typed], [5, 1, 3, 2, 4]);
  });

  it('gives count 0 and NaN elsewhere for no samples', () => {
    const s = summarize([]);
    assert.equal(s.count, 0);
    for (const v of [s.meanUs, s.p50Us, s.p90Us, s.p95Us, s.p99Us, s.maxUs]) assert.equal(v, NaN);
  });
});

describe('isStable', () => {
  it('needs at least 3 windows', () => {
    assert.equal(STABLE_WINDOWS, 3);
    assert.equal(isStable([], 0.1), false);
    assert.equal(isStable([100], 0.1), false);
    assert.equal(isStable([100, 100], 0.1), false);
    assert.equal(isStable([100, 100, 100], 0.1), true);
  });

  it('is true when each of the last 3 lies within the tolerance of their mean (inclusive)', () => {
    assert.equal(isStable([90, 100, 110], 0.1), true);
    assert.equal(isStable([95, 100, 105], 0.05), true);
    assert.equal(isStable([95, 100, 105], 0.049), false);
  });

  it('is false when one of the last 3 is outside the tolerance', () => {
    assert.equal(isStable([89, 100, 111], 0.1), false);
    assert.equal(isStable([100, 100, 130], 0.1), false);
  });

  it('looks only at the last 3 windows', () => {
    assert.equal(isStable([1, 1000, 100, 101, 99], 0.1), true);
    assert.equal(isStable([100, 100, 100, 500], 0.1), false);
  });

  it('treats all-zero windows as stable and non-finite ones as unstable', () => {
    assert.equal(isStable([0, 0, 0], 0.1), true);
    assert.equal(isStable([100, NaN, 100], 0.1), false);
    assert.equal(isStable([100, Infinity, 100], 0.1), false);
  });

  it('rejects a negative or NaN tolerance', () => {
    assert.throws(() => isStable([1, 1, 1], -0.1), RangeError);
    assert.throws(() => isStable([1, 1, 1], NaN), RangeError);
  });
});

describe('tailDeviation', () => {
  it('is the largest relative deviation of the last windows from their mean', () => {
    assert.equal(tailDeviation([90, 100, 110]), 0.1);
    assert.equal(tailDeviation([500, 100, 100, 100]), 0);
    assert.equal(tailDeviation([80, 100, 120, 200], 2), 0.25);
  });

  it('is null with too few or non-finite windows', () => {
    assert.equal(tailDeviation([1, 2]), null);
    assert.equal(tailDeviation([1, NaN, 2]), null);
  });

  it('is 0 for all zeros and Infinity for a zero mean otherwise', () => {
    assert.equal(tailDeviation([0, 0, 0]), 0);
    assert.equal(tailDeviation([-1, 0, 1]), Infinity);
  });
});

describe('LatencyRecorder', () => {
  it('records in order and grows by doubling', () => {
    const r = new LatencyRecorder(2);
    assert.equal(r.count, 0);
    assert.equal(r.capacity, 2);
    for (const v of [5, 4, 3, 2, 1]) r.add(v);
    assert.equal(r.count, 5);
    assert.equal(r.capacity, 8);
    assert.deepEqual([...r.values()], [5, 4, 3, 2, 1]);
  });

  it('keeps many samples', () => {
    const r = new LatencyRecorder();
    for (let i = 0; i < 10_000; i++) r.add(i);
    assert.equal(r.count, 10_000);
    const v = r.values();
    assert.equal(v.length, 10_000);
    assert.equal(v[0], 0);
    assert.equal(v[9_999], 9_999);
    assert.equal(r.summarize().p99Us, 9_899);
  });

  it('clear forgets the samples and keeps the buffer', () => {
    const r = new LatencyRecorder(4);
    for (let i = 0; i < 6; i++) r.add(i);
    const capacity = r.capacity;
    r.clear();
    assert.equal(r.count, 0);
    assert.equal(r.values().length, 0);
    assert.equal(r.capacity, capacity);
    r.add(42);
    assert.deepEqual([...r.values()], [42]);
  });

  it('merges a Float64Array and another recorder, growing as needed', () => {
    const r = new LatencyRecorder(2);
    r.add(1);
    r.merge(Float64Array.from([2, 3, 4, 5, 6]));
    assert.deepEqual([...r.values()], [1, 2, 3, 4, 5, 6]);
    assert.ok(r.capacity >= 6, `capacity ${r.capacity}`);
    const other = new LatencyRecorder(1);
    other.add(7);
    other.add(8);
    r.merge(other);
    assert.deepEqual([...r.values()], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual([...other.values()], [7, 8]);
    r.merge(new Float64Array(0));
    assert.equal(r.count, 8);
  });

  it('snapshot is an independent copy; values is a view', () => {
    const r = new LatencyRecorder(8);
    r.add(1);
    r.add(2);
    const view = r.values();
    const copy = r.snapshot();
    r.clear();
    r.add(9);
    assert.equal(view[0], 9);
    assert.deepEqual([...copy], [1, 2]);
  });

  it('rejects a bad initial capacity', () => {
    assert.throws(() => new LatencyRecorder(0), RangeError);
    assert.throws(() => new LatencyRecorder(1.5), RangeError);
  });
});
