import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataType, attr, graph, model, node, tensor, valueInfo } from '../../../src/onnx/graph-builder.js';
import { defaultOpsetVersion, mainGraph } from '../../../src/onnx/onnx-model.js';
import { computeScaleZp, roundHalfEven } from '../../../src/onnx/quant-params.js';
import { quantizeStaticQdq } from '../../../src/onnx/quantize-static.js';
import { tensorsToCalibrate } from '../../../src/onnx/qdq-targets.js';
import { readFloats, readInts, tensorDims } from '../../../src/onnx/tensor-data.js';
import { uniform } from './fixtures.js';
import { assertWellFormed, initializerOf, intAttrOf, nodesOf, producerOf } from './graph-checks.js';

/** x -> Conv(W, B) -> c -> Relu -> r -> MatMul(M) -> y (output). */
function convNet(opset = 17) {
  return model(graph({
    name: 'net',
    inputs: [valueInfo('x', DataType.FLOAT, [1, 2, 4, 4])],
    outputs: [valueInfo('y', DataType.FLOAT, [1, 3, 4, 5])],
    initializers: [
      tensor('W', uniform(3 * 2 * 9, 1, -1, 1), [3, 2, 3, 3]),
      tensor('B', Float32Array.from([0.5, -0.25, 1]), [3]),
      tensor('M', uniform(4 * 5, 2, -1, 1), [4, 5]),
    ],
    nodes: [
      node('Conv', ['x', 'W', 'B'], ['c'], { pads: attr.ints([1, 1, 1, 1]) }, { name: 'conv' }),
      node('Relu', ['c'], ['r'], {}, { name: 'relu' }),
      node('MatMul', ['r', 'M'], ['y'], {}, { name: 'mm' }),
    ],
  }), { opsets: [{ domain: '', version: opset }] });
}

const RANGES = new Map([
  ['x', { min: 0, max: 1 }],
  ['c', { min: -3, max: 4 }],
  ['r', { min: 0, max: 4 }],
  ['y', { min: -8, max: 8 }],
]);

describe('tensorsToCalibrate', () => {
  it('lists the activation inputs and outputs of Conv/MatMul/Gemm, not weights', () => {
    assert.deepEqual(tensorsToCalibrate(mainGraph(convNet())), ['x', 'c', 'r', 'y'], 'activations in graph order');
  });
});

describe('quantizeStaticQdq', () => {
  it('puts Q -> DQ on activations feeding and leaving the quantized ops', () => {
    const m = quantizeStaticQdq(convNet(), RANGES, { foldActivations: false });
    assertWellFormed(m);
    const g = mainGraph(m);
    const conv = nodesOf(g, 'Conv')[0]!;
    const xdq = producerOf(g, conv.input![0]!);
    assert.equal(xdq.opType, 'DequantizeLinear', 'Conv reads a DequantizeLinear of x');
    const xq = producerOf(g, xdq.input![0]!);
    assert.deepEqual([xq.opType, xq.input![0]], ['QuantizeLinear', 'x'], 'which reads QuantizeLinear(x)');
    const relu = nodesOf(g, 'Relu')[0]!;
    assert.equal(producerOf(g, relu.input![0]!).opType, 'DequantizeLinear', 'Relu reads the DQ of the Conv output (c)');
    assert.equal(producerOf(g, producerOf(g, relu.input![0]!).input![0]!).input![0], 'c', 'through a Q of c');
    assert.equal(producerOf(g, producerOf(g, nodesOf(g, 'MatMul')[0]!.input![0]!).input![0]!).input![0], 'r', 'MatMul reads Q/DQ of r');
    const zp = initializerOf(g, xq.input![2]!);
    assert.equal(zp.dataType, DataType.INT8, 'activations are int8 (S8S8)');
    const expected = computeScaleZp(0, 1, -128, 127, false);
    assert.equal(readFloats(initializerOf(g, xq.input![1]!))[0], Math.fround(expected.scale), 'x scale from its range');
    assert.equal(readInts(zp)[0], expected.zeroPoint, 'x zero point from its range (-128 for [0, 1])');
  });

  it('folds a Relu after a quantized Conv into the Q of the Relu output', () => {
    const m = quantizeStaticQdq(convNet(), RANGES);
    assertWellFormed(m);
    const g = mainGraph(m);
    assert.equal(nodesOf(g, 'Relu').length, 0, 'the Relu is gone');
    const conv = nodesOf(g, 'Conv')[0]!;
    assert.deepEqual(conv.output, ['r'], 'the Conv writes the Relu output');
    const q = nodesOf(g, 'QuantizeLinear').find((n) => n.input![0] === 'r')!;
    assert.equal(readInts(initializerOf(g, q.input![2]!))[0], -128, 'r\'s zero point is qmin, so Q clips negatives to 0');
  });

  it('folds Clip only when the quantized range lies inside its bounds', () => {
    const clipNet = (max: number) => model(graph({
      name: 'clip',
      inputs: [valueInfo('x', DataType.FLOAT, [1, 4])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 4])],
      initializers: [tensor('M', uniform(16, 3, -1, 1), [4, 4]), tensor('lo', Float32Array.from([0]), []), tensor('hi', Float32Array.from([max]), [])],
      nodes: [node('MatMul', ['x', 'M'], ['h'], {}, { name: 'mm' }), node('Clip', ['h', 'lo', 'hi'], ['y'], {}, { name: 'clip' })],
    }));
    const ranges = new Map([['x', { min: -1, max: 1 }], ['h', { min: -2, max: 4 }], ['y', { min: 0, max: 4 }]]);
    assert.equal(nodesOf(mainGraph(quantizeStaticQdq(clipNet(6), ranges)), 'Clip').length, 0, 'Clip(0, 6) over a [0, 4] range is folded');
    assert.equal(nodesOf(mainGraph(quantizeStaticQdq(clipNet(2), ranges)), 'Clip').length, 1, 'Clip(0, 2) over a [0, 4] range is kept');
  });

  it('keeps the graph output name, written by the last DequantizeLinear', () => {
    const g = mainGraph(quantizeStaticQdq(convNet(), RANGES));
    const dq = producerOf(g, 'y');
    assert.equal(dq.opType, 'DequantizeLinear', 'y is written by a DQ');
    const q = producerOf(g, dq.input![0]!);
    assert.equal(producerOf(g, q.input![0]!).opType, 'MatMul', 'the MatMul writes the Q input');
  });

  it('stores weights int8 per channel with one DequantizeLinear (Conv axis 0, MatMul axis 1)', () => {
    const g = mainGraph(quantizeStaticQdq(convNet(), RANGES));
    const wdq = producerOf(g, nodesOf(g, 'Conv')[0]!.input![1]!);
    assert.equal(wdq.opType, 'DequantizeLinear', 'Conv weight comes from a DQ');
    assert.equal(intAttrOf(wdq, 'axis'), 0, 'Conv weight per output channel');
    const wq = initializerOf(g, wdq.input![0]!);
    assert.deepEqual([wq.dataType, tensorDims(wq)], [DataType.INT8, [3, 2, 3, 3]], 'int8 weight, same shape');
    assert.deepEqual(tensorDims(initializerOf(g, wdq.input![1]!)), [3], 'three scales');
    assert.ok(readInts(initializerOf(g, wdq.input![2]!)).every((z) => z === 0), 'symmetric: zero points 0');
    const mdq = producerOf(g, nodesOf(g, 'MatMul')[0]!.input![1]!);
    assert.equal(intAttrOf(mdq, 'axis'), 1, 'MatMul weight per column');
    assert.deepEqual(tensorDims(initializerOf(g, mdq.input![1]!)), [5], 'five scales');
    assert.ok(!g.initializer!.some((t) => t.name === 'W' || t.name === 'M'), 'fp32 weights dropped');
  });

  it('quantizes the bias to int32 with scale = input_scale * weight_scale, zero point 0', () => {
    const g = mainGraph(quantizeStaticQdq(convNet(), RANGES));
    const conv = nodesOf(g, 'Conv')[0]!;
    const bdq = producerOf(g, conv.input![2]!);
    const bq = initializerOf(g, bdq.input![0]!);
    assert.equal(bq.dataType, DataType.INT32, 'int32 bias');
    const bScale = readFloats(initializerOf(g, bdq.input![1]!));
    const wScale = readFloats(initializerOf(g, producerOf(g, conv.input![1]!).input![1]!));
    const xScale = Math.fround(computeScaleZp(0, 1, -128, 127, false).scale);
    for (let c = 0; c < 3; c++) {
      assert.equal(bScale[c], Math.fround(xScale * wScale[c]!), `bias scale of channel ${c}`);
      assert.equal(readInts(bq)[c], roundHalfEven([0.5, -0.25, 1][c]! / bScale[c]!), `bias value of channel ${c}`);
    }
    assert.equal(initializerOf(g, bdq.input![2]!).dataType, DataType.INT32, 'int32 zero point');
    assert.ok(readInts(initializerOf(g, bdq.input![2]!)).every((z) => z === 0), 'bias zero points are 0');
  });

  it('leaves a node whose input has no range in fp32', () => {
    const ranges = new Map([...RANGES].filter(([k]) => k !== 'r'));
    const g = mainGraph(quantizeStaticQdq(convNet(), ranges));
    const mm = nodesOf(g, 'MatMul')[0]!;
    assert.equal(mm.input![1], 'M', 'MatMul keeps its fp32 weight');
    assert.equal(producerOf(g, 'y').opType, 'MatMul', 'and its output is not quantized');
  });

  it('per tensor when perChannel is false, without raising the opset past 10', () => {
    const m = quantizeStaticQdq(convNet(10), RANGES, { perChannel: false });
    assert.equal(defaultOpsetVersion(m), 10, 'opset 10 is enough for per-tensor Q/DQ');
    const g = mainGraph(m);
    const wdq = producerOf(g, nodesOf(g, 'Conv')[0]!.input![1]!);
    assert.equal(intAttrOf(wdq, 'axis'), undefined, 'no axis');
    assert.deepEqual(tensorDims(initializerOf(g, wdq.input![1]!)), [], 'scalar scale');
  });

  it('raises an older opset to 13 for per-channel DequantizeLinear', () => {
    assert.equal(defaultOpsetVersion(quantizeStaticQdq(convNet(11), RANGES)), 13, 'opset 13');
  });

  it('stores weights uint8 (zero point 127 per channel) for u8u8, which needs uint8 activations', () => {
    const g = mainGraph(quantizeStaticQdq(convNet(), RANGES, { format: 'u8u8', activationType: 'uint8' }));
    for (const op of ['Conv', 'MatMul']) {
      const wdq = producerOf(g, nodesOf(g, op)[0]!.input![1]!);
      const [wq, , zp] = wdq.input!.map((n) => initializerOf(g, n));
      assert.deepEqual([wq!.dataType, zp!.dataType], [DataType.UINT8, DataType.UINT8], `${op}: uint8 weight and zero points`);
      assert.ok(readInts(zp!).every((z) => z === 127), `${op}: zero points 127`);
    }
    assert.throws(() => quantizeStaticQdq(convNet(), RANGES, { format: 'u8u8', activationType: 'int8' }), /^Error: the u8u8 int8 format needs uint8 activations$/);
  });

  it('stores 7-bit int8 weights for u8s8_reduce_range', () => {
    const g = mainGraph(quantizeStaticQdq(convNet(), RANGES, { format: 'u8s8_reduce_range' }));
    const wq = initializerOf(g, producerOf(g, nodesOf(g, 'Conv')[0]!.input![1]!).input![0]!);
    assert.equal(wq.dataType, DataType.INT8);
    assert.equal(Math.max(...readInts(wq).map(Math.abs)), 64, 'the largest weight of a channel maps to 64');
  });
});
