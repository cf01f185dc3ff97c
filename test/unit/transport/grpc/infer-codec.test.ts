import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferError, type ErrorId } from '../../../../src/core/errors.js';
import type { InferResponse } from '../../../../src/core/infer-request.js';
import { ModelInferRequest, ModelInferResponse } from '../../../../src/generated/grpc_service.js';
import { decodeInferRequest, encodeInferResponse } from '../../../../src/transport/grpc/infer-codec.js';

/** Encodes and decodes, like the server receiving the message: bytes fields become views. */
function received(partial: Parameters<typeof ModelInferRequest.fromPartial>[0]): { message: ModelInferRequest; wire: Uint8Array } {
  const wire = ModelInferRequest.encode(ModelInferRequest.fromPartial(partial)).finish();
  return { message: ModelInferRequest.decode(wire), wire };
}

const int32 = (...values: number[]) => new Uint8Array(Int32Array.from(values).buffer);

function rejects(partial: Parameters<typeof ModelInferRequest.fromPartial>[0], id: ErrorId, message: string): void {
  const { message: decoded } = received(partial);
  assert.throws(
    () => decodeInferRequest(decoded),
    (err: unknown) => {
      assert.ok(err instanceof InferError);
      assert.equal(err.id, id);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.equal(err.message, message);
      return true;
    },
  );
}

describe('decodeInferRequest', () => {
  it('copies the request fields and turns int64 shapes into numbers', () => {
    const { message } = received({
      id: 'r-7',
      modelName: 'simple',
      modelVersion: '3',
      inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1n, 2n] }],
      outputs: [{ name: 'OUTPUT1' }, { name: 'OUTPUT0' }],
      rawInputContents: [int32(5, 6)],
    });
    const req = decodeInferRequest(message);
    assert.equal(req.id, 'r-7');
    assert.equal(req.modelName, 'simple');
    assert.equal(req.modelVersion, '3');
    assert.deepEqual(req.inputs.map((i) => [i.name, i.datatype, i.shape]), [['INPUT0', 'INT32', [1, 2]]]);
    assert.deepEqual([...req.inputs[0]!.data], [...int32(5, 6)]);
    assert.deepEqual(
      req.outputs.map((o) => o.name),
      ['OUTPUT1', 'OUTPUT0'],
    );
    assert.equal(req.parameters.size, 0);
  });

  it('keeps raw inputs as views over the received buffer (no copy)', () => {
    const { message, wire } = received({
      modelName: 'm',
      inputs: [
        { name: 'A', datatype: 'INT32', shape: [2n] },
        { name: 'B', datatype: 'INT32', shape: [1n] },
      ],
      rawInputContents: [int32(1, 2), int32(3)],
    });
    const req = decodeInferRequest(message);
    for (const input of req.inputs) {
      assert.equal(input.data.buffer, wire.buffer, `${input.name} is not a view over the received message`);
    }
    assert.equal(req.inputs[0]!.data, message.rawInputContents[0]);
    assert.deepEqual([...req.inputs[1]!.data], [...int32(3)]);
  });

  // Pairing "skips inputs that have contents" (Triton) cannot be observed: an input with contents
  // next to any raw contents is rejected (tested below), and there is no shared memory.
  it('pairs raw contents with inputs by index, in request order', () => {
    const { message } = received({
      modelName: 'm',
      inputs: [
        { name: 'A', datatype: 'INT32', shape: [1n] },
        { name: 'B', datatype: 'INT32', shape: [1n] },
      ],
      rawInputContents: [int32(20), int32(10)],
    });
    const req = decodeInferRequest(message);
    assert.deepEqual(
      req.inputs.map((i) => [...new Int32Array(new Uint8Array(i.data).buffer)]),
      [[20], [10]],
    );
  });

  it('converts typed contents when no raw contents are sent', () => {
    const { message } = received({
      modelName: 'm',
      inputs: [
        { name: 'A', datatype: 'INT32', shape: [2n], contents: { intContents: [7, -7] } },
        { name: 'B', datatype: 'BOOL', shape: [1n], contents: { boolContents: [true] } },
      ],
    });
    const req = decodeInferRequest(message);
    assert.deepEqual([...req.inputs[0]!.data], [...int32(7, -7)]);
    assert.deepEqual([...req.inputs[1]!.data], [1]);
  });

  it('turns an unknown datatype string into <invalid>', () => {
    const { message } = received({
      modelName: 'm',
      inputs: [
        { name: 'A', datatype: 'FLOAT32', shape: [1n] },
        { name: 'B', datatype: 'int32', shape: [1n] },
        { name: 'C', datatype: '', shape: [1n] },
      ],
      rawInputContents: [int32(1), int32(2), int32(3)],
    });
    assert.deepEqual(
      decodeInferRequest(message).inputs.map((i) => i.datatype),
      ['<invalid>', '<invalid>', '<invalid>'],
    );
  });

  it('keeps every known datatype string', () => {
    const types = ['BOOL', 'UINT8', 'INT64', 'FP16', 'BF16', 'BYTES'];
    const { message } = received({
      modelName: 'm',
      inputs: types.map((datatype, i) => ({ name: `I${i}`, datatype, shape: [0n] })),
      rawInputContents: types.map(() => new Uint8Array(0)),
    });
    assert.deepEqual(
      decodeInferRequest(message).inputs.map((i) => i.datatype),
      types,
    );
  });

  it('decodes parameters of all five kinds, keeping their protocol type', () => {
    const { message } = received({
      modelName: 'm',
      inputs: [{ name: 'A', datatype: 'INT32', shape: [1n] }],
      rawInputContents: [int32(1)],
      parameters: {
        flag: { parameterChoice: { $case: 'boolParam', value: true } },
        timeout: { parameterChoice: { $case: 'int64Param', value: -5n } },
        priority: { parameterChoice: { $case: 'uint64Param', value: 18446744073709551615n } },
        ratio: { parameterChoice: { $case: 'doubleParam', value: 0.25 } },
        name: { parameterChoice: { $case: 'stringParam', value: 'x' } },
      },
      outputs: [{ name: 'O', parameters: { classification: { parameterChoice: { $case: 'int64Param', value: 3n } } } }],
    });
    const req = decodeInferRequest(message);
    assert.deepEqual(
      req.parameters,
      new Map<string, unknown>([
        ['flag', { kind: 'bool', value: true }],
        ['timeout', { kind: 'int64', value: -5n }],
        ['priority', { kind: 'uint64', value: 18446744073709551615n }],
        ['ratio', { kind: 'double', value: 0.25 }],
        ['name', { kind: 'string', value: 'x' }],
      ]),
    );
    assert.deepEqual(req.outputs[0]!.parameters, new Map([['classification', { kind: 'int64', value: 3n }]]));
  });

  it('skips a parameter with no value set', () => {
    const { message } = received({
      modelName: 'm',
      inputs: [{ name: 'A', datatype: 'INT32', shape: [1n] }],
      rawInputContents: [int32(1)],
      parameters: { empty: {} },
    });
    assert.equal(decodeInferRequest(message).parameters.size, 0);
  });

  describe('errors', () => {
    it('rejects typed contents when raw contents are also sent', () => {
      rejects(
        {
          modelName: 'simple',
          inputs: [
            { name: 'INPUT0', datatype: 'INT32', shape: [1n] },
            { name: 'INPUT1', datatype: 'INT32', shape: [1n], contents: { intContents: [1] } },
          ],
          rawInputContents: [int32(1)],
        },
        'INPUT_CONTENTS',
        "contents field must not be specified when using raw_input_contents for 'INPUT1' for model 'simple'",
      );
    });

    it('rejects an input with no data', () => {
      rejects(
        {
          modelName: 'simple',
          inputs: [
            { name: 'INPUT0', datatype: 'INT32', shape: [1n] },
            { name: 'INPUT1', datatype: 'INT32', shape: [1n] },
          ],
          rawInputContents: [int32(1)],
        },
        'INPUT_MISSING',
        "unable to find data for input tensor 'INPUT1' for model 'simple' in request.",
      );
      rejects(
        { modelName: 'simple', inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1n] }] },
        'INPUT_MISSING',
        "unable to find data for input tensor 'INPUT0' for model 'simple' in request.",
      );
    });

    it('rejects raw contents left over after every input took one', () => {
      rejects(
        {
          modelName: 'simple',
          inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1n] }],
          rawInputContents: [int32(1), int32(2), int32(3)],
        },
        'INPUT_CONTENTS',
        "raw_input_contents has 3 entries but only 1 inputs of model 'simple' take raw data",
      );
    });

    it('passes on the typed-contents errors', () => {
      rejects(
        { modelName: 'simple', inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1n], contents: { intContents: [1] } }] },
        'INPUT_CONTENTS',
        "unexpected explicit tensor data for input tensor 'INPUT0' for model 'simple' of type 'INT32', expected datatype 'FP32'",
      );
    });
  });
});

describe('encodeInferResponse', () => {
  const a = new Uint8Array([1, 2, 3, 4]);
  const b = new Uint8Array([9, 9]);
  const response: InferResponse = {
    id: 'r-1',
    modelName: 'simple',
    modelVersion: '1',
    outputs: [
      { name: 'OUTPUT1', datatype: 'INT32', shape: [1, 1], data: a },
      { name: 'OUTPUT0', datatype: 'UINT8', shape: [2], data: b },
      { name: 'EMPTY', datatype: 'FP32', shape: [0], data: new Uint8Array(0) },
    ],
  };

  it('echoes the id, model name and version', () => {
    const out = encodeInferResponse(response);
    assert.equal(out.id, 'r-1');
    assert.equal(out.modelName, 'simple');
    assert.equal(out.modelVersion, '1');
  });

  it('lists outputs in order with bigint shapes and no typed contents', () => {
    const out = encodeInferResponse(response);
    assert.deepEqual(
      out.outputs.map((o) => [o.name, o.datatype, o.shape, o.contents]),
      [
        ['OUTPUT1', 'INT32', [1n, 1n], undefined],
        ['OUTPUT0', 'UINT8', [2n], undefined],
        ['EMPTY', 'FP32', [0n], undefined],
      ],
    );
  });

  it('puts every output in raw_output_contents, in the same order, an empty one included', () => {
    const out = encodeInferResponse(response);
    assert.equal(out.rawOutputContents.length, 3);
    assert.equal(out.rawOutputContents[0], a);
    assert.equal(out.rawOutputContents[1], b);
    assert.equal(out.rawOutputContents[2]!.byteLength, 0);
  });

  it('survives the wire: a client decodes the same tensors', () => {
    const decoded = ModelInferResponse.decode(ModelInferResponse.encode(encodeInferResponse(response)).finish());
    assert.deepEqual(
      decoded.rawOutputContents.map((r) => [...r]),
      [[1, 2, 3, 4], [9, 9], []],
    );
    assert.deepEqual(decoded.outputs[0]!.shape, [1n, 1n]);
  });
});
