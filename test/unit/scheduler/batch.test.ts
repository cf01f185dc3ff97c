import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataType } from '../../../src/core/data-type.js';
import { InferError } from '../../../src/core/errors.js';
import type { BufferTensor, ExecutionResult } from '../../../src/core/execution.js';
import type { InferResponse, RequestTensor } from '../../../src/core/infer-request.js';
import type { ModelInfo, TensorSpec } from '../../../src/core/model-info.js';
import { validateInferRequest } from '../../../src/core/request-validation.js';
import { joinBytesElements, splitBytesElements } from '../../../src/core/tensor.js';
import { Batch } from '../../../src/scheduler/batch.js';
import { PendingRequest } from '../../../src/scheduler/pending-request.js';
import { systemClock } from '../../../src/scheduler/clock.js';
import { StagingPool } from '../../../src/scheduler/staging-pool.js';

const spec = (name: string, datatype: DataType, dims: number[], reshape?: number[]): TensorSpec => ({
  name,
  datatype,
  dims,
  optional: false,
  ...(reshape === undefined ? {} : { reshape }),
});

/** Batching model: two INT32 [2] inputs and two INT32 [2] outputs. */
const ADD: ModelInfo = {
  name: 'add',
  version: 3,
  platform: 'onnxruntime_onnx',
  maxBatchSize: 8,
  inputs: [spec('INPUT0', 'INT32', [2]), spec('INPUT1', 'INT32', [2])],
  outputs: [spec('OUTPUT0', 'INT32', [2]), spec('OUTPUT1', 'INT32', [2])],
};

/** Batching model with a BYTES output of variable width. */
const TEXT: ModelInfo = {
  name: 'text',
  version: 1,
  platform: 'onnxruntime_onnx',
  maxBatchSize: 8,
  inputs: [spec('IN', 'BYTES', [-1])],
  outputs: [spec('OUT', 'BYTES', [-1])],
};

/** Batching model with reshapes: a scalar input declared [1], and an output declared [4] that the model gives as [2,2]. */
const RESHAPED: ModelInfo = {
  name: 'reshaped',
  version: 1,
  platform: 'onnxruntime_onnx',
  maxBatchSize: 4,
  inputs: [spec('S', 'FP32', [1], [])],
  outputs: [spec('O', 'FP32', [4], [2, 2])],
};

/** No batching. */
const FIXED: ModelInfo = {
  name: 'fixed',
  version: 1,
  platform: 'onnxruntime_onnx',
  maxBatchSize: 0,
  inputs: [spec('X', 'INT32', [3])],
  outputs: [spec('Y', 'INT32', [3])],
};

const int32 = (...values: number[]) => new Uint8Array(Int32Array.from(values).buffer);
const readInt32 = (data: Uint8Array) => Array.from(new Int32Array(new Uint8Array(data).buffer));
const strings = (...s: string[]) => joinBytesElements(s.map((x) => new TextEncoder().encode(x)));
const readStrings = (data: Uint8Array) => splitBytesElements(data).map((e) => new TextDecoder().decode(e));

interface Entry {
  readonly pending: PendingRequest;
  readonly controller: AbortController;
  readonly resolved: InferResponse[];
  readonly rejected: InferError[];
  readonly aborted: PendingRequest[];
}

/** A validated request wrapped in a PendingRequest whose outcome is recorded. */
function entry(model: ModelInfo, inputs: RequestTensor[], options: { id?: string; outputs?: string[] } = {}): Entry {
  const validated = validateInferRequest(
    {
      id: options.id ?? '',
      modelName: model.name,
      modelVersion: '',
      inputs,
      outputs: (options.outputs ?? []).map((name) => ({ name, parameters: new Map() })),
      parameters: new Map(),
    },
    model,
  );
  const controller = new AbortController();
  const resolved: InferResponse[] = [];
  const rejected: InferError[] = [];
  const aborted: PendingRequest[] = [];
  const pending = new PendingRequest({
    request: validated,
    signal: controller.signal,
    clock: systemClock,
    resolve: (r) => resolved.push(r),
    reject: (e) => rejected.push(e),
    onAbort: (p) => aborted.push(p),
  });
  return { pending, controller, resolved, rejected, aborted };
}

const addEntry = (rows: number[][], options: { id?: string; outputs?: string[] } = {}) =>
  entry(
    ADD,
    [
      { name: 'INPUT0', datatype: 'INT32', shape: [rows.length, 2], data: int32(...rows.flat()) },
      { name: 'INPUT1', datatype: 'INT32', shape: [rows.length, 2], data: int32(...rows.flat().map((v) => v * 10)) },
    ],
    options,
  );

function output(name: string, datatype: DataType, shape: number[], data: Uint8Array): BufferTensor {
  // Put the tensor at an offset inside a larger buffer, as a backend's output may be.
  const backing = new Uint8Array(data.byteLength + 16);
  backing.set(data, 8);
  return { name, datatype, shape, buffer: backing.buffer, byteOffset: 8, byteLength: data.byteLength };
}

const result = (outputs: BufferTensor[]): ExecutionResult => ({ outputs, inputBuffers: [], compute: { start: 0, end: 1 } });

/** The only response an entry got. */
function response(e: Entry): InferResponse {
  assert.equal(e.rejected.length, 0, `unexpected rejection: ${e.rejected[0]?.message}`);
  assert.equal(e.resolved.length, 1);
  return e.resolved[0]!;
}

describe('Batch', () => {
  it('needs at least one request', () => {
    assert.throws(() => new Batch([]), { id: 'INTERNAL', message: 'a batch needs at least one request' });
  });

  it('adds up the batch sizes of its requests', () => {
    const batch = new Batch([addEntry([[1, 2]]).pending, addEntry([[3, 4], [5, 6]]).pending]);
    assert.equal(batch.size, 3);
    assert.equal(batch.model, ADD);
  });

  describe('assemble', () => {
    it('concatenates each input across requests, in request order, with the batch shape', () => {
      const a = addEntry([[1, 2]]);
      const b = addEntry([[3, 4], [5, 6]]);
      const execution = new Batch([a.pending, b.pending]).assemble(new StagingPool(1 << 20));
      assert.deepEqual(
        execution.inputs.map((i) => [i.name, i.datatype, i.shape, i.byteOffset, i.byteLength]),
        [
          ['INPUT0', 'INT32', [3, 2], 0, 24],
          ['INPUT1', 'INT32', [3, 2], 0, 24],
        ],
      );
      const values = (t: BufferTensor) => readInt32(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
      assert.deepEqual(values(execution.inputs[0]!), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(values(execution.inputs[1]!), [10, 20, 30, 40, 50, 60]);
    });

    it('copies into buffers taken from the staging pool, one per input', () => {
      const pool = new StagingPool(1 << 20);
      const recycled = pool.take(24);
      pool.give(recycled);
      const execution = new Batch([addEntry([[1, 2]]).pending]).assemble(pool);
      assert.equal(execution.inputs[0]!.buffer, recycled);
      assert.notEqual(execution.inputs[1]!.buffer, recycled);
      assert.equal(execution.inputs[0]!.buffer.byteLength, 1024);
    });

    it('does not write to the request data', () => {
      const a = addEntry([[1, 2]]);
      const before = [...a.pending.request.inputs[0]!.tensor.data];
      const execution = new Batch([a.pending]).assemble(new StagingPool(1 << 20));
      new Uint8Array(execution.inputs[0]!.buffer).fill(0xff);
      assert.deepEqual([...a.pending.request.inputs[0]!.tensor.data], before);
    });

    it('fetches the union of requested outputs, in model order', () => {
      const a = addEntry([[1, 2]], { outputs: ['OUTPUT1'] });
      const b = addEntry([[3, 4]], { outputs: ['OUTPUT1'] });
      assert.deepEqual(new Batch([a.pending, b.pending]).assemble(new StagingPool(1 << 20)).outputNames, ['OUTPUT1']);
      const c = addEntry([[1, 2]], { outputs: ['OUTPUT1'] });
      const d = addEntry([[3, 4]]);
      assert.deepEqual(new Batch([c.pending, d.pending]).assemble(new StagingPool(1 << 20)).outputNames, ['OUTPUT0', 'OUTPUT1']);
    });

    it('uses the reshaped model shape after the batch dim', () => {
      const one = (v: number) => entry(RESHAPED, [{ name: 'S', datatype: 'FP32', shape: [1, 1], data: new Uint8Array(Float32Array.of(v).buffer) }]);
      const execution = new Batch([one(1).pending, one(2).pending]).assemble(new StagingPool(1 << 20));
      assert.deepEqual(execution.inputs[0]!.shape, [2]);
      assert.equal(execution.inputs[0]!.byteLength, 8);
    });

    it('uses the request shape as is for a model without batching', () => {
      const e = entry(FIXED, [{ name: 'X', datatype: 'INT32', shape: [3], data: int32(7, 8, 9) }]);
      const execution = new Batch([e.pending]).assemble(new StagingPool(1 << 20));
      assert.deepEqual(execution.inputs[0]!.shape, [3]);
      assert.deepEqual(readInt32(new Uint8Array(execution.inputs[0]!.buffer, 0, 12)), [7, 8, 9]);
    });

    it('concatenates BYTES inputs element-wise', () => {
      const a = entry(TEXT, [{ name: 'IN', datatype: 'BYTES', shape: [1, 2], data: strings('a', 'bb') }]);
      const b = entry(TEXT, [{ name: 'IN', datatype: 'BYTES', shape: [1, 2], data: strings('', 'ccc') }]);
      const input = new Batch([a.pending, b.pending]).assemble(new StagingPool(1 << 20)).inputs[0]!;
      assert.deepEqual(input.shape, [2, 2]);
      assert.deepEqual(readStrings(new Uint8Array(input.buffer, input.byteOffset, input.byteLength)), ['a', 'bb', '', 'ccc']);
    });
  });

  describe('complete', () => {
    const addResult = () =>
      result([
        output('OUTPUT0', 'INT32', [3, 2], int32(0, 1, 2, 3, 4, 5)),
        output('OUTPUT1', 'INT32', [3, 2], int32(10, 11, 12, 13, 14, 15)),
      ]);

    it("gives each request its rows, with its own batch size in the shape and its id echoed", () => {
      const a = addEntry([[1, 2]], { id: 'a' });
      const b = addEntry([[3, 4], [5, 6]], { id: 'b' });
      new Batch([a.pending, b.pending]).complete(addResult());
      const ra = response(a);
      const rb = response(b);
      assert.deepEqual([ra.id, ra.modelName, ra.modelVersion], ['a', 'add', '3']);
      assert.equal(rb.id, 'b');
      assert.deepEqual(
        ra.outputs.map((o) => [o.name, o.datatype, o.shape, readInt32(o.data)]),
        [
          ['OUTPUT0', 'INT32', [1, 2], [0, 1]],
          ['OUTPUT1', 'INT32', [1, 2], [10, 11]],
        ],
      );
      assert.deepEqual(
        rb.outputs.map((o) => [o.name, o.shape, readInt32(o.data)]),
        [
          ['OUTPUT0', [2, 2], [2, 3, 4, 5]],
          ['OUTPUT1', [2, 2], [12, 13, 14, 15]],
        ],
      );
    });

    it('returns views over the output buffer, not copies', () => {
      const a = addEntry([[1, 2]]);
      const b = addEntry([[3, 4], [5, 6]]);
      const r = addResult();
      new Batch([a.pending, b.pending]).complete(r);
      const data = response(b).outputs[0]!.data;
      assert.equal(data.buffer, r.outputs[0]!.buffer);
      assert.equal(data.byteOffset, 8 + 8);
      assert.equal(data.byteLength, 16);
    });

    it("returns each request's outputs in its requested order, and only those", () => {
      const a = addEntry([[1, 2]], { outputs: ['OUTPUT1', 'OUTPUT0'] });
      const b = addEntry([[3, 4], [5, 6]], { outputs: ['OUTPUT0'] });
      new Batch([a.pending, b.pending]).complete(addResult());
      assert.deepEqual(
        response(a).outputs.map((o) => o.name),
        ['OUTPUT1', 'OUTPUT0'],
      );
      assert.deepEqual(
        response(b).outputs.map((o) => [o.name, readInt32(o.data)]),
        [['OUTPUT0', [2, 3, 4, 5]]],
      );
    });

    it('splits BYTES outputs by element, as views', () => {
      const a = entry(TEXT, [{ name: 'IN', datatype: 'BYTES', shape: [1, 2], data: strings('x', 'y') }]);
      const b = entry(TEXT, [{ name: 'IN', datatype: 'BYTES', shape: [2, 2], data: strings('x', 'y', 'z', 'w') }]);
      const r = result([output('OUT', 'BYTES', [3, 2], strings('a', '', 'ccc', 'dd', 'e', 'ffff'))]);
      new Batch([a.pending, b.pending]).complete(r);
      const [oa] = response(a).outputs;
      const [ob] = response(b).outputs;
      assert.deepEqual([oa!.shape, readStrings(oa!.data)], [[1, 2], ['a', '']]);
      assert.deepEqual([ob!.shape, readStrings(ob!.data)], [[2, 2], ['ccc', 'dd', 'e', 'ffff']]);
      assert.equal(ob!.data.buffer, r.outputs[0]!.buffer);
    });

    it('reports a reshaped output with the config dims', () => {
      const one = () => entry(RESHAPED, [{ name: 'S', datatype: 'FP32', shape: [1, 1], data: new Uint8Array(4) }]);
      const a = one();
      const b = one();
      const values = new Uint8Array(Float32Array.from({ length: 8 }, (_, i) => i).buffer);
      new Batch([a.pending, b.pending]).complete(result([output('O', 'FP32', [2, 2, 2], values)]));
      const oa = response(a).outputs[0]!;
      const ob = response(b).outputs[0]!;
      assert.deepEqual(oa.shape, [1, 4]);
      assert.deepEqual(Array.from(new Float32Array(new Uint8Array(ob.data).buffer)), [4, 5, 6, 7]);
    });

    it('returns the whole output with its model shape when the model does not batch', () => {
      const e = entry(FIXED, [{ name: 'X', datatype: 'INT32', shape: [3], data: int32(1, 2, 3) }]);
      new Batch([e.pending]).complete(result([output('Y', 'INT32', [3], int32(4, 5, 6))]));
      const y = response(e).outputs[0]!;
      assert.deepEqual([y.shape, readInt32(y.data)], [[3], [4, 5, 6]]);
    });

    it('skips a request aborted while running, and still gives the others their own rows', () => {
      const a = addEntry([[1, 2]]);
      const b = addEntry([[3, 4], [5, 6]]);
      a.controller.abort();
      assert.equal(a.rejected.length, 1);
      assert.equal(a.rejected[0]!.id, 'REQUEST_CANCELLED');
      assert.deepEqual(a.aborted, [a.pending]);
      new Batch([a.pending, b.pending]).complete(addResult());
      assert.equal(a.resolved.length, 0);
      assert.deepEqual(readInt32(response(b).outputs[0]!.data), [2, 3, 4, 5]);
    });

    it('skips a request that already failed', () => {
      const a = addEntry([[1, 2]]);
      const b = addEntry([[3, 4], [5, 6]]);
      a.pending.fail(new InferError('DEADLINE_EXCEEDED', 'Deadline exceeded'));
      new Batch([a.pending, b.pending]).complete(addResult());
      assert.equal(a.resolved.length, 0);
      assert.deepEqual(
        a.rejected.map((e) => e.id),
        ['DEADLINE_EXCEEDED'],
      );
      assert.deepEqual(readInt32(response(b).outputs[1]!.data), [12, 13, 14, 15]);
    });

    it('gives the output buffers back once, after the last answered request released its response', () => {
      const a = addEntry([[1, 2]]);
      const b = addEntry([[3, 4], [5, 6]]);
      const c = addEntry([[7, 8]]);
      c.controller.abort();
      let givenBack = 0;
      new Batch([a.pending, b.pending, c.pending]).complete({ ...addResult(), giveBack: () => (givenBack += 1) });
      response(a).release!();
      assert.equal(givenBack, 0, 'b still reads its outputs');
      response(b).release!();
      assert.equal(givenBack, 1, 'the aborted request c has no response to wait for');
    });

    it('gives the output buffers back at once when no request is waiting for them', () => {
      const a = addEntry([[1, 2]]);
      a.controller.abort();
      let givenBack = 0;
      new Batch([a.pending]).complete({ ...addResult(), giveBack: () => (givenBack += 1) });
      assert.equal(givenBack, 1);
    });

    it('sets no release when the result cannot be given back', () => {
      const a = addEntry([[1, 2]]);
      new Batch([a.pending]).complete(addResult());
      assert.equal(response(a).release, undefined);
    });

    it('fails with BACKEND_ERROR when the model did not return a requested output', () => {
      const a = addEntry([[1, 2]]);
      const batch = new Batch([a.pending]);
      assert.throws(() => batch.complete(result([output('OUTPUT0', 'INT32', [1, 2], int32(0, 1))])), {
        id: 'BACKEND_ERROR',
        message: "model returned no output 'OUTPUT1'",
      });
      assert.equal(a.resolved.length, 0);
    });
  });

  describe('fail', () => {
    it('rejects every request still waiting, once', () => {
      const a = addEntry([[1, 2]]);
      const b = addEntry([[3, 4]]);
      b.pending.succeed({ id: '', modelName: 'add', modelVersion: '3', outputs: [] });
      const batch = new Batch([a.pending, b.pending]);
      const err = new InferError('INSTANCE_FAILED', 'worker died');
      batch.fail(err);
      batch.fail(new InferError('INTERNAL', 'again'));
      assert.deepEqual(a.rejected, [err]);
      assert.equal(b.rejected.length, 0);
      assert.equal(b.resolved.length, 1);
    });
  });
});

describe('PendingRequest', () => {
  it('settles once: later results and aborts are dropped', () => {
    const e = addEntry([[1, 2]]);
    const first: InferResponse = { id: '1', modelName: 'add', modelVersion: '3', outputs: [] };
    e.pending.succeed(first);
    e.pending.succeed({ ...first, id: '2' });
    e.pending.fail(new InferError('INTERNAL', 'late'));
    e.controller.abort();
    assert.deepEqual(e.resolved, [first]);
    assert.equal(e.rejected.length, 0);
    assert.equal(e.aborted.length, 0);
    assert.equal(e.pending.isSettled, true);
  });

  it('fails with the InferError the signal carries', () => {
    const e = addEntry([[1, 2]]);
    const reason = new InferError('DEADLINE_EXCEEDED', 'Deadline exceeded');
    e.controller.abort(reason);
    assert.deepEqual(e.rejected, [reason]);
  });

  it('fails with a generic cancel for any other abort reason', () => {
    const e = addEntry([[1, 2]]);
    e.controller.abort(new Error('whatever'));
    assert.equal(e.rejected[0]!.id, 'REQUEST_CANCELLED');
    assert.equal(e.rejected[0]!.message, 'request cancelled');
  });
});
