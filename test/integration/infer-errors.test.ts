import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { after, afterEach, before, describe, it } from 'node:test';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { EXAMPLE_REPOSITORY, scratchDirectory, testRepository } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { bytesTensor, float32Bytes, int32Bytes, int64Bytes, readInt32, simpleRequest } from '../helpers/tensors.js';

const ones = (n: number) => Array.from({ length: n }, () => 1);
const NOTE =
  'NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each ' +
  'input shape. If you want to specify the full shape including the batch dim in your input dims config, try setting ' +
  'max_batch_size to zero. See the model configuration docs for more info on max_batch_size.';


/** A repository holding one model whose config.pbtxt cannot be parsed. */
function brokenRepository(): string {
  const dir = scratchDirectory('broken');
  mkdirSync(path.join(dir, 'broken', '1'), { recursive: true });
  writeFileSync(path.join(dir, 'broken', 'config.pbtxt'), 'max_batch_size: "eight"\n');
  writeFileSync(path.join(dir, 'broken', '1', 'model.onnx'), 'not onnx');
  return dir;
}

describe('ModelInfer rejects bad input with Triton codes and messages', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY, await testRepository(), brokenRepository()], {
      flags: ['--strict-readiness', 'false'],
    });
  });
  afterEach(async () => {
    // The server must still be healthy and serving after every bad request.
    assert.deepEqual(await t.client.call('ServerLive', {}), { live: true });
    const ok = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', simpleRequest());
    assert.deepEqual(readInt32(ok.raw_output_contents[0]!), Array.from({ length: 16 }, () => 2));
  });
  after(async () => {
    await t.stop();
  });

  const infer = (request: Record<string, unknown>) => t.client.call('ModelInfer', request);

  it('unknown model: NOT_FOUND', async () => {
    await assertGrpcError(infer(simpleRequest({ model_name: 'nope' })), status.NOT_FOUND, "Request for unknown model: 'nope' is not found");
  });

  it('unknown version: NOT_FOUND', async () => {
    await assertGrpcError(
      infer(simpleRequest({ model_version: '7' })),
      status.NOT_FOUND,
      "Request for unknown model: 'simple' version 7 is not found",
    );
  });

  it('non-numeric version string: INVALID_ARGUMENT', async () => {
    await assertGrpcError(
      infer(simpleRequest({ model_version: 'wrong_specification' })),
      status.INVALID_ARGUMENT,
      "failed to get model version from specified version string 'wrong_specification' (details: stol), version should be an integral value > 0",
    );
  });

  it('negative version: INVALID_ARGUMENT', async () => {
    await assertGrpcError(
      infer(simpleRequest({ model_version: '-1' })),
      status.INVALID_ARGUMENT,
      "invalid model version specified '-1' , version should be an integral value > 0",
    );
  });

  it('model that failed to load: NOT_FOUND for latest, UNAVAILABLE for its version', async () => {
    await assertGrpcError(
      infer(simpleRequest({ model_name: 'broken' })),
      status.NOT_FOUND,
      "Request for unknown model: 'broken' has no available versions",
    );
    await assertGrpcError(
      infer(simpleRequest({ model_name: 'broken', model_version: '1' })),
      status.UNAVAILABLE,
      "Request for unknown model: 'broken' version 1 is not at ready state",
    );
  });

  it('wrong datatype', async () => {
    const request = simpleRequest();
    request.inputs[0]!.datatype = 'FP32';
    await assertGrpcError(
      infer(request),
      status.INVALID_ARGUMENT,
      "[request id: <id_unknown>] inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'",
    );
  });

  it('datatype string that is no datatype', async () => {
    const request = simpleRequest({ id: 'r7' });
    request.inputs[1]!.datatype = 'FLOAT';
    await assertGrpcError(
      infer(request),
      status.INVALID_ARGUMENT,
      "[request id: r7] inference input 'INPUT1' data-type is '<invalid>', but model 'simple' expects 'INT32'",
    );
  });

  it('wrong shape', async () => {
    const request = simpleRequest({ id: 'shape' });
    request.inputs[0]!.shape = [1, 8];
    await assertGrpcError(
      infer(request),
      status.INVALID_ARGUMENT,
      `[request id: shape] unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,16], got [1,8]. ${NOTE}`,
    );
  });

  it('shape without the batch dimension (the first dim is read as the batch, as in Triton)', async () => {
    const request = simpleRequest({ raw_input_contents: [int32Bytes(ones(4)), int32Bytes(ones(4))] });
    request.inputs[0]!.shape = [4];
    request.inputs[1]!.shape = [4];
    await assertGrpcError(
      infer(request),
      status.INVALID_ARGUMENT,
      `[request id: <id_unknown>] unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,16], got [4]. ${NOTE}`,
    );
    request.inputs[0]!.shape = [16];
    request.inputs[1]!.shape = [16];
    await assertGrpcError(infer(request), status.INVALID_ARGUMENT, "[request id: <id_unknown>] inference request batch-size must be <= 8 for 'simple'");
  });

  it('byte size mismatch', async () => {
    await assertGrpcError(
      infer(simpleRequest({ raw_input_contents: [int32Bytes(ones(8)), int32Bytes(ones(16))] })),
      status.INVALID_ARGUMENT,
      "[request id: <id_unknown>] input byte size mismatch for input 'INPUT0' for model 'simple'. Expected 64, got 32",
    );
  });

  it('missing input', async () => {
    await assertGrpcError(
      infer(simpleRequest({ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16] }], raw_input_contents: [int32Bytes(ones(16))] })),
      status.INVALID_ARGUMENT,
      "[request id: <id_unknown>] expected 2 inputs but got 1 inputs for model 'simple'. Got input(s) ['INPUT0'], but missing " +
        "required input(s) ['INPUT1']. Please provide all required input(s).",
    );
  });

  it('too many inputs', async () => {
    const request = simpleRequest();
    request.inputs.push({ name: 'INPUT2', datatype: 'INT32', shape: [1, 16] });
    request.raw_input_contents.push(int32Bytes(ones(16)));
    await assertGrpcError(
      infer(request),
      status.INVALID_ARGUMENT,
      "[request id: <id_unknown>] expected 2 inputs but got 3 inputs for model 'simple'. Got input(s) ['INPUT0','INPUT1','INPUT2'], " +
        'but missing required input(s) []. Please provide all required input(s).',
    );
  });

  it('unexpected input name', async () => {
    const request = simpleRequest();
    request.inputs[1]!.name = 'INPUT9';
    await assertGrpcError(infer(request), status.INVALID_ARGUMENT, "unexpected inference input 'INPUT9' for model 'simple'");
  });

  it('the same input twice', async () => {
    const request = simpleRequest();
    request.inputs[1]!.name = 'INPUT0';
    await assertGrpcError(infer(request), status.INVALID_ARGUMENT, "[request id: <id_unknown>] input 'INPUT0' already exists in request");
  });

  it('batch larger than max_batch_size', async () => {
    const request = simpleRequest({ raw_input_contents: [int32Bytes(ones(144)), int32Bytes(ones(144))] });
    request.inputs[0]!.shape = [9, 16];
    request.inputs[1]!.shape = [9, 16];
    await assertGrpcError(infer(request), status.INVALID_ARGUMENT, "[request id: <id_unknown>] inference request batch-size must be <= 8 for 'simple'");
  });

  it('batch of zero', async () => {
    const request = simpleRequest({ raw_input_contents: [Buffer.alloc(0), Buffer.alloc(0)] });
    request.inputs[0]!.shape = [0, 16];
    request.inputs[1]!.shape = [0, 16];
    await assertGrpcError(infer(request), status.INVALID_ARGUMENT, "[request id: <id_unknown>] inference request batch-size must be >= 1 for 'simple'");
  });

  it('batch sizes that differ between inputs', async () => {
    const request = simpleRequest({ raw_input_contents: [int32Bytes(ones(16)), int32Bytes(ones(32))] });
    request.inputs[1]!.shape = [2, 16];
    await assertGrpcError(
      infer(request),
      status.INVALID_ARGUMENT,
      "[request id: <id_unknown>] input 'INPUT1' batch size does not match other inputs for 'simple'",
    );
  });

  it('typed contents together with raw_input_contents', async () => {
    const request = simpleRequest({ raw_input_contents: [int32Bytes(ones(16))] });
    (request.inputs[0] as Record<string, unknown>)['contents'] = { int_contents: ones(16) };
    await assertGrpcError(
      infer(request),
      status.INVALID_ARGUMENT,
      "contents field must not be specified when using raw_input_contents for 'INPUT0' for model 'simple'",
    );
  });

  it('typed contents of the wrong kind', async () => {
    const request = simpleRequest({ raw_input_contents: [] });
    (request.inputs[0] as Record<string, unknown>)['contents'] = { fp32_contents: ones(16) };
    (request.inputs[1] as Record<string, unknown>)['contents'] = { int_contents: ones(16) };
    await assertGrpcError(
      infer(request),
      status.INVALID_ARGUMENT,
      "unexpected explicit tensor data for input tensor 'INPUT0' for model 'simple' of type 'FP32', expected datatype 'INT32'",
    );
  });

  it('two typed contents fields for one input', async () => {
    const request = simpleRequest({ raw_input_contents: [] });
    (request.inputs[0] as Record<string, unknown>)['contents'] = { int_contents: ones(16), int64_contents: ones(16) };
    await assertGrpcError(
      infer(request),
      status.INVALID_ARGUMENT,
      "unexpected explicit tensor data for input tensor 'INPUT0' for model 'simple', binary data was already supplied.",
    );
  });

  it('an input without data', async () => {
    await assertGrpcError(
      infer(simpleRequest({ raw_input_contents: [int32Bytes(ones(16))] })),
      status.INVALID_ARGUMENT,
      "unable to find data for input tensor 'INPUT1' for model 'simple' in request.",
    );
  });

  it('more raw_input_contents than inputs', async () => {
    await assertGrpcError(
      infer(simpleRequest({ raw_input_contents: [int32Bytes(ones(16)), int32Bytes(ones(16)), int32Bytes(ones(16))] })),
      status.INVALID_ARGUMENT,
      "raw_input_contents has 3 entries but only 2 inputs of model 'simple' take raw data",
    );
  });

  it('unknown requested output', async () => {
    await assertGrpcError(
      infer(simpleRequest({ outputs: [{ name: 'OUTPUT0' }, { name: 'OUTPUT9' }] })),
      status.INVALID_ARGUMENT,
      "unexpected inference output 'OUTPUT9' for model 'simple'",
    );
  });

  it('reserved triton_ parameter', async () => {
    await assertGrpcError(
      infer(simpleRequest({ parameters: { triton_secret: { bool_param: true } } })),
      status.INVALID_ARGUMENT,
      "parameter keys starting with 'triton_' are reserved for Triton usage. Only the following keys starting with 'triton_' " +
        'are allowed: triton_enable_empty_final_response',
    );
  });

  const identity = (shape: number[], data: Buffer) => ({
    model_name: 'simple_identity',
    inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape }],
    raw_input_contents: [data],
  });

  it('element count past --max-tensor-elements, and one that overflows int64, refused before decoding', async () => {
    await assertGrpcError(
      infer(identity([8, 2 ** 21 + 1], bytesTensor(['a']))),
      status.INVALID_ARGUMENT,
      "input 'INPUT0' has a shape of 16777224 elements; this server takes at most 16777216 (--max-tensor-elements)",
    );
    await assertGrpcError(
      infer(identity([8, 2 ** 61], bytesTensor(['a']))),
      status.INVALID_ARGUMENT,
      "input 'INPUT0' has a shape of more than 2^53 elements; this server takes at most 16777216 (--max-tensor-elements)",
    );
  });

  it('a -1 dimension in the request', async () => {
    await assertGrpcError(
      infer(identity([1, -1], bytesTensor(['a']))),
      status.INVALID_ARGUMENT,
      "[request id: <id_unknown>] All input dimensions should be specified for input 'INPUT0' for model 'simple_identity', got [1,-1]",
    );
  });

  it('BYTES element count differs from the shape', async () => {
    await assertGrpcError(
      infer(identity([1, 3], bytesTensor(['a', 'b']))),
      status.INVALID_ARGUMENT,
      "[request id: <id_unknown>] expected 3 string elements for inference input 'INPUT0' for model 'simple_identity', got 2",
    );
  });

  it('BYTES length prefix running past the data', async () => {
    const data = Buffer.concat([bytesTensor(['abc']), Buffer.from([10, 0, 0, 0, 1, 2])]);
    await assertGrpcError(
      infer(identity([1, 2], data)),
      status.INVALID_ARGUMENT,
      "[request id: <id_unknown>] string element 1 of inference input 'INPUT0' for model 'simple_identity' declares 10 bytes but only 2 bytes follow its length indicator",
    );
  });

  it('NUL bytes sent to an ONNX string model are refused, not truncated', async () => {
    await assertGrpcError(
      infer({ model_name: 'string_identity', inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 1] }], raw_input_contents: [bytesTensor(['he\u0000llo'])] }),
      status.INVALID_ARGUMENT,
      "element 0 of BYTES input 'INPUT0' contains a NUL byte, which ONNX Runtime string tensors cannot carry (onnxruntime-node cuts input strings at the first NUL)",
    );
  });

  it('ONNX Runtime failing at run time: INTERNAL with its message', async () => {
    await assertGrpcError(
      infer({
        model_name: 'fail',
        inputs: [
          { name: 'DATA', datatype: 'FP32', shape: [4] },
          { name: 'SHAPE', datatype: 'INT64', shape: [2] },
        ],
        raw_input_contents: [float32Bytes([1, 2, 3, 4]), int64Bytes([3, 5])],
      }),
      status.INTERNAL,
      /^onnx runtime error: .*The input tensor cannot be reshaped to the requested shape/,
    );
  });

  it('metadata and config for an unknown model: NOT_FOUND', async () => {
    await assertGrpcError(t.client.call('ModelMetadata', { name: 'nope' }), status.NOT_FOUND, "Request for unknown model: 'nope' is not found");
    await assertGrpcError(t.client.call('ModelConfig', { name: 'nope' }), status.NOT_FOUND, "Request for unknown model: 'nope' is not found");
  });
});
