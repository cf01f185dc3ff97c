import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxAbsError, relativeL2Error, top1Agreement } from '../../../src/onnx/accuracy.js';

describe('accuracy metrics', () => {
  it('maxAbsError', () => {
    assert.equal(maxAbsError([1, 2, 3], [1, 2.5, 2]), 1, 'largest difference');
    assert.equal(maxAbsError([], []), 0, 'empty');
    assert.ok(Number.isNaN(maxAbsError([1], [NaN])), 'NaN propagates');
    assert.throws(() => maxAbsError([1], [1, 2]), RangeError, 'lengths must match');
  });

  it('relativeL2Error', () => {
    assert.equal(relativeL2Error([3, 4], [3, 4]), 0, 'equal arrays');
    assert.equal(relativeL2Error([3, 4], [0, 0]), 1, 'all-zero candidate');
    assert.ok(Math.abs(relativeL2Error([3, 4], [3, 5]) - 0.2) < 1e-12, '||(0,1)|| / ||(3,4)||');
    assert.equal(relativeL2Error([0, 0], [0, 0]), 0, 'both zero');
    assert.equal(relativeL2Error([0, 0], [1, 0]), Infinity, 'zero reference');
  });

  it('top1Agreement over rows of C', () => {
    const ref = Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.5, 0.5]);
    assert.equal(top1Agreement(ref, ref, 2), 1, 'identical');
    assert.equal(top1Agreement(ref, Float32Array.from([0.1, 0.9, 0.2, 0.8, 0.4, 0.6]), 2), 1 / 3, 'one of three rows agrees');
    assert.equal(top1Agreement(ref, ref, 3), 1, '[N, T, C] flattened into rows of 3');
    assert.throws(() => top1Agreement(ref, ref, 4), RangeError, 'length must be a multiple of C');
  });
});
