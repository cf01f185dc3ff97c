import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataType, attr, graph, model, node, tensor, valueInfo } from '../../../src/onnx/graph-builder.js';
import { defaultOpsetVersion, mainGraph } from '../../../src/onnx/onnx-model.js';
import { quantizeDynamic } from '../../../src/onnx/quantize-dynamic.js';
import { readFloats, readInts, tensorDims } from '../../../src/onnx/tensor-data.js';
import { buildMlp, uniform } from './fixtures.js';
import { assertWellFormed, initializerOf, intAttrOf, nodesOf, producerOf } from './graph-checks.js';

describe('quantizeDynamic', () => {
  it('rewrites MatMul with a constant B into the IntegerOps pattern', () => {
    const m = quantizeDynamic(buildMlp({ layers: 2, hidden: 16, form: 'matmul' }));
    assertWellFormed(m);
    const g = mainGraph(m);
    assert.equal(nodesOf(g, 'MatMul').length, 0, 'no float MatMul left');
    assert.equal(nodesOf(g, 'MatMulInteger').length, 2, 'one MatMulInteger per layer');
    assert.equal(nodesOf(g, 'DynamicQuantizeLinear').length, 2, 'one DynamicQuantizeLinear per distinct activation');
    const mul = producerOf(g, 'mm0');
    assert.equal(mul.opType, 'Mul', 'the original MatMul output is written by the rescaling Mul');
    const cast = producerOf(g, mul.input![0]!);
    assert.deepEqual([cast.opType, intAttrOf(cast, 'to')], ['Cast', DataType.FLOAT], 'the int32 product is cast to FLOAT');
    const mmi = producerOf(g, cast.input![0]!);
    assert.equal(mmi.opType, 'MatMulInteger', 'the Cast reads MatMulInteger');
    const dql = producerOf(g, mmi.input![0]!);
    assert.deepEqual([dql.opType, dql.input![0]], ['DynamicQuantizeLinear', 'x'], 'A is quantized at run time');
    assert.equal(mmi.input![2], dql.output![2], 'A zero point comes from DynamicQuantizeLinear');
    const scales = producerOf(g, mul.input![1]!);
    assert.deepEqual([scales.opType, scales.input![0]], ['Mul', dql.output![1]], 'scales = A_scale * B_scale');
  });

  it('stores B as int8 with per-column scales and a [N] zero point', () => {
    const g = mainGraph(quantizeDynamic(buildMlp({ layers: 1, hidden: 16 })));
    const mmi = nodesOf(g, 'MatMulInteger')[0]!;
    const bq = initializerOf(g, mmi.input![1]!);
    const bzp = initializerOf(g, mmi.input![3]!);
    assert.deepEqual([bq.dataType, tensorDims(bq)], [DataType.INT8, [16, 16]], 'B_quantized is INT8 [K, N]');
    assert.deepEqual([bzp.dataType, tensorDims(bzp)], [DataType.INT8, [16]], 'b_zero_point is INT8 [N]');
    assert.ok(readInts(bzp).every((z) => z === 0), 'symmetric weights: zero points are 0');
    const aScale = nodesOf(g, 'DynamicQuantizeLinear')[0]!.output![1]!;
    const scalesMul = nodesOf(g, 'Mul').find((n) => n.input![0] === aScale)!;
    assert.deepEqual(tensorDims(initializerOf(g, scalesMul.input![1]!)), [16], 'B_scale has one entry per column');
    assert.equal(g.initializer!.some((t) => t.name === 'w0'), false, 'the fp32 weight is dropped');
  });

  it('per tensor when perChannel is false', () => {
    const g = mainGraph(quantizeDynamic(buildMlp({ layers: 1, hidden: 16 }), { perChannel: false }));
    const mmi = nodesOf(g, 'MatMulInteger')[0]!;
    assert.deepEqual(tensorDims(initializerOf(g, mmi.input![3]!)), [], 'scalar b_zero_point');
  });

  it('rewrites Gemm(transB=1) to MatMul + Add with a transposed weight', () => {
    const src = buildMlp({ layers: 1, hidden: 8, form: 'gemm' });
    const g = mainGraph(quantizeDynamic(src));
    assert.equal(nodesOf(g, 'Gemm').length, 0, 'no Gemm left');
    const add = producerOf(g, 'y');
    assert.equal(add.opType, 'Add', 'the Gemm output is written by the bias Add');
    assert.equal(add.input![1], 'b0', 'the bias is added as is (beta = 1)');
    const mmi = nodesOf(g, 'MatMulInteger')[0]!;
    const w = readFloats(initializerOf(mainGraph(src), 'w0'));
    const bq = readInts(initializerOf(g, mmi.input![1]!));
    // B' = W^T: B'[k][n] = W[n][k]; per column n, the largest |W[n][*]| maps to ±127.
    for (let n = 0; n < 8; n++) {
      let best = 0;
      for (let k = 1; k < 8; k++) if (Math.abs(w[n * 8 + k]!) > Math.abs(w[n * 8 + best]!)) best = k;
      assert.equal(Math.abs(bq[best * 8 + n]!), 127, `column ${n}'s largest weight is W[${n}][${best}], quantized to ±127`);
    }
  });

  it('raises an opset-9 model to 11, adapting Clip', () => {
    const m = model(graph({
      name: 'old',
      inputs: [valueInfo('x', DataType.FLOAT, ['N', 4])],
      outputs: [valueInfo('y', DataType.FLOAT, ['N', 4])],
      initializers: [tensor('w', uniform(16, 1, -1, 1), [4, 4])],
      nodes: [
        node('MatMul', ['x', 'w'], ['h'], {}, { name: 'mm' }),
        node('Clip', ['h'], ['y'], { min: attr.float(0), max: attr.float(6) }, { name: 'clip' }),
      ],
    }), { opsets: [{ domain: '', version: 9 }], irVersion: 4 });
    const q = quantizeDynamic(m);
    assertWellFormed(q);
    assert.equal(defaultOpsetVersion(q), 11, 'opset raised to 11');
    const clip = producerOf(mainGraph(q), 'y');
    assert.equal(clip.input!.length, 3, 'Clip takes min/max as inputs from opset 11');
    assert.equal((clip.attribute ?? []).length, 0, 'Clip attributes removed');
  });

  it('refuses an opset-9 model it cannot raise safely', () => {
    const m = model(graph({
      name: 'old',
      inputs: [valueInfo('x', DataType.FLOAT, [1, 1, 2, 2])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 1, 4, 4])],
      initializers: [tensor('s', Float32Array.from([1, 1, 2, 2]), [4])],
      nodes: [node('Upsample', ['x', 's'], ['y'], {}, { name: 'up' })],
    }), { opsets: [{ domain: '', version: 9 }] });
    assert.throws(() => quantizeDynamic(m), /opset >= 11.*Upsample/, 'the error names the opset and the op');
  });

  it('optionally turns Conv into ConvInteger with [M,1,1] scales and a bias Add', () => {
    const m = model(graph({
      name: 'conv',
      inputs: [valueInfo('x', DataType.FLOAT, [1, 2, 5, 5])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 3, 5, 5])],
      initializers: [tensor('w', uniform(3 * 2 * 9, 2, -1, 1), [3, 2, 3, 3]), tensor('b', Float32Array.from([1, 2, 3]), [3])],
      nodes: [node('Conv', ['x', 'w', 'b'], ['y'], { pads: attr.ints([1, 1, 1, 1]) }, { name: 'conv' })],
    }));
    assert.equal(nodesOf(mainGraph(quantizeDynamic(m)), 'Conv').length, 1, 'Conv stays fp32 by default');
    const g = mainGraph(quantizeDynamic(m, { quantizeConv: true }));
    const ci = nodesOf(g, 'ConvInteger')[0];
    assert.ok(ci !== undefined, 'ConvInteger present');
    assert.deepEqual(tensorDims(initializerOf(g, ci.input![3]!)), [], 'scalar weight zero point (ORT CPU requires it)');
    assert.ok((ci.attribute ?? []).some((a) => a.name === 'pads'), 'Conv attributes carried over');
    assert.equal(producerOf(g, 'y').opType, 'Add', 'bias added after rescaling');
    assert.deepEqual(tensorDims(initializerOf(g, producerOf(g, 'y').input![1]!)), [3, 1, 1], 'bias reshaped to [M, 1, 1]');
  });

  it('stores B as uint8 around zero point 127 for u8u8, and as 7-bit int8 for u8s8_reduce_range', () => {
    const src = buildMlp({ layers: 1, hidden: 16 });
    const u = mainGraph(quantizeDynamic(src, { format: 'u8u8' }));
    const mmi = nodesOf(u, 'MatMulInteger')[0]!;
    const bq = initializerOf(u, mmi.input![1]!);
    const bzp = initializerOf(u, mmi.input![3]!);
    assert.deepEqual([bq.dataType, bzp.dataType, tensorDims(bzp)], [DataType.UINT8, DataType.UINT8, [16]], 'uint8 B with a [N] zero point');
    assert.ok(readInts(bzp).every((z) => z === 127), 'symmetric uint8: zero points 127');
    const r = mainGraph(quantizeDynamic(src, { format: 'u8s8_reduce_range' }));
    const rq = initializerOf(r, nodesOf(r, 'MatMulInteger')[0]!.input![1]!);
    assert.equal(rq.dataType, DataType.INT8);
    const values = readInts(rq);
    assert.ok(values.every((v) => v >= -64 && v <= 64), 'weights in 7 bits');
    assert.equal(Math.max(...values.map(Math.abs)), 64, 'using all of them');
  });

  it('gives u8u8 ConvInteger one scalar zero point, 127', () => {
    const m = model(graph({
      name: 'conv',
      inputs: [valueInfo('x', DataType.FLOAT, [1, 2, 5, 5])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, 3, 5, 5])],
      initializers: [tensor('w', uniform(3 * 2 * 9, 2, -1, 1), [3, 2, 3, 3])],
      nodes: [node('Conv', ['x', 'w'], ['y'], {}, { name: 'conv' })],
    }));
    const g = mainGraph(quantizeDynamic(m, { quantizeConv: true, format: 'u8u8' }));
    const ci = nodesOf(g, 'ConvInteger')[0]!;
    const zp = initializerOf(g, ci.input![3]!);
    assert.deepEqual([zp.dataType, tensorDims(zp), readInts(zp)], [DataType.UINT8, [], [127]]);
    assert.equal(initializerOf(g, ci.input![1]!).dataType, DataType.UINT8);
  });
});
