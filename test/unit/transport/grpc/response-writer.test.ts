import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type InferParameter, ModelInferResponse, ModelStreamInferResponse } from '../../../../src/generated/grpc_service.js';
import { ResponseWriter } from '../../../../src/transport/grpc/response-writer.js';
import { seededRandom } from '../../../helpers/scheduler-fakes.js';

const generated = (message: ModelInferResponse) => Buffer.from(ModelInferResponse.encode(message).finish());
const generatedStream = (message: ModelStreamInferResponse) => Buffer.from(ModelStreamInferResponse.encode(message).finish());

function bytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

const allParameters: { [key: string]: InferParameter } = {
  flag: { parameterChoice: { $case: 'boolParam', value: true } },
  off: { parameterChoice: { $case: 'boolParam', value: false } },
  neg: { parameterChoice: { $case: 'int64Param', value: -5n } },
  big: { parameterChoice: { $case: 'int64Param', value: 9_223_372_036_854_775_807n } },
  u: { parameterChoice: { $case: 'uint64Param', value: 18_446_744_073_709_551_615n } },
  d: { parameterChoice: { $case: 'doubleParam', value: -1.5e300 } },
  s: { parameterChoice: { $case: 'stringParam', value: 'héllo ✓' } },
  empty: { parameterChoice: { $case: 'stringParam', value: '' } },
  none: {},
  '': { parameterChoice: { $case: 'boolParam', value: true } },
};

function response(outputs: number, seed: number, size = 64): ModelInferResponse {
  return {
    modelName: 'ocr_rec',
    modelVersion: '1',
    id: seed % 2 === 0 ? '' : `req-${seed}-ünïcode`,
    parameters: seed % 3 === 0 ? allParameters : {},
    outputs: Array.from({ length: outputs }, (_, i) => ({
      name: `OUTPUT${i}`,
      datatype: 'FP32',
      shape: i === 0 ? [] : [BigInt(i), 6625n, 300_000_000_000n, -1n],
      parameters: i === 1 ? allParameters : {},
    })),
    rawOutputContents: Array.from({ length: outputs }, (_, i) => bytes(i === 0 ? 0 : size * i, seed + i)),
  };
}

describe('ResponseWriter', () => {
  it('writes ModelInferResponse byte for byte as the generated encoder does', () => {
    const writer = new ResponseWriter();
    for (let seed = 0; seed < 12; seed++) {
      const message = response(seed % 4, seed, 1 + seed * 37);
      assert.deepEqual(writer.inferResponse(message), generated(message), `seed ${seed}`);
    }
    const empty: ModelInferResponse = { modelName: '', modelVersion: '', id: '', parameters: {}, outputs: [], rawOutputContents: [] };
    assert.equal(writer.inferResponse(empty).length, 0);
  });

  it('writes ModelStreamInferResponse byte for byte, error or response', () => {
    const writer = new ResponseWriter();
    const cases: ModelStreamInferResponse[] = [
      { errorMessage: '', inferResponse: { ...response(2, 3), parameters: { triton_final_response: { parameterChoice: { $case: 'boolParam', value: true } } } } },
      { errorMessage: 'in[0]: expected shape [1,16] — got [2]', inferResponse: { id: 'x', modelName: '', modelVersion: '', parameters: {}, outputs: [], rawOutputContents: [] } },
      { errorMessage: 'only an error', inferResponse: undefined },
    ];
    for (const message of cases) assert.deepEqual(writer.streamResponse(message), generatedStream(message));
  });

  it('encodes outputs larger than its buffer, and small ones after them, correctly', () => {
    const writer = new ResponseWriter();
    const large = response(2, 5, 9 * 1024 * 1024);
    assert.deepEqual(writer.inferResponse(large), generated(large));
    const small = response(3, 6, 100);
    assert.deepEqual(writer.inferResponse(small), generated(small));
  });

  it('hands typed contents to the generated encoder', () => {
    const writer = new ResponseWriter();
    const message: ModelInferResponse = {
      ...response(1, 1),
      outputs: [{ name: 'o', datatype: 'INT32', shape: [2n], parameters: {}, contents: { boolContents: [], intContents: [1, -2], int64Contents: [], uintContents: [], uint64Contents: [], fp32Contents: [], fp64Contents: [], bytesContents: [] } }],
      rawOutputContents: [],
    };
    assert.deepEqual(writer.inferResponse(message), generated(message));
  });
});
