import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { elementByteSize, type DataType } from '../../../src/core/data-type.js';
import { InferError, type ErrorId } from '../../../src/core/errors.js';
import {
  INVALID_DATATYPE,
  type InferRequest,
  type ParameterValue,
  type RequestTensor,
} from '../../../src/core/infer-request.js';
import type { ModelInfo, TensorSpec } from '../../../src/core/model-info.js';
import { validateInferRequest } from '../../../src/core/request-validation.js';

const NO_ID = '[request id: <id_unknown>] ';
const INT64_MAX = '9223372036854775807';
const NOTE =
  'NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each ' +
  'input shape. If you want to specify the full shape including the batch dim in your input dims config, try setting ' +
  'max_batch_size to zero. See the model configuration docs for more info on max_batch_size.';

function spec(name: string, datatype: DataType, dims: number[], extra: Partial<TensorSpec> = {}): TensorSpec {
  return { name, datatype, dims, optional: false, ...extra };
}

function model(name: string, maxBatchSize: number, inputs: TensorSpec[], outputs: TensorSpec[]): ModelInfo {
  return { name, version: 1, platform: 'onnxruntime_onnx', maxBatchSize, inputs, outputs };
}

/** Like Triton's `simple` example: batching up to 8, two INT32 [16] inputs and outputs. */
const SIMPLE = model(
  'simple',
  8,
  [spec('INPUT0', 'INT32', [16]), spec('INPUT1', 'INT32', [16])],
  [spec('OUTPUT0', 'INT32', [16]), spec('OUTPUT1', 'INT32', [16])],
);

/** No batch dimension: the request shape is compared to dims as a whole. */
const FIXED = model('fixed', 0, [spec('X', 'FP32', [2, 3])], [spec('Y', 'FP32', [2, 3])]);

/** BYTES with a variable dim, batching. */
const STRINGS = model('strings', 8, [spec('TEXT', 'BYTES', [-1])], [spec('OUT', 'BYTES', [-1])]);

/** One required and one optional input. */
const OPTIONAL = model(
  'optional',
  0,
  [spec('A', 'INT32', [4]), spec('B', 'INT32', [4], { optional: true })],
  [spec('C', 'INT32', [4])],
);

/** Reshape: a scalar per batch item declared as [1], and a [4] fed to the model as [2,2]. */
const RESHAPED = model(
  'reshaped',
  4,
  [spec('S', 'FP32', [1], { reshape: [] }), spec('M', 'FP32', [4], { reshape: [2, 2] })],
  [spec('O', 'FP32', [1])],
);

/** Variable dims everywhere, no batching: for negative-dim and overflow checks. */
const VARIABLE = model('variable', 0, [spec('V', 'INT32', [-1, -1])], [spec('W', 'INT32', [-1, -1])]);
const VARIABLE_BYTES = model('variable_bytes', 0, [spec('V', 'BYTES', [-1, -1])], [spec('W', 'BYTES', [-1, -1])]);

/** A tensor of `shape` with zeroed data of the right size (for fixed-size types). */
function tensor(name: string, datatype: RequestTensor['datatype'], shape: number[], data?: Uint8Array): RequestTensor {
  if (data === undefined) {
    const per = datatype === INVALID_DATATYPE || datatype === 'BYTES' ? 0 : elementByteSize(datatype);
    data = new Uint8Array(shape.reduce((a, b) => a * b, 1) * per);
  }
  return { name, datatype, shape, data };
}

/** Serialized BYTES elements. */
function strings(...elements: string[]): Uint8Array {
  const parts = elements.map((e) => new TextEncoder().encode(e));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const part of parts) {
    view.setUint32(offset, part.byteLength, true);
    out.set(part, offset + 4);
    offset += 4 + part.byteLength;
  }
  return out;
}

function request(
  inputs: RequestTensor[],
  options: { id?: string; outputs?: string[]; parameters?: [string, ParameterValue][] } = {},
): InferRequest {
  return {
    id: options.id ?? '',
    modelName: 'm',
    modelVersion: '',
    inputs,
    outputs: (options.outputs ?? []).map((name) => ({ name, parameters: new Map() })),
    parameters: new Map(options.parameters ?? []),
  };
}

const simpleInputs = (batch = 1) => [tensor('INPUT0', 'INT32', [batch, 16]), tensor('INPUT1', 'INT32', [batch, 16])];

/** Asserts that validation fails with exactly this id and message. */
function rejects(req: InferRequest, info: ModelInfo, id: ErrorId, message: string): void {
  assert.throws(
    () => validateInferRequest(req, info),
    (err: unknown) => {
      assert.ok(err instanceof InferError, `expected InferError, got ${String(err)}`);
      assert.equal(err.message, message);
      assert.equal(err.id, id);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      return true;
    },
  );
}

describe('validateInferRequest: accepted requests', () => {
  it('takes the batch size from the first dim and returns every output in model order', () => {
    const req = request(simpleInputs(3));
    const v = validateInferRequest(req, SIMPLE);
    assert.equal(v.batchSize, 3);
    assert.deepEqual(v.outputNames, ['OUTPUT0', 'OUTPUT1']);
    assert.equal(v.request, req);
    assert.equal(v.model, SIMPLE);
    assert.deepEqual(
      v.inputs.map((i) => [i.tensor.name, i.tensor.datatype, i.modelShape]),
      [
        ['INPUT0', 'INT32', [3, 16]],
        ['INPUT1', 'INT32', [3, 16]],
      ],
    );
  });

  it('accepts the largest batch the model allows', () => {
    assert.equal(validateInferRequest(request(simpleInputs(8)), SIMPLE).batchSize, 8);
  });

  it('returns requested outputs in the order they were requested', () => {
    const v = validateInferRequest(request(simpleInputs(), { outputs: ['OUTPUT1', 'OUTPUT0'] }), SIMPLE);
    assert.deepEqual(v.outputNames, ['OUTPUT1', 'OUTPUT0']);
    const one = validateInferRequest(request(simpleInputs(), { outputs: ['OUTPUT1'] }), SIMPLE);
    assert.deepEqual(one.outputNames, ['OUTPUT1']);
  });

  it('puts inputs in the model order whatever the request order, keeping the data as is (no copy)', () => {
    const [in0, in1] = simpleInputs(2);
    const v = validateInferRequest(request([in1!, in0!]), SIMPLE);
    assert.deepEqual(
      v.inputs.map((i) => i.tensor.name),
      ['INPUT0', 'INPUT1'],
    );
    assert.equal(v.inputs[0]!.tensor.data, in0!.data);
    assert.equal(v.inputs[1]!.tensor.data, in1!.data);
  });

  it('uses batch size 1 and the request shape for a model without batching', () => {
    const v = validateInferRequest(request([tensor('X', 'FP32', [2, 3])]), FIXED);
    assert.equal(v.batchSize, 1);
    assert.deepEqual(v.inputs[0]!.modelShape, [2, 3]);
  });

  it('accepts a variable BYTES dim with the right number of elements', () => {
    const v = validateInferRequest(request([tensor('TEXT', 'BYTES', [2, 3], strings('a', '', 'ccc', 'd', 'e', 'f'))]), STRINGS);
    assert.equal(v.batchSize, 2);
    assert.deepEqual(v.inputs[0]!.modelShape, [2, 3]);
    assert.equal(v.inputs[0]!.tensor.datatype, 'BYTES');
  });

  it('accepts an empty BYTES tensor when the shape has zero elements', () => {
    const v = validateInferRequest(request([tensor('TEXT', 'BYTES', [1, 0], new Uint8Array(0))]), STRINGS);
    assert.deepEqual(v.inputs[0]!.modelShape, [1, 0]);
  });

  it('applies the config reshape after the batch dim', () => {
    const v = validateInferRequest(request([tensor('S', 'FP32', [3, 1]), tensor('M', 'FP32', [3, 4])]), RESHAPED);
    assert.equal(v.batchSize, 3);
    assert.deepEqual(
      v.inputs.map((i) => i.modelShape),
      [[3], [3, 2, 2]],
    );
    // The tensor keeps the shape the client sent.
    assert.deepEqual(v.inputs[1]!.tensor.shape, [3, 4]);
  });

  it('applies the reshape without a batch dim when the model does not batch', () => {
    const info = model('r0', 0, [spec('M', 'FP32', [4], { reshape: [2, 2] })], [spec('O', 'FP32', [4])]);
    const v = validateInferRequest(request([tensor('M', 'FP32', [4])]), info);
    assert.deepEqual(v.inputs[0]!.modelShape, [2, 2]);
  });

  it('lets a request leave out an optional input', () => {
    const v = validateInferRequest(request([tensor('A', 'INT32', [4])]), OPTIONAL);
    assert.deepEqual(
      v.inputs.map((i) => i.tensor.name),
      ['A'],
    );
    const both = validateInferRequest(request([tensor('B', 'INT32', [4]), tensor('A', 'INT32', [4])]), OPTIONAL);
    assert.deepEqual(
      both.inputs.map((i) => i.tensor.name),
      ['A', 'B'],
    );
  });

  it('accepts any non-negative value for a variable dim, 0 included', () => {
    const v = validateInferRequest(request([tensor('V', 'INT32', [0, 5])]), VARIABLE);
    assert.deepEqual(v.inputs[0]!.modelShape, [0, 5]);
  });

  it('allows triton_enable_empty_final_response and ordinary parameters', () => {
    const parameters: [string, ParameterValue][] = [
      ['triton_enable_empty_final_response', { kind: 'bool', value: true }],
      ['priority', { kind: 'uint64', value: 1n }],
      ['custom', { kind: 'string', value: 'x' }],
    ];
    assert.doesNotThrow(() => validateInferRequest(request(simpleInputs(), { parameters }), SIMPLE));
  });
});

describe('validateInferRequest: errors', () => {
  describe('request parameters', () => {
    it('rejects a reserved triton_ key, without the request id prefix', () => {
      rejects(
        request(simpleInputs(), { id: 'r1', parameters: [['triton_secret', { kind: 'int64', value: 1n }]] }),
        SIMPLE,
        'PARAMETER_INVALID',
        "parameter keys starting with 'triton_' are reserved for Triton usage. Only the following keys starting with " +
          "'triton_' are allowed: triton_enable_empty_final_response",
      );
    });
  });

  describe('requested outputs', () => {
    it('rejects an output requested twice', () => {
      rejects(
        request(simpleInputs(), { outputs: ['OUTPUT0', 'OUTPUT0'] }),
        SIMPLE,
        'OUTPUT_UNEXPECTED',
        `${NO_ID}output 'OUTPUT0' already exists in request`,
      );
    });

    it('rejects an unknown output, without the prefix', () => {
      rejects(
        request(simpleInputs(), { outputs: ['OUTPUT0', 'NOPE'] }),
        SIMPLE,
        'OUTPUT_UNEXPECTED',
        "unexpected inference output 'NOPE' for model 'simple'",
      );
    });

    it('reports the first unknown output in sorted order, not request order', () => {
      rejects(
        request(simpleInputs(), { outputs: ['zeta', 'OUTPUT0', 'alpha', 'Beta'] }),
        SIMPLE,
        'OUTPUT_UNEXPECTED',
        "unexpected inference output 'Beta' for model 'simple'",
      );
    });

    it('checks requested outputs before the input count', () => {
      rejects(request([], { outputs: ['NOPE'] }), SIMPLE, 'OUTPUT_UNEXPECTED', "unexpected inference output 'NOPE' for model 'simple'");
    });
  });

  describe('input names and count', () => {
    it('rejects an input given twice', () => {
      rejects(
        request([tensor('INPUT0', 'INT32', [1, 16]), tensor('INPUT0', 'INT32', [1, 16])]),
        SIMPLE,
        'INPUT_UNEXPECTED',
        `${NO_ID}input 'INPUT0' already exists in request`,
      );
    });

    it('reports missing required inputs in config order', () => {
      rejects(
        request([tensor('INPUT1', 'INT32', [1, 16])]),
        SIMPLE,
        'INPUT_MISSING',
        `${NO_ID}expected 2 inputs but got 1 inputs for model 'simple'. Got input(s) ['INPUT1'], but missing required ` +
          "input(s) ['INPUT0']. Please provide all required input(s).",
      );
    });

    it('reports a request with no inputs', () => {
      rejects(
        request([]),
        SIMPLE,
        'INPUT_MISSING',
        `${NO_ID}expected 2 inputs but got 0 inputs for model 'simple'. Got input(s) [], but missing required ` +
          "input(s) ['INPUT0','INPUT1']. Please provide all required input(s).",
      );
    });

    it('uses the "between" wording when the model has optional inputs', () => {
      rejects(
        request([]),
        OPTIONAL,
        'INPUT_MISSING',
        `${NO_ID}expected number of inputs between 1 and 2 but got 0 inputs for model 'optional'. Got input(s) [], ` +
          "but missing required input(s) ['A']. Please provide all required input(s).",
      );
    });

    it('reports too many inputs (the missing list is empty)', () => {
      rejects(
        request([...simpleInputs(), tensor('EXTRA', 'INT32', [1, 16])]),
        SIMPLE,
        'INPUT_MISSING',
        `${NO_ID}expected 2 inputs but got 3 inputs for model 'simple'. Got input(s) ['INPUT0','INPUT1','EXTRA'], ` +
          'but missing required input(s) []. Please provide all required input(s).',
      );
    });

    it('rejects an unknown input when the count is right, without the prefix', () => {
      rejects(
        request([tensor('INPUT0', 'INT32', [1, 16]), tensor('INPUT9', 'INT32', [1, 16])]),
        SIMPLE,
        'INPUT_UNEXPECTED',
        "unexpected inference input 'INPUT9' for model 'simple'",
      );
    });

    it(
      'rejects a request that gives only the optional input of a model with a required one',
      () => {
        assert.throws(() => validateInferRequest(request([tensor('B', 'INT32', [4])]), OPTIONAL), { id: 'INPUT_MISSING' });
      },
    );
  });

  describe('batch dimension', () => {
    it('rejects an input without a shape when the model batches', () => {
      rejects(
        request([tensor('INPUT0', 'INT32', [], new Uint8Array(4)), tensor('INPUT1', 'INT32', [1, 16])]),
        SIMPLE,
        'INPUT_BATCH',
        `${NO_ID}input 'INPUT0' has no shape but model requires batch dimension for 'simple'`,
      );
    });

    it('rejects inputs whose batch sizes differ', () => {
      rejects(
        request([tensor('INPUT0', 'INT32', [2, 16]), tensor('INPUT1', 'INT32', [3, 16])]),
        SIMPLE,
        'INPUT_BATCH',
        `${NO_ID}input 'INPUT1' batch size does not match other inputs for 'simple'`,
      );
    });

    it('rejects a batch larger than max_batch_size', () => {
      rejects(request(simpleInputs(9)), SIMPLE, 'INPUT_BATCH', `${NO_ID}inference request batch-size must be <= 8 for 'simple'`);
    });

    it('rejects batch size 0 explicitly', () => {
      rejects(request(simpleInputs(0)), SIMPLE, 'INPUT_BATCH', `${NO_ID}inference request batch-size must be >= 1 for 'simple'`);
    });

    it('checks the batch before datatypes and shapes', () => {
      rejects(
        request([tensor('INPUT0', 'FP32', [9, 15]), tensor('INPUT1', 'FP32', [9, 15])]),
        SIMPLE,
        'INPUT_BATCH',
        `${NO_ID}inference request batch-size must be <= 8 for 'simple'`,
      );
    });
  });

  describe('datatype', () => {
    it("rejects a datatype that differs from the model's", () => {
      rejects(
        request([tensor('INPUT0', 'FP32', [1, 16]), tensor('INPUT1', 'INT32', [1, 16])]),
        SIMPLE,
        'INPUT_DATATYPE',
        `${NO_ID}inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'`,
      );
    });

    it('prints an unknown datatype as <invalid>', () => {
      rejects(
        request([tensor('INPUT0', INVALID_DATATYPE, [1, 16], new Uint8Array(64)), tensor('INPUT1', 'INT32', [1, 16])]),
        SIMPLE,
        'INPUT_DATATYPE',
        `${NO_ID}inference input 'INPUT0' data-type is '<invalid>', but model 'simple' expects 'INT32'`,
      );
    });

    it('uses the request id in the prefix when there is one', () => {
      rejects(
        request([tensor('INPUT0', 'INT64', [1, 16]), tensor('INPUT1', 'INT32', [1, 16])], { id: 'req-42' }),
        SIMPLE,
        'INPUT_DATATYPE',
        "[request id: req-42] inference input 'INPUT0' data-type is 'INT64', but model 'simple' expects 'INT32'",
      );
    });
  });

  describe('shape', () => {
    it('rejects a wrong dim, printing the config dims with -1 for the batch and the NOTE', () => {
      rejects(
        request([tensor('INPUT0', 'INT32', [1, 15]), tensor('INPUT1', 'INT32', [1, 16])]),
        SIMPLE,
        'INPUT_SHAPE',
        `${NO_ID}unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,16], got [1,15]. ${NOTE}`,
      );
    });

    it('rejects a wrong rank', () => {
      rejects(
        request([tensor('INPUT0', 'INT32', [1, 16, 1]), tensor('INPUT1', 'INT32', [1, 16])]),
        SIMPLE,
        'INPUT_SHAPE',
        `${NO_ID}unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,16], got [1,16,1]. ${NOTE}`,
      );
    });

    it('ends the message with ". " when the model does not batch', () => {
      rejects(
        request([tensor('X', 'FP32', [3, 2])]),
        FIXED,
        'INPUT_SHAPE',
        `${NO_ID}unexpected shape for input 'X' for model 'fixed'. Expected [2,3], got [3,2]. `,
      );
    });

    it('rejects -1 in a request shape', () => {
      rejects(
        request([tensor('INPUT0', 'INT32', [1, -1], new Uint8Array(64)), tensor('INPUT1', 'INT32', [1, 16])]),
        SIMPLE,
        'INPUT_SHAPE',
        `${NO_ID}All input dimensions should be specified for input 'INPUT0' for model 'simple', got [1,-1]`,
      );
      rejects(
        request([tensor('TEXT', 'BYTES', [1, -1], strings('a'))]),
        STRINGS,
        'INPUT_SHAPE',
        `${NO_ID}All input dimensions should be specified for input 'TEXT' for model 'strings', got [1,-1]`,
      );
    });

    it('reports a -1 found after the first mismatching dim as a shape mismatch', () => {
      rejects(
        request([tensor('X', 'FP32', [3, -1], new Uint8Array(0))]),
        FIXED,
        'INPUT_SHAPE',
        `${NO_ID}unexpected shape for input 'X' for model 'fixed'. Expected [2,3], got [3,-1]. `,
      );
    });

    it('rejects another negative dim where the config has -1, without the prefix', () => {
      rejects(
        request([tensor('V', 'INT32', [2, -3], new Uint8Array(0))]),
        VARIABLE,
        'INPUT_SHAPE',
        "tensor 'V' contains an invalid dimension [2,-3]",
      );
    });

    it('says "in shape" for the invalid-dimension message of a BYTES input', () => {
      rejects(
        request([tensor('V', 'BYTES', [2, -3], new Uint8Array(0))]),
        VARIABLE_BYTES,
        'INPUT_SHAPE',
        "tensor 'V' contains an invalid dimension in shape [2,-3]",
      );
    });

    it(
      'reports a mismatch later in the shape before an invalid dim earlier in it, as Triton does',
      () => {
        const info = model('mixed', 0, [spec('V', 'INT32', [-1, 16])], [spec('W', 'INT32', [-1, 16])]);
        rejects(
          request([tensor('V', 'INT32', [-2, 15], new Uint8Array(0))]),
          info,
          'INPUT_SHAPE',
          `${NO_ID}unexpected shape for input 'V' for model 'mixed'. Expected [-1,16], got [-2,15]. `,
        );
      },
    );

    it(
      'reports a later -1 as "All input dimensions should be specified" before an earlier invalid dim, as Triton does',
      () => {
        rejects(
          request([tensor('V', 'INT32', [-2, -1], new Uint8Array(0))]),
          VARIABLE,
          'INPUT_SHAPE',
          `${NO_ID}All input dimensions should be specified for input 'V' for model 'variable', got [-2,-1]`,
        );
      },
    );
  });

  describe('byte size', () => {
    it('rejects data whose size does not match shape and datatype', () => {
      rejects(
        request([tensor('INPUT0', 'INT32', [1, 16], new Uint8Array(60)), tensor('INPUT1', 'INT32', [1, 16])]),
        SIMPLE,
        'INPUT_BYTE_SIZE',
        `${NO_ID}input byte size mismatch for input 'INPUT0' for model 'simple'. Expected 64, got 60`,
      );
    });

    it('counts the whole batch', () => {
      rejects(
        request([tensor('INPUT0', 'INT32', [2, 16], new Uint8Array(64)), tensor('INPUT1', 'INT32', [2, 16])]),
        SIMPLE,
        'INPUT_BYTE_SIZE',
        `${NO_ID}input byte size mismatch for input 'INPUT0' for model 'simple'. Expected 128, got 64`,
      );
    });

    it('reports a non-BYTES byte size beyond int64 without the prefix', () => {
      rejects(
        request([tensor('V', 'INT32', [2 ** 61, 1], new Uint8Array(0))]),
        VARIABLE,
        'INPUT_SHAPE',
        `byte size for tensor 'V' exceeds maximum size of ${INT64_MAX}`,
      );
      rejects(
        request([tensor('V', 'INT32', [2 ** 62, 2 ** 62], new Uint8Array(0))]),
        VARIABLE,
        'INPUT_SHAPE',
        `byte size for tensor 'V' exceeds maximum size of ${INT64_MAX}`,
      );
    });

    it('accepts a byte size just under the limit up to the size check', () => {
      // 2^60 INT32 elements = 2^62 bytes: no overflow, so the ordinary mismatch is reported.
      rejects(
        request([tensor('V', 'INT32', [2 ** 30, 2 ** 30], new Uint8Array(4))]),
        VARIABLE,
        'INPUT_BYTE_SIZE',
        `${NO_ID}input byte size mismatch for input 'V' for model 'variable'. Expected ${2n ** 62n}, got 4`,
      );
    });

    it('reports a BYTES element count beyond int64 without the prefix', () => {
      rejects(
        request([tensor('V', 'BYTES', [2 ** 62, 2], new Uint8Array(0))]),
        VARIABLE_BYTES,
        'INPUT_SHAPE',
        `element count for tensor 'V' exceeds maximum size of ${INT64_MAX}`,
      );
    });
  });

  describe('BYTES elements', () => {
    it('rejects fewer elements than the shape holds', () => {
      rejects(
        request([tensor('TEXT', 'BYTES', [1, 3], strings('a', 'b'))]),
        STRINGS,
        'INPUT_BYTE_SIZE',
        `${NO_ID}expected 3 string elements for inference input 'TEXT' for model 'strings', got 2`,
      );
    });

    it('rejects no data at all for a non-empty shape', () => {
      rejects(
        request([tensor('TEXT', 'BYTES', [2, 1], new Uint8Array(0))]),
        STRINGS,
        'INPUT_BYTE_SIZE',
        `${NO_ID}expected 2 string elements for inference input 'TEXT' for model 'strings', got 0`,
      );
    });

    it('rejects more elements than the shape holds, as soon as the extra one starts', () => {
      rejects(
        request([tensor('TEXT', 'BYTES', [1, 3], strings('a', 'b', 'c', 'd', 'e'))]),
        STRINGS,
        'INPUT_BYTE_SIZE',
        `${NO_ID}unexpected number of string elements 4 for inference input 'TEXT' for model 'strings', expecting 3`,
      );
    });

    it('rejects data for a shape with zero elements', () => {
      rejects(
        request([tensor('TEXT', 'BYTES', [1, 0], strings(''))]),
        STRINGS,
        'INPUT_BYTE_SIZE',
        `${NO_ID}unexpected number of string elements 1 for inference input 'TEXT' for model 'strings', expecting 0`,
      );
    });

    it('rejects a truncated length indicator', () => {
      rejects(
        request([tensor('TEXT', 'BYTES', [1, 2], new Uint8Array([...strings('ab'), 7, 0]))]),
        STRINGS,
        'INPUT_CONTENTS',
        `${NO_ID}incomplete string length indicator for inference input 'TEXT' for model 'strings', expecting 4 bytes ` +
          'but only 2 bytes available. Please make sure the string length indicator is in one buffer.',
      );
    });

    it('rejects a length that runs past the end of the data', () => {
      const data = new Uint8Array([10, 0, 0, 0, 97, 98, 99]);
      rejects(
        request([tensor('TEXT', 'BYTES', [1, 1], data)]),
        STRINGS,
        'INPUT_CONTENTS',
        `${NO_ID}string element 0 of inference input 'TEXT' for model 'strings' declares 10 bytes but only 3 bytes ` +
          'follow its length indicator',
      );
    });

    it('reads BYTES data that is a view at an offset', () => {
      const backing = new Uint8Array([1, 2, 3, ...strings('x', 'yz')]);
      const v = validateInferRequest(request([tensor('TEXT', 'BYTES', [1, 2], backing.subarray(3))]), STRINGS);
      assert.equal(v.inputs[0]!.tensor.data.byteOffset, 3);
    });
  });

  describe('check order', () => {
    it('checks the parameters before the outputs', () => {
      assert.throws(
        () =>
          validateInferRequest(
            request([], { outputs: ['NOPE'], parameters: [['triton_x', { kind: 'bool', value: true }]] }),
            SIMPLE,
          ),
        { id: 'PARAMETER_INVALID' },
      );
    });

    it(
      'reports a duplicate input before any output problem, as Triton does (inputs are added before outputs, both before Normalize)',
      () => {
        rejects(
          request([tensor('INPUT0', 'INT32', [1, 16]), tensor('INPUT0', 'INT32', [1, 16])], { outputs: ['NOPE'] }),
          SIMPLE,
          'INPUT_UNEXPECTED',
          `${NO_ID}input 'INPUT0' already exists in request`,
        );
      },
    );

    it('checks the input count before unknown input names', () => {
      assert.throws(() => validateInferRequest(request([tensor('NOPE', 'INT32', [1, 16])]), SIMPLE), { id: 'INPUT_MISSING' });
    });

    it('checks unknown input names before the batch', () => {
      rejects(
        request([tensor('INPUT0', 'INT32', [9, 16]), tensor('NOPE', 'INT32', [])]),
        SIMPLE,
        'INPUT_UNEXPECTED',
        "unexpected inference input 'NOPE' for model 'simple'",
      );
    });

    it('within one input checks datatype, then shape, then byte size', () => {
      const other = tensor('INPUT1', 'INT32', [1, 16]);
      rejects(
        request([tensor('INPUT0', 'FP64', [1, 15], new Uint8Array(3)), other]),
        SIMPLE,
        'INPUT_DATATYPE',
        `${NO_ID}inference input 'INPUT0' data-type is 'FP64', but model 'simple' expects 'INT32'`,
      );
      rejects(
        request([tensor('INPUT0', 'INT32', [1, 15], new Uint8Array(3)), other]),
        SIMPLE,
        'INPUT_SHAPE',
        `${NO_ID}unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,16], got [1,15]. ${NOTE}`,
      );
    });

    it('finishes one input before the next, in model order', () => {
      rejects(
        request([tensor('INPUT1', 'FP32', [1, 16]), tensor('INPUT0', 'INT32', [1, 16], new Uint8Array(8))]),
        SIMPLE,
        'INPUT_BYTE_SIZE',
        `${NO_ID}input byte size mismatch for input 'INPUT0' for model 'simple'. Expected 64, got 8`,
      );
    });
  });
});

describe('validateInferRequest: precision', () => {
  const served = (fp16Io: boolean): ModelInfo => ({
    ...model('p', 8, [spec('X', 'FP32', [4]), spec('IDS', 'INT32', [4])], [spec('Y', 'FP32', [4])]),
    precision: {
      defaultPrecision: 'int8',
      served: ['fp32', 'int8', ...(fp16Io ? (['fp16'] as const) : [])],
      unavailable: new Map(fp16Io ? [] : [['fp16', 'the fp16 variant failed its accuracy check']]),
      fp16Io,
    },
  });
  const inputs = (x: 'FP32' | 'FP16' = 'FP32') => [tensor('X', x, [2, 4]), tensor('IDS', 'INT32', [2, 4])];
  const precision = (value: string): [string, ParameterValue] => ['precision', { kind: 'string', value }];

  it('runs fp32 on models without precision settings, and the default precision otherwise', () => {
    assert.deepEqual(pick(validateInferRequest(request(simpleInputs()), SIMPLE)), ['fp32', 'fp32']);
    assert.deepEqual(pick(validateInferRequest(request(inputs()), served(true))), ['int8', 'int8']);
    assert.deepEqual(pick(validateInferRequest(request(inputs(), { parameters: [precision('fp32')] }), served(true))), ['fp32', 'fp32']);
    assert.deepEqual(pick(validateInferRequest(request(inputs(), { parameters: [precision('fp16')] }), served(true))), ['fp16', 'fp16']);
  });

  it('takes FP16 tensors for FP32 inputs as fp16 (the fp16-io form), and only then', () => {
    const v = validateInferRequest(request(inputs('FP16')), served(true));
    assert.deepEqual(pick(v), ['fp16', 'fp16-io']);
    assert.deepEqual(v.inputs.map((i) => i.tensor.datatype), ['FP16', 'INT32']);
    assert.deepEqual(pick(validateInferRequest(request(inputs('FP16'), { parameters: [precision('fp16')] }), served(true))), ['fp16', 'fp16-io']);
    rejects(
      request(inputs('FP16'), { parameters: [precision('fp32')] }),
      served(true),
      'INPUT_DATATYPE',
      `${NO_ID}inference input 'X' data-type is 'FP16', which only the fp16 variant of model 'p' takes, but the request asks for precision 'fp32'; send 'FP32' data for it`,
    );
    rejects(request(inputs('FP16')), served(false), 'INPUT_DATATYPE', `${NO_ID}inference input 'X' data-type is 'FP16', but model 'p' expects 'FP32'`);
    rejects(request(inputs('FP16')), SIMPLE_FP32, 'INPUT_DATATYPE', `${NO_ID}inference input 'X' data-type is 'FP16', but model 'simple_fp32' expects 'FP32'`);
  });

  it('refuses every FP32 input as FP32 once one is FP16, saying why', () => {
    const two: ModelInfo = { ...served(true), inputs: [spec('X', 'FP32', [4]), spec('Z', 'FP32', [4])] };
    rejects(
      request([tensor('X', 'FP16', [1, 4]), tensor('Z', 'FP32', [1, 4])]),
      two,
      'INPUT_DATATYPE',
      `${NO_ID}inference input 'Z' data-type is 'FP32', but model 'p' expects 'FP16' (FP16 inputs select the fp16 form of the model, which takes every FP32 input as FP16)`,
    );
  });

  it('refuses unknown, unserved and mistyped precisions with the available list', () => {
    rejects(request(inputs(), { id: 'r', parameters: [precision('bf16')] }), served(true), 'PRECISION_UNAVAILABLE', "[request id: r] unknown precision 'bf16' (precisions are fp32, fp16, int8). Available: fp32, int8, fp16");
    rejects(
      request(inputs(), { parameters: [precision('fp16')] }),
      served(false),
      'PRECISION_UNAVAILABLE',
      `${NO_ID}precision 'fp16' is not served by model 'p': the fp16 variant failed its accuracy check. Available: fp32, int8`,
    );
    rejects(
      request(simpleInputs(), { parameters: [precision('int8')] }),
      SIMPLE,
      'PRECISION_UNAVAILABLE',
      `${NO_ID}precision 'int8' is not served by model 'simple' (its config does not list it in precision_variants). Available: fp32`,
    );
    rejects(
      request(inputs(), { parameters: [['precision', { kind: 'bool', value: true }]] }),
      served(true),
      'PARAMETER_INVALID',
      "invalid value type for 'precision' parameter, expected string_param.",
    );
  });
});

const SIMPLE_FP32 = model('simple_fp32', 8, [spec('X', 'FP32', [4]), spec('IDS', 'INT32', [4])], [spec('Y', 'FP32', [4])]);

function pick(v: { precision: string; variant: string }): [string, string] {
  return [v.precision, v.variant];
}
