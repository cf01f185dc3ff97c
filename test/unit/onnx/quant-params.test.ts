import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  computeScaleZp, dequantizeWeight, qRange, quantizeValue, quantizeWeight, roundHalfEven, weightQuantization,
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
    assert.deepEqual(qRange('int8', true, true), [-64, 64], 'reduced-range int8 (7 bits), symmetric or not');
    assert.deepEqual(qRange('int8', false, true), [-64, 64]);
    assert.deepEqual(qRange('uint8', false, true), [0, 127], 'reduced-range uint8');
  });

  it('keeps pairs of uint8 x reduced-range int8 products inside int16', () => {
    const [, hi] = qRange('int8', true, true);
    assert.ok(2 * 255 * hi <= 32767, 'VPMADDUBSW cannot saturate on 7-bit weights');
    assert.ok(2 * 255 * qRange('int8', true)[1] > 32767, 'it can on full-range weights');
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

describe('weightQuantization', () => {
  it('maps each int8 format to its weight type and range', () => {
    assert.deepEqual(weightQuantization('u8s8'), { type: 'int8', symmetric: true, reduceRange: false });
    assert.deepEqual(weightQuantization('u8s8_reduce_range'), { type: 'int8', symmetric: true, reduceRange: true });
    assert.deepEqual(weightQuantization('u8u8'), { type: 'uint8', symmetric: true, reduceRange: false });
  });

  it('gives 7-bit int8 weights for reduce range, and uint8 weights around 127 for u8u8', () => {
    const w = uniform(64 * 8, 5, -1, 1);
    const reduced = weightQuantization('u8s8_reduce_range');
    const r = quantizeWeight(w, [64, 8], 1, reduced.type, reduced.symmetric, reduced.reduceRange);
    assert.equal(Math.max(...r.values.map(Math.abs)), 64, 'the largest weight of a channel maps to 64');
    const u = weightQuantization('u8u8');
    const q = quantizeWeight(w, [64, 8], 1, u.type, u.symmetric, u.reduceRange);
    assert.ok(q.params.every((p) => p.zeroPoint === 127), 'one zero point, 127, for every channel');
    assert.ok(Math.min(...q.values) >= 0 && Math.max(...q.values) <= 254, 'values in [0, 254]');
    const back = dequantizeWeight(q, [64, 8]);
    const s8 = quantizeWeight(w, [64, 8], 1);
    assert.deepEqual(back, dequantizeWeight(s8, [64, 8]), 'u8u8 weights dequantize to exactly the u8s8 ones');
  });
});
