/**
 * Small fp16-converted graphs (blocked ops, Constant/Cast rewriting, If
 * subgraphs) loaded and run in onnxruntime-node, against their fp32 originals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxAbsError } from '../../../src/onnx/accuracy.js';
import { convertToFloat16 } from '../../../src/onnx/float16.js';
import { DataType, type ModelProto, attr, graph, model, node, tensor, valueInfo } from '../../../src/onnx/graph-builder.js';
import { writeModel } from '../../../src/onnx/onnx-model.js';
import { type Feed, createSession, runSession } from './ort-runner.js';

async function run(m: ModelProto, feeds: Record<string, Feed>, output: string): Promise<Float32Array> {
  const session = await createSession(writeModel(m));
  try {
    return (await runSession(session, feeds, output)) as Float32Array;
  } finally {
    await session.release();
  }
}

describe('fp16 graphs in onnxruntime-node', () => {
  it('a blocked TopK and Max between converted ops', async () => {
    const m = model(graph({
      name: 'blocked',
      inputs: [valueInfo('x', DataType.FLOAT, [2, 8])],
      outputs: [valueInfo('y', DataType.FLOAT, [2, 3])],
      initializers: [tensor('W', Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)), [8, 8]), tensor('k', BigInt64Array.from([3n]), [1]), tensor('floor', Float32Array.from([0.1]), [1])],
      nodes: [
        node('MatMul', ['x', 'W'], ['h'], {}, { name: 'mm' }),
        node('TopK', ['h', 'k'], ['top', 'idx'], {}, { name: 'topk' }),
        node('Max', ['top', 'floor'], ['m'], {}, { name: 'max' }),
        node('Constant', [], ['two'], { value: attr.tensor(tensor('', Float32Array.from([2]), [])) }, { name: 'two' }),
        node('Mul', ['m', 'two'], ['y'], {}, { name: 'mul' }),
      ],
    }));
    const x = { x: { data: Float32Array.from({ length: 16 }, (_, i) => Math.cos(i)), dims: [2, 8] } };
    const ref = await run(m, x, 'y');
    const half = await run(convertToFloat16(m), x, 'y');
    assert.ok(maxAbsError(ref, half) < 1e-2, `fp16 within 1e-2 of fp32 (got ${maxAbsError(ref, half)})`);
  });

  it('If branches reading outer tensors stored in fp16 (xs) and fp32 (the kept-FLOAT input x)', async () => {
    const thenBranch = graph({
      name: 'then',
      inputs: [],
      outputs: [valueInfo('t_out', DataType.FLOAT, [2])],
      initializers: [tensor('t_k', Float32Array.from([1.5, -1.5]), [2])],
      nodes: [node('Add', ['xs', 't_k'], ['t_out'], {}, { name: 't_add' })],
    });
    const elseBranch = graph({
      name: 'else',
      inputs: [],
      outputs: [valueInfo('e_out', DataType.FLOAT, [2])],
      nodes: [node('Identity', ['x'], ['e_out'], {}, { name: 'e_id' })],
    });
    const m = model(graph({
      name: 'if',
      inputs: [valueInfo('x', DataType.FLOAT, [2]), valueInfo('c', DataType.BOOL, [])],
      outputs: [valueInfo('y', DataType.FLOAT, [2])],
      nodes: [
        node('Sin', ['x'], ['xs'], {}, { name: 'sin' }),
        node('If', ['c'], ['y'], { then_branch: attr.graph(thenBranch), else_branch: attr.graph(elseBranch) }, { name: 'if' }),
      ],
    }));
    const half = convertToFloat16(m);
    for (const c of [1, 0]) {
      const feeds = { x: { data: Float32Array.from([0.25, -2]), dims: [2] }, c: { data: Uint8Array.from([c]), dims: [] } };
      const ref = await run(m, feeds, 'y');
      const out = await run(half, feeds, 'y');
      assert.ok(maxAbsError(ref, out) < 2e-3, `branch ${c ? 'then' : 'else'} agrees (got ${maxAbsError(ref, out)})`);
    }
  });
});
