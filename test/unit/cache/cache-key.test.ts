import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { responseCacheKey } from '../../../src/cache/cache-key.js';
import type { DataType } from '../../../src/core/data-type.js';
import type { InferRequest, ParameterValue, RequestTensor } from '../../../src/core/infer-request.js';
import type { ModelInfo, TensorSpec } from '../../../src/core/model-info.js';
import { validateInferRequest } from '../../../src/core/request-validation.js';

const spec = (name: string, datatype: DataType, dims: number[]): TensorSpec => ({ name, datatype, dims, optional: false });

/** Batching, two inputs (FP32 and INT32 of any length), two outputs, and fp32/fp16/int8 served. */
const MODEL: ModelInfo = {
  name: 'm',
  version: 1,
  platform: 'onnxruntime_onnx',
  maxBatchSize: 8,
  inputs: [spec('X', 'FP32', [-1]), spec('N', 'INT32', [-1])],
  outputs: [spec('Y', 'FP32', [-1]), spec('Z', 'FP32', [-1])],
  precision: { defaultPrecision: 'fp32', served: ['fp32', 'fp16', 'int8'], unavailable: new Map(), fp16Io: true },
};

function tensor(name: string, datatype: RequestTensor['datatype'], shape: number[], bytes: number[]): RequestTensor {
  return { name, datatype, shape, data: Uint8Array.from(bytes) };
}

interface Parts {
  x?: RequestTensor;
  n?: RequestTensor;
  outputs?: { name: string; parameters?: [string, ParameterValue][] }[];
  parameters?: [string, ParameterValue][];
  model?: ModelInfo;
  id?: string;
}

/** The key of a request built from `parts`, each defaulting to a fixed value. */
function key(parts: Parts = {}): string {
  const request: InferRequest = {
    id: parts.id ?? 'a',
    modelName: 'm',
    modelVersion: '',
    inputs: [parts.x ?? tensor('X', 'FP32', [1, 2], [0, 0, 128, 63, 0, 0, 0, 64]), parts.n ?? tensor('N', 'INT32', [1, 1], [7, 0, 0, 0])],
    outputs: (parts.outputs ?? []).map((o) => ({ name: o.name, parameters: new Map(o.parameters ?? []) })),
    parameters: new Map(parts.parameters ?? []),
  };
  return responseCacheKey(validateInferRequest(request, parts.model ?? MODEL));
}

const str = (value: string): ParameterValue => ({ kind: 'string', value });
const int = (value: bigint): ParameterValue => ({ kind: 'int64', value });

describe('responseCacheKey', () => {
  it('is the same for the same request, whatever its id, input order, priority or timeout', () => {
    const base = key();
    assert.equal(key({ id: 'another' }), base);
    assert.equal(key({ parameters: [['priority', int(2n)], ['timeout', int(1000n)]] }), base);
    assert.equal(base.length, 44, 'a base64 SHA-256 digest');
  });

  it('differs by each input: its bytes, datatype and shape', () => {
    const base = key();
    const keys = [
      base,
      key({ x: tensor('X', 'FP32', [1, 2], [0, 0, 128, 63, 0, 0, 0, 65]) }),
      key({ n: tensor('N', 'INT32', [1, 1], [8, 0, 0, 0]) }),
      // The same 8 bytes as two FP32 or as one FP64 would be the same bytes with another meaning.
      key({ n: tensor('N', 'INT32', [1, 1], [7, 0, 0, 0]), x: tensor('X', 'FP16', [1, 4], [0, 0, 128, 63, 0, 0, 0, 64]) }),
    ];
    assert.equal(new Set(keys).size, keys.length);
    // The same bytes in another shape (a model without a batch dimension takes both).
    const flat: ModelInfo = { ...MODEL, maxBatchSize: 0, inputs: [spec('X', 'FP32', [-1, -1]), spec('N', 'INT32', [-1, -1])] };
    assert.notEqual(
      key({ model: flat, x: tensor('X', 'FP32', [2, 1], [0, 0, 128, 63, 0, 0, 0, 64]) }),
      key({ model: flat, x: tensor('X', 'FP32', [1, 2], [0, 0, 128, 63, 0, 0, 0, 64]) }),
    );
  });

  it('differs by precision, asked for or implied', () => {
    const keys = [key(), key({ parameters: [['precision', str('fp16')]] }), key({ parameters: [['precision', str('int8')]] })];
    assert.equal(new Set(keys).size, 3);
    assert.equal(key({ parameters: [['precision', str('fp32')]] }), key(), 'fp32 asked for is the default');
  });

  it('differs by model and version', () => {
    assert.notEqual(key({ model: { ...MODEL, version: 2 } }), key());
    assert.notEqual(key({ model: { ...MODEL, name: 'other' } }), key());
  });

  it('differs by the requested outputs, their order and their parameters', () => {
    const keys = [
      key(),
      key({ outputs: [{ name: 'Y' }] }),
      key({ outputs: [{ name: 'Z' }] }),
      key({ outputs: [{ name: 'Z' }, { name: 'Y' }] }),
      key({ outputs: [{ name: 'Y' }, { name: 'Z' }] }),
      key({ outputs: [{ name: 'Y', parameters: [['classification', int(3n)]] }] }),
    ];
    assert.equal(new Set(keys).size, keys.length);
    // Where an output goes (client shared memory) is not what it holds.
    assert.equal(key({ outputs: [{ name: 'Y', parameters: [['shared_memory_region', str('r')]] }] }), key({ outputs: [{ name: 'Y' }] }));
  });

  it('differs by any request parameter not known to leave results alone', () => {
    assert.notEqual(key({ parameters: [['custom', str('1')]] }), key());
    assert.notEqual(key({ parameters: [['custom', str('1')]] }), key({ parameters: [['custom', str('2')]] }));
    assert.notEqual(key({ parameters: [['custom', str('1')]] }), key({ parameters: [['custom', int(1n)]] }));
  });
});
