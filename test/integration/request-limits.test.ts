import assert from 'node:assert/strict';
import { connectivityState, status } from '@grpc/grpc-js';
import { after, afterEach, before, describe, it } from 'node:test';
import { ModelInferRequest, ModelStreamInferResponse } from '../../src/generated/grpc_service.js';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { watchChannel, type ChannelWatch } from '../helpers/channel-watch.js';
import { EXAMPLE_REPOSITORY } from '../helpers/fixtures.js';
import { RawClient, type RawOutcome } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { int32Bytes, readInt32, simpleRequest } from '../helpers/tensors.js';

/**
 * Issue 16: requests that cost the server far more than their size, and messages that do
 * not parse. Each limit is set low here so that small messages reach it; every refusal is
 * INVALID_ARGUMENT (RESOURCE_EXHAUSTED for the message size, from gRPC) with a message
 * naming the limit's flag, and the server keeps serving on the same connection.
 */
const FLAGS = [
  '--grpc-max-receive-message-bytes', '1048576',
  '--max-request-inputs', '8',
  '--max-tensor-elements', '4096',
  '--max-typed-elements', '1000',
  '--max-bytes-element-bytes', '64',
  '--max-request-name-bytes', '64',
];

const ones = (n: number) => Array.from({ length: n }, () => 1);
/** BYTES elements in Triton's raw layout: a 4-byte little-endian length, then the bytes. */
const bytesTensor = (elements: Buffer[]) => Buffer.concat(elements.flatMap((e) => [Buffer.from(Uint32Array.of(e.length).buffer), e]));

describe('request limits and undecodable messages (issue 16)', () => {
  let t: TestServer;
  let raw: RawClient;
  let watch: ChannelWatch;
  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY], { flags: FLAGS });
    raw = new RawClient(`127.0.0.1:${t.server.port}`);
    await t.client.call('ServerLive', {});
    await raw.call('ServerLive', new Uint8Array(0));
    watch = watchChannel(t.client.inference);
  });
  afterEach(async () => {
    assert.deepEqual(await t.client.call('ServerLive', {}), { live: true });
    const ok = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', simpleRequest());
    assert.deepEqual(readInt32(ok.raw_output_contents[0]!), ones(16).map(() => 2));
    assert.equal(raw.client.getChannel().getConnectivityState(false), connectivityState.READY, 'the raw client kept its connection');
    assert.deepEqual(watch.changes, [], 'the structured client kept its connection');
  });
  after(async () => {
    watch.stop();
    raw.close();
    await t.stop();
  });

  const malformed = (outcome: RawOutcome, prefix: string) => {
    assert.equal(outcome.code, 'INVALID_ARGUMENT', outcome.details);
    assert.equal(outcome.errorId, 'REQUEST_MALFORMED');
    assert.ok(outcome.details.startsWith(prefix), outcome.details);
  };

  it('a message that is not a ModelInferRequest: INVALID_ARGUMENT with where it failed, never INTERNAL', async () => {
    malformed(await raw.call('ModelInfer', new Uint8Array(12).fill(0xff)), 'ModelInfer request does not parse as inference.ModelInferRequest: a varint is longer than 10 bytes (at byte 10)');
    const whole = ModelInferRequest.encode(ModelInferRequest.fromPartial({ modelName: 'simple', rawInputContents: [new Uint8Array(100)] })).finish();
    malformed(
      await raw.call('ModelInfer', whole.subarray(0, whole.length - 10)),
      'ModelInfer request does not parse as inference.ModelInferRequest: field 7 (length-delimited, 100 bytes) runs past the end of its message (at byte 10)',
    );
  });

  it('undecodable messages for other RPCs and the health service: INVALID_ARGUMENT with the decoder error', async () => {
    malformed(await raw.call('ModelMetadata', Uint8Array.from([0x0a, 0x05, 0x61])), 'ModelMetadata request does not parse as protobuf: ');
    malformed(await raw.call('ServerLive', Uint8Array.from([0x0b])), 'ServerLive request does not parse as protobuf: ');
    malformed(await raw.call('HealthCheck', Uint8Array.from([0x0a, 0x7f])), 'Check request does not parse as protobuf: ');
    assert.deepEqual((await raw.call('HealthCheck', new Uint8Array(0))).code, 'OK', 'an empty Check request is service ""');
  });

  it('ModelStreamInfer: the same checks; an undecodable or oversized message gets an error_message and the stream goes on', async () => {
    const encode = (request: Parameters<typeof ModelInferRequest.fromPartial>[0]) => ModelInferRequest.encode(ModelInferRequest.fromPartial(request)).finish();
    const valid = encode({
      modelName: 'simple',
      id: 'valid',
      inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1n, 16n] })),
      rawInputContents: [int32Bytes(ones(16)), int32Bytes(ones(16))],
    });
    const tooMany = encode({ modelName: 'simple', inputs: Array.from({ length: 9 }, (_, i) => ({ name: `I${i}`, datatype: 'INT32', shape: [1n] })) });
    const outcome = await raw.stream([valid, new Uint8Array(12).fill(0xff), tooMany, valid]);
    assert.equal(outcome.code, 'OK', outcome.details);
    const responses = outcome.responses.map((bytes) => ModelStreamInferResponse.decode(bytes));
    assert.equal(responses.length, 4);
    const errors = responses.map((r) => r.errorMessage).filter((m) => m !== '').sort();
    assert.deepEqual(errors, [
      'ModelInfer request does not parse as inference.ModelInferRequest: a varint is longer than 10 bytes (at byte 10)',
      'the request has more than 8 inputs, the most this server takes (--max-request-inputs)',
    ]);
    assert.equal(responses.filter((r) => r.inferResponse?.id === 'valid').length, 2, 'the valid messages were answered');
  });

  it('a message past --grpc-max-receive-message-bytes: RESOURCE_EXHAUSTED from gRPC, before it is read', async () => {
    const big = ModelInferRequest.encode(ModelInferRequest.fromPartial({ modelName: 'simple', rawInputContents: [new Uint8Array(2 * 1024 * 1024)] })).finish();
    const outcome = await raw.call('ModelInfer', big);
    assert.equal(outcome.code, 'RESOURCE_EXHAUSTED');
    assert.equal(outcome.details, `Received message larger than max (${big.length} vs 1048576)`);
  });

  it('more inputs than --max-request-inputs', async () => {
    const inputs = Array.from({ length: 9 }, (_, i) => ({ name: `IN${i}`, datatype: 'INT32', shape: [1, 16] }));
    const error = await assertGrpcError(
      t.client.call('ModelInfer', simpleRequest({ inputs, raw_input_contents: [] })),
      status.INVALID_ARGUMENT,
      'the request has more than 8 inputs, the most this server takes (--max-request-inputs)',
    );
    assert.equal(error.metadata.get('nereid-error-id')[0], 'REQUEST_LIMIT');
  });

  it('a shape past --max-tensor-elements, and typed contents past --max-typed-elements', async () => {
    const wide = simpleRequest();
    wide.inputs[0]!.shape = [1, 4097];
    await assertGrpcError(t.client.call('ModelInfer', wide), status.INVALID_ARGUMENT, "input 'INPUT0' has a shape of 4097 elements; this server takes at most 4096 (--max-tensor-elements)");
    const typed = simpleRequest({ raw_input_contents: [] }) as { inputs: Record<string, unknown>[] };
    typed.inputs[0]!['contents'] = { int_contents: ones(1001) };
    await assertGrpcError(
      t.client.call('ModelInfer', typed),
      status.INVALID_ARGUMENT,
      "the typed contents of input 'INPUT0' have more than 1000 elements, the most this server takes (--max-typed-elements)",
    );
  });

  it('a BYTES element past --max-bytes-element-bytes, raw or typed', async () => {
    const request = (data: Record<string, unknown>) => ({ model_name: 'simple_identity', inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 2], ...data }] });
    await assertGrpcError(
      t.client.call('ModelInfer', { ...request({}), raw_input_contents: [bytesTensor([Buffer.alloc(64, 0x61), Buffer.alloc(65, 0x62)])] }),
      status.INVALID_ARGUMENT,
      "BYTES element 1 of input 'INPUT0' is 65 bytes long; this server takes at most 64 (--max-bytes-element-bytes)",
    );
    await assertGrpcError(
      t.client.call('ModelInfer', request({ contents: { bytes_contents: [Buffer.alloc(65), Buffer.alloc(1)] } })),
      status.INVALID_ARGUMENT,
      "a BYTES element in the contents of input 'INPUT0' is 65 bytes long; this server takes at most 64 (--max-bytes-element-bytes)",
    );
    const echoed = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', { ...request({}), raw_input_contents: [bytesTensor([Buffer.alloc(64, 0x61), Buffer.alloc(0)])] });
    assert.equal(echoed.raw_output_contents[0]!.length, 4 + 64 + 4, 'elements at the limit are served');
  });

  it('a name past --max-request-name-bytes: model name, request id, input name', async () => {
    const long = 'x'.repeat(65);
    const expect = (what: string) => `${what} is 65 bytes long; this server takes at most 64 (--max-request-name-bytes)`;
    await assertGrpcError(t.client.call('ModelInfer', simpleRequest({ model_name: long })), status.INVALID_ARGUMENT, expect('the model name'));
    await assertGrpcError(t.client.call('ModelInfer', simpleRequest({ id: long })), status.INVALID_ARGUMENT, expect('the request id'));
    const named = simpleRequest();
    named.inputs[1]!.name = long;
    await assertGrpcError(t.client.call('ModelInfer', named), status.INVALID_ARGUMENT, expect('the name of input 1'));
  });
});
