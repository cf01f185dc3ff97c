/**
 * The model's response outputs for the workload's request (names, datatypes, shapes, bytes),
 * found by running the model once with ONNX Runtime. The echo target answers with outputs of
 * these sizes, so that it moves the server's bytes both ways.
 */
import * as ort from 'onnxruntime-node';
import type { ResponseOutput } from './bench-types.js';
import { randomTensor, seededRandom, type InputSpec } from './workloads.js';

/** ONNX Runtime's tensor types, by the protocol's datatype names. */
const DATATYPES: Readonly<Record<string, string>> = {
  float32: 'FP32', float16: 'FP16', float64: 'FP64', int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64',
  uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32', uint64: 'UINT64', bool: 'BOOL', string: 'BYTES',
};

/** Runs `modelPath` once on seeded inputs of the request's shapes; returns what it answers. */
export async function responseOutputs(modelPath: string, inputs: readonly InputSpec[]): Promise<ResponseOutput[]> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const random = seededRandom(1);
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of inputs) {
      const bytes = randomTensor(input, random);
      const data = input.datatype === 'FP32' ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) : new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      feeds[input.name] = new ort.Tensor(input.datatype === 'FP32' ? 'float32' : 'int32', data, [...input.shape]);
    }
    const results = await session.run(feeds);
    return session.outputNames.map((name) => {
      const tensor = results[name]!;
      const data = tensor.data as ArrayBufferView;
      return { name, datatype: DATATYPES[tensor.type] ?? tensor.type.toUpperCase(), shape: [...tensor.dims], bytes: data.byteLength };
    });
  } finally {
    await session.release();
  }
}
