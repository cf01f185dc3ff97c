import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  computeScaleZp, dequantizeWeight, qRange, quantizeValue, quantizeWeight, roundHalfEven,
} from '../../../src/onnx/quant-params.js';
import { uniform } from './fixtures.js';

const close = (actual: number, expected: number, message: string): void =>
  assert.ok(Math.abs(actual - expected) <= 1e-7 * Math.max(1, Math.abs(expected)), `${message}: ${actual} vs ${expected}`);

describe('roundHalfEven', () => {
  it('rounds ties to even like numpy', () => {
    const cases: [number, number][] = [[0.5, 0], [1.5, 2], [2.5, 2], [-0.5, 0], [-1.5, -2], [-2.5, -2], [2.4, 2], [-2.6, -3]];
    for (const [x, r] of cases) assert.equal(roundHalfEven(x), r, `round(${x})`);
    assert.ok(Object.is(roundHalfEven(-0.4), 0), 'no negative zero');
  });
});

describe('qRange', () => {
  it('matches ORT\'s ranges', () => {
    assert.deepEqual(qRange('int8'), [-128, 127], 'int8');
    assert.deepEqual(qRange('int8', true), [-127, 127], 'symmetric int8');
    assert.deepEqual(qRange('uint8'), [0, 255], 'uint8');
    assert.deepEqual(qRange('uint8', true), [0, 254], 'symmetric uint8');
  });
});

describe('computeScaleZp', () => {
  it('asymmetric int8 over a range that spans 0', () => {
    const p = computeScaleZp(-1, 2, -128, 127, false);
    close(p.scale, 3 / 255, 'scale = (rmax - rmin) / 255');
    assert.equal(p.zeroPoint, -43, 'zp = round(-128 + 1 / scale) = round(-43)');
  });

  it('widens a positive range down to 0', () => {
    const p = computeScaleZp(0.5, 2, -128, 127, false);
    close(p.scale, 2 / 255, 'rmin becomes 0');
    assert.equal(p.zeroPoint, -128, '0 maps to qmin');
  });

  it('widens a negative range up to 0', () => {
    const p = computeScaleZp(-3, -1, -128, 127, false);
    close(p.scale, 3 / 255, 'rmax becomes 0');
    assert.equal(p.zeroPoint, 127, '0 maps to qmax');
  });

  it('symmetric: zero point is the middle of the range', () => {
    const s8 = computeScaleZp(-1, 2, -127, 127, true);
    close(s8.scale, 4 / 254, 'symmetric int8 uses 2 * absmax / 254');
    assert.equal(s8.zeroPoint, 0, 'int8 zp 0');
    assert.equal(computeScaleZp(-1, 1, -128, 127, true).zeroPoint, 0, 'round(-0.5) is 0');
    assert.equal(computeScaleZp(-1, 1, 0, 255, true).zeroPoint, 128, 'uint8 zp round(127.5) = 128');
  });

  it('a degenerate range gives scale 1, zero point 0', () => {
    assert.deepEqual(computeScaleZp(0, 0, -128, 127, false), { scale: 1, zeroPoint: 0 }, 'all-zero range');
    assert.deepEqual(computeScaleZp(0, 1e-40, -128, 127, false), { scale: 1, zeroPoint: 0 }, 'scale below float32 tiny');
  });

  it('applies a minimum real range', () => {
    const p = computeScaleZp(0, 1e-6, -128, 127, false, 1e-3);
    close(p.scale, 1e-3 / 255, 'rmax raised to rmin + min_real_range');
  });
});

describe('quantizeValue', () => {
  it('rounds half to even, adds the zero point and clips', () => {
    const p = { scale: 0.5, zeroPoint: 10 };
    assert.equal(quantizeValue(1.25, p, -128, 127), 12, '2.5 rounds to 2, + 10');
    assert.equal(quantizeValue(1000, p, -128, 127), 127, 'clipped to qmax');
    assert.equal(quantizeValue(-1000, p, -128, 127), -128, 'clipped to qmin');
  });
});

describe('quantizeWeight', () => {
  it('per column of a MatMul weight: dequantize(quantize(w)) is within half a scale step', () => {
    const dims = [64, 16];
    const w = uniform(64 * 16, 3, -1, 1);
    for (let i = 0; i < 64; i++) w[i * 16 + 5] = w[i * 16 + 5]! * 100; // one column with a much larger range
    const q = quantizeWeight(w, dims, 1);
    assert.equal(q.params.length, 16, 'one scale per column');
    assert.ok(q.params.every((p) => p.zeroPoint === 0), 'symmetric int8 weights have zero point 0');
    assert.ok(q.params[5]!.scale > 50 * q.params[0]!.scale, 'the wide column gets its own, larger scale');
    const back = dequantizeWeight(q, dims);
    for (let i = 0; i < w.length; i++) {
      const scale = q.params[i % 16]!.scale;
      assert.ok(Math.abs(back[i]! - w[i]!) <= scale / 2 + 1e-6, `element ${i} within half a step of its column's scale`);
      assert.ok(q.values[i]! >= -127 && q.values[i]! <= 127, `element ${i} in the symmetric int8 range`);
    }
  });

  it('per output channel of a Conv weight (axis 0 of [M, C, kH, kW])', () => {
    const dims = [4, 3, 3, 3];
    const w = uniform(4 * 27, 4, -0.2, 0.3);
    const q = quantizeWeight(w, dims, 0);
    assert.equal(q.params.length, 4, 'one scale per output channel');
    const back = dequantizeWeight(q, dims);
    for (let i = 0; i < w.length; i++) {
      const scale = q.params[Math.floor(i / 27)]!.scale;
      assert.ok(Math.abs(back[i]! - w[i]!) <= scale / 2 + 1e-7, `element ${i} within half a step of its channel's scale`);
    }
    for (let c = 0; c < 4; c++) {
      const slice = w.subarray(c * 27, (c + 1) * 27);
      const absmax = Math.max(...slice.map(Math.abs));
      close(q.params[c]!.scale, Math.fround((2 * absmax) / 254), `channel ${c} scale = 2 * absmax / 254`);
    }
  });

  it('per tensor when no axis is given', () => {
    const q = quantizeWeight(Float32Array.from([-2, 0, 1, 0.5]), [4], undefined);
    assert.equal(q.params.length, 1, 'one scale');
    assert.deepEqual([...q.values], [-127, 0, 64, 32], 'values: round(x / (4 / 254))');
  });
});
