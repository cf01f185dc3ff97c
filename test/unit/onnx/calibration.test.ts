import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbsHistogram } from '../../../src/onnx/abs-histogram.js';
import { type CalibrationRunner, collectActivationRanges } from '../../../src/onnx/calibration.js';
import { readModel } from '../../../src/onnx/onnx-model.js';
import { buildMlp } from './fixtures.js';

describe('AbsHistogram', () => {
  it('percentile range of |x|, clamped to the observed min/max', () => {
    const h = new AbsHistogram(100);
    const data = new Float32Array(1000);
    for (let i = 0; i < 1000; i++) data[i] = i / 1000; // [0, 1)
    h.add(data);
    const r = h.percentileRange(90);
    assert.equal(r.min, 0, 'non-negative data: the lower end is clamped to min 0');
    assert.ok(Math.abs(r.max - 0.9) < 0.011, `90th percentile of |x| ~ 0.9 (got ${r.max})`);
    assert.equal(h.percentileRange(100).max, Math.fround(0.999), '100th percentile is the max (clamped)');
  });

  it('grows its bins when later data reaches further', () => {
    const h = new AbsHistogram(10);
    h.add(Float32Array.from([0.5, -0.5]));
    h.add(Float32Array.from([-4, 4, 0]));
    const r = h.percentileRange(100);
    assert.deepEqual([r.min, r.max], [-4, 4], 'symmetric and covering the new data');
  });
});

describe('collectActivationRanges', () => {
  it('minmax: adds ReduceMin/ReduceMax outputs and merges batches', async () => {
    const seen: string[][] = [];
    let call = 0;
    const runner: CalibrationRunner = async (bytes, feeds) => {
      assert.ok('x' in feeds, 'the feeds are passed through');
      const outputs = (readModel(bytes).graph!.output ?? []).map((v) => v.name ?? '');
      seen.push(outputs);
      call++;
      const result: Record<string, Float32Array> = {};
      for (const name of outputs) {
        if (name.endsWith('_ReduceMin')) result[name] = Float32Array.from([-call]);
        else if (name.endsWith('_ReduceMax')) result[name] = Float32Array.from([call * 10]);
      }
      return result;
    };
    const batch = { x: { data: new Float32Array(4), dims: [1, 4] } };
    const ranges = await collectActivationRanges(buildMlp({ layers: 2, hidden: 4 }), [batch, batch, batch], runner);
    assert.deepEqual([...ranges.keys()], ['x', 'mm0', 'relu0', 'mm1'], 'MatMul inputs and outputs');
    assert.deepEqual(ranges.get('relu0'), { min: -3, max: 30 }, 'min of mins, max of maxes over three batches');
    assert.ok(seen[0]!.includes('y') && seen[0]!.includes('x_ReduceMin'), 'original outputs kept, reductions added');
  });

  it('percentile: adds the tensors themselves as outputs', async () => {
    const runner: CalibrationRunner = async (bytes) => {
      const result: Record<string, Float32Array> = {};
      for (const v of readModel(bytes).graph!.output ?? []) result[v.name ?? ''] = Float32Array.from([-1, 0, 2, 0.5]);
      return result;
    };
    const batch = { x: { data: new Float32Array(4), dims: [1, 4] } };
    const ranges = await collectActivationRanges(buildMlp({ layers: 1, hidden: 4 }), [batch], runner, { method: 'percentile', percentile: 100 });
    assert.deepEqual(ranges.get('x'), { min: -1, max: 2 }, '100th percentile: ±2 clamped to the observed [-1, 2]');
  });

  it('refuses an empty calibration set', async () => {
    await assert.rejects(collectActivationRanges(buildMlp({ layers: 1, hidden: 4 }), [], async () => ({})), /at least one batch/, 'no batches');
  });
});
