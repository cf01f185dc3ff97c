import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataType, attr, graph, model, node, tensor, valueInfo } from '../../../src/onnx/graph-builder.js';
import { DEFAULT_OP_BLOCK_LIST, convertToFloat16 } from '../../../src/onnx/float16.js';
import {
  clampForFloat16, float16BitsToFloat32, float32ToFloat16Bits, toFloat16Bits,
} from '../../../src/onnx/half-precision.js';
import { mainGraph } from '../../../src/onnx/onnx-model.js';
import { readFloats } from '../../../src/onnx/tensor-data.js';
import { assertWellFormed, declaredType, initializerOf, intAttrOf, nodesOf, producerOf } from './graph-checks.js';

describe('float32ToFloat16Bits', () => {
  it('encodes exact values', () => {
    const cases: [number, number][] = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
      [2 ** -14, 0x0400], [2 ** -24, 0x0001], [1023 * 2 ** -24, 0x03ff], [Infinity, 0x7c00], [-Infinity, 0xfc00],
    ];
    for (const [x, bits] of cases) assert.equal(float32ToFloat16Bits(x), bits, `fp16 bits of ${x}`);
  });

  it('rounds to nearest, ties to even', () => {
    assert.equal(float32ToFloat16Bits(1 + 2 ** -11), 0x3c00, '1 + half an ulp ties down to the even 1.0');
    assert.equal(float32ToFloat16Bits(1 + 3 * 2 ** -11), 0x3c02, '1 + 1.5 ulp ties up to the even 0x3c02');
    assert.equal(float32ToFloat16Bits(1 + 2 ** -11 + 2 ** -20), 0x3c01, 'just above a tie rounds up');
    assert.equal(float32ToFloat16Bits(2 ** -25), 0x0000, 'half the smallest subnormal ties to zero');
    assert.equal(float32ToFloat16Bits(3 * 2 ** -25), 0x0002, '1.5 subnormal ulps tie to the even 2');
    assert.equal(float32ToFloat16Bits(2 ** -26), 0x0000, 'below half the smallest subnormal flushes to zero');
    assert.equal(float32ToFloat16Bits(65519), 0x7bff, '65519 rounds down to the largest finite value');
    assert.equal(float32ToFloat16Bits(65520), 0x7c00, '65520 rounds up to infinity');
    assert.equal(float32ToFloat16Bits(2047 * 2 ** -25), 0x0400, 'the largest subnormal plus half an ulp carries into the normals');
  });

  it('keeps NaN a NaN', () => {
    const bits = float32ToFloat16Bits(NaN);
    assert.equal(bits & 0x7c00, 0x7c00, 'NaN has an all-ones exponent');
    assert.notEqual(bits & 0x3ff, 0, 'NaN has a non-zero mantissa');
  });

  it('round-trips every finite fp16 value', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      const back = float32ToFloat16Bits(float16BitsToFloat32(h));
      if (back !== h) assert.fail(`fp16 0x${h.toString(16)} came back as 0x${back.toString(16)}`);
    }
  });
});

describe('clampForFloat16', () => {
  it('saturates tiny and huge magnitudes, keeping the sign', () => {
    assert.equal(clampForFloat16(1e-9), 5.96e-8, 'tiny positive -> smallest positive');
    assert.equal(clampForFloat16(-1e-9), -5.96e-8, 'tiny negative -> minus smallest positive');
    assert.equal(clampForFloat16(1e6), 65504, 'huge positive -> max finite');
    assert.equal(clampForFloat16(-1e6), -65504, 'huge negative -> minus max finite');
    assert.equal(clampForFloat16(1.5), 1.5, 'in-range values are untouched');
  });

  it('leaves 0, NaN and infinities alone', () => {
    assert.equal(clampForFloat16(0), 0, 'zero');
    assert.ok(Number.isNaN(clampForFloat16(NaN)), 'NaN');
    assert.equal(clampForFloat16(Infinity), Infinity, '+Inf');
    assert.equal(clampForFloat16(-Infinity), -Infinity, '-Inf');
  });

  it('gives the smallest subnormal and largest finite bit patterns after rounding', () => {
    assert.deepEqual([...toFloat16Bits([1e-9, -1e6, 0])], [0x0001, 0xfbff, 0x0000], 'clamped then rounded');
  });
});

/** x -> MatMul(W) -> h -> Max(h, C) [blocked] -> m -> Relu -> y, plus a Constant and a Cast. */
function blockedGraph(weightsAsFloatData = false) {
  const w = tensor('W', Float32Array.from([1, 2, 3, 4, 1e-9, 1e6, -1e6, 0.1]), [4, 2]);
  if (weightsAsFloatData) {
    w.floatData = [...readFloats(w)];
    w.rawData = new Uint8Array(0);
  }
  return model(graph({
    name: 'blocked',
    inputs: [valueInfo('x', DataType.FLOAT, ['N', 4])],
    outputs: [valueInfo('y', DataType.FLOAT, ['N', 2])],
    valueInfo: [valueInfo('h', DataType.FLOAT, ['N', 2]), valueInfo('m', DataType.FLOAT, ['N', 2])],
    initializers: [w, tensor('C', Float32Array.from([0.5, -0.5]), [2])],
    nodes: [
      node('MatMul', ['x', 'W'], ['h'], {}, { name: 'mm' }),
      node('Max', ['h', 'C'], ['m'], {}, { name: 'max' }),
      node('Constant', [], ['k'], { value: attr.tensor(tensor('', Float32Array.from([2]), [])) }, { name: 'k' }),
      node('Mul', ['m', 'k'], ['mk'], {}, { name: 'mul' }),
      node('Cast', ['mk'], ['mc'], { to: attr.int(DataType.FLOAT) }, { name: 'cast' }),
      node('Relu', ['mc'], ['y'], {}, { name: 'relu' }),
    ],
  }));
}

describe('convertToFloat16', () => {
  it('blocks Max by default (ORT\'s list)', () => {
    assert.ok(DEFAULT_OP_BLOCK_LIST.includes('Max'), 'Max is on the default block list');
    assert.ok(DEFAULT_OP_BLOCK_LIST.includes('TopK'), 'TopK is on the default block list');
  });

  it('keeps FLOAT I/O with Casts after the input and before the output', () => {
    const m = convertToFloat16(blockedGraph());
    assertWellFormed(m);
    const g = mainGraph(m);
    assert.equal(declaredType(g.input, 'x'), DataType.FLOAT, 'the graph input stays FLOAT');
    assert.equal(declaredType(g.output, 'y'), DataType.FLOAT, 'the graph output stays FLOAT');
    const mm = producerOf(g, 'h');
    const inCast = producerOf(g, mm.input![0]!);
    assert.equal(inCast.opType, 'Cast', 'MatMul reads a Cast of x');
    assert.deepEqual([inCast.input![0], intAttrOf(inCast, 'to')], ['x', DataType.FLOAT16], 'x is cast to FLOAT16');
    const outCast = producerOf(g, 'y');
    assert.equal(outCast.opType, 'Cast', 'y is produced by a Cast');
    assert.equal(intAttrOf(outCast, 'to'), DataType.FLOAT, 'the output Cast goes to FLOAT');
    assert.equal(producerOf(g, outCast.input![0]!).opType, 'Relu', 'the output Cast reads the renamed Relu output');
  });

  it('wraps a blocked op in Casts and keeps its private constants fp32', () => {
    const g = mainGraph(convertToFloat16(blockedGraph()));
    const max = producerOf(g, 'm');
    assert.equal(max.opType, 'Max', 'Max still writes m');
    const hCast = producerOf(g, max.input![0]!);
    assert.deepEqual([hCast.opType, hCast.input![0], intAttrOf(hCast, 'to')], ['Cast', 'h', DataType.FLOAT], 'h is cast to FLOAT for Max');
    assert.equal(max.input![1], 'C', 'Max reads C directly');
    assert.equal(initializerOf(g, 'C').dataType, DataType.FLOAT, 'C, used only by the blocked Max, stays FLOAT');
    const mul = producerOf(g, 'mk');
    const mCast = producerOf(g, mul.input![0]!);
    assert.deepEqual([mCast.opType, mCast.input![0], intAttrOf(mCast, 'to')], ['Cast', 'm', DataType.FLOAT16], 'm is cast back to FLOAT16 after Max');
    assert.equal(declaredType(g.valueInfo, 'h'), DataType.FLOAT16, 'value_info of a converted tensor says FLOAT16');
    assert.equal(declaredType(g.valueInfo, 'm'), DataType.FLOAT, 'value_info of a blocked op\'s output stays FLOAT');
    assert.equal(nodesOf(g, 'Cast').length, 5, 'input, 2 around Max, the model\'s own Cast, output');
  });

  it('converts initializers (raw_data or float_data), Constant tensors and Cast(to=FLOAT)', () => {
    for (const floatData of [false, true]) {
      const g = mainGraph(convertToFloat16(blockedGraph(floatData)));
      const w = initializerOf(g, 'W');
      assert.equal(w.dataType, DataType.FLOAT16, `W becomes FLOAT16 (float_data source: ${floatData})`);
      assert.equal(w.rawData!.length, 16, 'fp16 raw_data is 2 bytes per value');
      assert.equal((w.floatData ?? []).length, 0, 'float_data is cleared');
      const bits = new DataView(w.rawData!.buffer, w.rawData!.byteOffset, 16);
      assert.equal(bits.getUint16(8, true), 0x0001, '1e-9 is clamped to the smallest subnormal');
      assert.equal(bits.getUint16(10, true), 0x7bff, '1e6 is clamped to 65504');
      assert.equal(bits.getUint16(12, true), 0xfbff, '-1e6 is clamped to -65504');
      const k = producerOf(g, 'k');
      assert.equal(k.attribute![0]!.t!.dataType, DataType.FLOAT16, 'the Constant tensor becomes FLOAT16');
      assert.equal(intAttrOf(producerOf(g, 'mc'), 'to'), DataType.FLOAT16, 'Cast(to=FLOAT) becomes Cast(to=FLOAT16)');
    }
  });

  it('keepIoTypes: false declares FLOAT16 I/O and adds no I/O Casts', () => {
    const g = mainGraph(convertToFloat16(blockedGraph(), { keepIoTypes: false }));
    assert.equal(declaredType(g.input, 'x'), DataType.FLOAT16, 'input is FLOAT16');
    assert.equal(declaredType(g.output, 'y'), DataType.FLOAT16, 'output is FLOAT16');
    assert.equal(producerOf(g, 'h').input![0], 'x', 'MatMul reads x directly');
    assert.equal(producerOf(g, 'y').opType, 'Relu', 'Relu writes y directly');
  });

  it('an empty block list converts Max too', () => {
    const g = mainGraph(convertToFloat16(blockedGraph(), { opBlockList: [] }));
    assert.equal(nodesOf(g, 'Cast').length, 3, 'only the I/O Casts and the model\'s own Cast remain');
    assert.equal(initializerOf(g, 'C').dataType, DataType.FLOAT16, 'C is converted');
  });

  it('shares one Cast between consumers and lets adjacent blocked ops talk fp32', () => {
    const m = model(graph({
      name: 'chain',
      inputs: [valueInfo('a', DataType.FLOAT, [2]), valueInfo('b', DataType.FLOAT, [2])],
      outputs: [valueInfo('y', DataType.FLOAT, [2])],
      nodes: [
        node('Add', ['a', 'b'], ['s'], {}, { name: 'add' }),
        node('Min', ['s', 'a'], ['lo'], {}, { name: 'min' }),
        node('Max', ['lo', 's'], ['y'], {}, { name: 'max' }),
      ],
    }));
    const converted = convertToFloat16(m);
    assertWellFormed(converted);
    const g = mainGraph(converted);
    assert.equal(producerOf(g, 'y').opType, 'Max', 'the blocked Max writes the fp32 output itself, no Cast needed');
    assert.equal(producerOf(g, 'y').input![0], 'lo', 'Max reads Min\'s fp32 output without a Cast');
    const casts = nodesOf(g, 'Cast');
    assert.equal(casts.filter((c) => c.input![0] === 's').length, 1, 's is cast to fp32 once for both blocked consumers');
    assert.equal(casts.length, 3, 'a and b to fp16 for Add, s back to fp32; Min reads the fp32 input a as is');
  });

  it('converts If branches and refuses to block a control-flow op', () => {
    const branch = (name: string, k: number) => graph({
      name,
      inputs: [],
      outputs: [valueInfo(`${name}_out`, DataType.FLOAT, [2])],
      initializers: [tensor(`${name}_k`, Float32Array.from([k, k]), [2])],
      nodes: [node('Add', ['xs', `${name}_k`], [`${name}_out`], {}, { name: `${name}_add` })],
    });
    const m = model(graph({
      name: 'if',
      inputs: [valueInfo('x', DataType.FLOAT, [2]), valueInfo('c', DataType.BOOL, [])],
      outputs: [valueInfo('y', DataType.FLOAT, [2])],
      nodes: [
        node('Sin', ['x'], ['xs'], {}, { name: 'sin' }),
        node('If', ['c'], ['y'], { then_branch: attr.graph(branch('then', 1)), else_branch: attr.graph(branch('else', -1)) }, { name: 'if' }),
      ],
    }));
    const converted = convertToFloat16(m);
    assertWellFormed(converted);
    const ifNode = producerOf(mainGraph(converted), producerOf(mainGraph(converted), 'y').input![0]!);
    assert.equal(ifNode.opType, 'If', 'the output Cast reads the If');
    const thenBranch = ifNode.attribute!.find((a) => a.name === 'then_branch')!.g!;
    assert.equal(declaredType(thenBranch.output, 'then_out'), DataType.FLOAT16, 'branch outputs become FLOAT16');
    assert.equal(initializerOf(thenBranch, 'then_k').dataType, DataType.FLOAT16, 'branch initializers become FLOAT16');
    assert.throws(() => convertToFloat16(m, { opBlockList: ['If'] }), /control-flow/, 'blocking If is refused');
  });
});
