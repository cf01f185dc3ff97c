import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { DataType, attr, graph, model, node, tensor, valueInfo } from '../../../src/onnx/graph-builder.js';
import { defaultOpsetVersion, mainGraph, toNumber, writeModel } from '../../../src/onnx/onnx-model.js';
import { opsetUpgradeBlockers, upgradeOpset } from '../../../src/onnx/opset-upgrade.js';
import { readInts } from '../../../src/onnx/tensor-data.js';
import { uniform } from './fixtures.js';
import { assertWellFormed, initializerOf, nodesOf, producerOf } from './graph-checks.js';

/** An opset-9 graph using the ops whose form changed by opset 13. */
function oldGraph() {
  return model(graph({
    name: 'old',
    inputs: [valueInfo('x', DataType.FLOAT, [2, 3, 4])],
    outputs: [valueInfo('y', DataType.FLOAT, [2, 12]), valueInfo('z', DataType.FLOAT, [3, 4])],
    nodes: [
      node('Clip', ['x'], ['c'], { min: attr.float(-0.5), max: attr.float(0.5) }, { name: 'clip' }),
      node('Softmax', ['c'], ['s'], { axis: attr.int(1) }, { name: 'softmax' }),
      node('Reshape', ['s', 'shape'], ['y'], {}, { name: 'reshape' }),
      node('Slice', ['x'], ['sl'], { axes: attr.ints([0]), starts: attr.ints([1]), ends: attr.ints([2]) }, { name: 'slice' }),
      node('Squeeze', ['sl'], ['z'], { axes: attr.ints([0]) }, { name: 'squeeze' }),
    ],
    initializers: [tensor('shape', BigInt64Array.from([2n, 12n]), [2])],
  }), { opsets: [{ domain: '', version: 9 }], irVersion: 4 });
}

describe('upgradeOpset', () => {
  it('moves Clip, Slice and Squeeze attributes to inputs', () => {
    const m = oldGraph();
    upgradeOpset(m, 13);
    assertWellFormed(m);
    const g = mainGraph(m);
    assert.equal(defaultOpsetVersion(m), 13, 'opset 13');
    assert.ok(toNumber(m.irVersion) >= 7, 'IR version raised for opset 13');
    const clip = producerOf(g, 'c');
    assert.equal(clip.input!.length, 3, 'Clip(x, min, max)');
    const slice = producerOf(g, 'sl');
    assert.deepEqual(slice.input!.slice(1).map((n) => readInts(initializerOf(g, n))), [[1], [2], [0]], 'Slice starts, ends, axes');
    const squeeze = producerOf(g, 'z');
    assert.deepEqual(readInts(initializerOf(g, squeeze.input![1]!)), [0], 'Squeeze axes input');
    assert.equal(nodesOf(g, 'Flatten').length, 1, 'Softmax(axis=1) on rank 3 is wrapped in Flatten/Reshape');
  });

  it('keeps Softmax as is when the axis is the last one', () => {
    const m = model(graph({
      name: 'sm',
      inputs: [valueInfo('x', DataType.FLOAT, [2, 5])],
      outputs: [valueInfo('y', DataType.FLOAT, [2, 5])],
      nodes: [node('Softmax', ['x'], ['y'], {}, { name: 'softmax' })],
    }), { opsets: [{ domain: '', version: 9 }] });
    upgradeOpset(m, 13);
    assert.equal(mainGraph(m).node!.length, 1, 'no wrapping for the default axis 1 of a rank-2 input');
  });

  it('refuses ops that changed meaning without an adapter, leaving the model alone', () => {
    const m = model(graph({
      name: 'up',
      inputs: [valueInfo('x', DataType.FLOAT, [1, 1, 2, 2])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 1, 4, 4])],
      initializers: [tensor('s', Float32Array.from([1, 1, 2, 2]), [4])],
      nodes: [node('Upsample', ['x', 's'], ['y'], {}, { name: 'up' })],
    }), { opsets: [{ domain: '', version: 9 }] });
    assert.deepEqual(opsetUpgradeBlockers(m, 13), ['Upsample'], 'Upsample blocks the upgrade');
    assert.throws(() => upgradeOpset(m, 13), /Upsample/, 'the error names the op');
    assert.equal(defaultOpsetVersion(m), 9, 'the model keeps its opset');
  });

  it('computes the same results in ONNX Runtime after the upgrade', async () => {
    const old = oldGraph();
    const upgraded = oldGraph();
    upgradeOpset(upgraded, 13);
    const x = new ort.Tensor('float32', uniform(24, 5, -1, 1), [2, 3, 4]);
    const results = [];
    for (const m of [old, upgraded]) {
      const session = await ort.InferenceSession.create(writeModel(m), { intraOpNumThreads: 1 });
      const out = await session.run({ x });
      results.push([out.y!.data as Float32Array, out.z!.data as Float32Array]);
      await session.release();
    }
    assert.deepEqual([...results[1]![0]!], [...results[0]![0]!], 'y identical');
    assert.deepEqual([...results[1]![1]!], [...results[0]![1]!], 'z identical');
  });
});
