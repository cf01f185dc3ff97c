import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { EXAMPLE_REPOSITORY } from '../helpers/fixtures.js';
import { int32Values, openStream } from '../helpers/stream-client.js';
import { int32Bytes } from '../helpers/tensors.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** What simple_grpc_custom_repeat.py sends to repeat_int32: IN, DELAY (ms each) and WAIT. */
function repeatRequest(values: number[], delayMs: number, waitMs: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const uint32 = (v: number[]) => Buffer.from(Uint32Array.from(v).buffer);
  return {
    model_name: 'repeat_int32',
    inputs: [
      { name: 'IN', datatype: 'INT32', shape: [values.length] },
      { name: 'DELAY', datatype: 'UINT32', shape: [values.length] },
      { name: 'WAIT', datatype: 'UINT32', shape: [1] },
    ],
    outputs: [{ name: 'OUT' }, { name: 'IDX' }],
    raw_input_contents: [int32Bytes(values), uint32(values.map(() => delayMs)), uint32([waitMs])],
    ...extra,
  };
}

describe('decoupled models: repeat_int32 over ModelStreamInfer', () => {
  let t: TestServer;

  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY]);
  });
  after(async () => t.stop());

  it("streams N responses in order, each after its delay, as Triton's simple_grpc_custom_repeat.py expects", async () => {
    const values = Array.from({ length: 10 }, (_, i) => 100 + i);
    const stream = openStream(t.client);
    const sent = performance.now();
    stream.write(repeatRequest(values, 20, 20, { id: 'rep' }));
    await stream.waitFor(10);
    assert.equal((await stream.end()).code, status.OK);
    assert.equal(stream.responses.length, 10, 'no empty final response unless asked for');
    stream.responses.forEach((response, i) => {
      assert.equal(response.error_message, '');
      assert.equal(response.infer_response.id, 'rep');
      const outputs = new Map(response.infer_response.outputs.map((o, k) => [o.name, int32Values(response.infer_response.raw_output_contents[k]!)]));
      assert.deepEqual(outputs.get('OUT'), [100 + i], 'one element, the values in order');
      assert.deepEqual(outputs.get('IDX'), [i]);
      assert.equal(response.infer_response.parameters['triton_final_response']?.bool_param, false);
      // The delays add up: response i cannot come before (i + 1) delays have passed.
      assert.ok(stream.arrivals[i]! - sent >= (i + 1) * 20 - 2, `response ${i} after its delays`);
    });
  });

  it('sends the final flag as an empty response when triton_enable_empty_final_response is set', async () => {
    const stream = openStream(t.client);
    stream.write(repeatRequest([7, 8], 0, 0, { id: 'with', parameters: { triton_enable_empty_final_response: { bool_param: true } } }));
    stream.write(repeatRequest([], 0, 0, { id: 'none', parameters: { triton_enable_empty_final_response: { bool_param: true } } }));
    stream.write(repeatRequest([9], 0, 0, { id: 'without', parameters: { triton_enable_empty_final_response: { bool_param: false } } }));
    await stream.waitFor(5);
    assert.equal((await stream.end()).code, status.OK);
    const of = (id: string) => stream.responses.filter((r) => r.infer_response.id === id);
    assert.deepEqual(of('with').map((r) => [r.infer_response.outputs.length, r.infer_response.parameters['triton_final_response']?.bool_param]), [[2, false], [2, false], [0, true]]);
    assert.equal(of('with')[2]!.infer_response.model_name, 'repeat_int32');
    assert.deepEqual(of('none').map((r) => [r.infer_response.outputs.length, r.infer_response.parameters['triton_final_response']?.bool_param]), [[0, true]], 'zero responses, then the final flag');
    assert.deepEqual(of('without').map((r) => r.infer_response.parameters['triton_final_response']?.bool_param), [false]);
  });

  it("answers the repeat backend's own errors in the stream, and ModelInfer to a decoupled model with Triton's UNIMPLEMENTED", async () => {
    const stream = openStream(t.client);
    const request = repeatRequest([1, 2, 3], 0, 0, { id: 'bad' }) as { inputs: { shape: number[] }[]; raw_input_contents: Buffer[] };
    request.inputs[1]!.shape = [2];
    request.raw_input_contents[1] = Buffer.alloc(8);
    stream.write(request);
    stream.write({ ...repeatRequest([1], 0, 0), id: 'typed', parameters: { triton_enable_empty_final_response: { int64_param: 1 } } });
    await stream.waitFor(2);
    assert.equal((await stream.end()).code, status.OK);
    const of = (id: string) => stream.responses.find((r) => r.infer_response.id === id)!;
    assert.equal(of('bad').error_message, 'expected IN and DELAY shape to match, got [3] and [2]');
    assert.equal(of('typed').error_message, "invalid value type for 'triton_enable_empty_final_response' parameter, expected bool_param.");
    await assertGrpcError(t.client.call('ModelInfer', repeatRequest([1], 0, 0)), status.UNIMPLEMENTED, "ModelInfer RPC doesn't support models with decoupled transaction policy");
    assert.equal((await t.client.healthCheck('')).status, 'SERVING');
  });
});
