import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { EXAMPLE_REPOSITORY, scratchDirectory, testRepository } from '../helpers/fixtures.js';
import { ModelInferRequest } from '../../src/generated/grpc_service.js';
import { openStream, unreadStream } from '../helpers/stream-client.js';
import { bytesTensor, float32Bytes, int32Bytes, int64Bytes, readInt32 } from '../helpers/tensors.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitUntil } from '../helpers/wait-until.js';

/** `slow` with one instance and no batching, so requests queue behind one another. */
function oneInstanceSlow(slowDir: string): string {
  const dir = scratchDirectory('stream');
  mkdirSync(path.join(dir, 'slow1', '1'), { recursive: true });
  copyFileSync(path.join(slowDir, '1', 'model.onnx'), path.join(dir, 'slow1', '1', 'model.onnx'));
  const config = readFileSync(path.join(slowDir, 'config.pbtxt'), 'utf8').replace('name: "slow"', 'name: "slow1"');
  writeFileSync(path.join(dir, 'slow1', 'config.pbtxt'), `${config}\ninstance_group [ { count: 1 kind: KIND_CPU } ]\n`);
  return dir;
}

function simpleRequest(id: string, a: number): Record<string, unknown> {
  return {
    model_name: 'simple',
    id,
    inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16] })),
    raw_input_contents: [int32Bytes(Array.from({ length: 16 }, (_, i) => a + i)), int32Bytes(Array.from({ length: 16 }, () => 1))],
  };
}

function slowRequest(id: string, iterations: number): Record<string, unknown> {
  return {
    model_name: 'slow1',
    id,
    inputs: [
      { name: 'INPUT0', datatype: 'FP32', shape: [1, 16] },
      { name: 'DELAY', datatype: 'INT64', shape: [1, 1] },
    ],
    raw_input_contents: [float32Bytes(Array.from({ length: 16 }, (_, i) => i)), int64Bytes([iterations])],
  };
}

describe('ModelStreamInfer', () => {
  let t: TestServer;
  const inferences = async (model: string) =>
    (await t.client.call<{ model_stats: { inference_count: number }[] }>('ModelStatistics', { name: model })).model_stats[0]!.inference_count;
  const servable = (model: string) => t.server.registry.get(model, '').servable;

  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY, oneInstanceSlow(path.join(await testRepository(), 'slow'))]);
  });
  after(async () => t.stop());

  it('answers a stream of 200 requests, each response carrying its request id, final flag and outputs', async () => {
    const stream = openStream(t.client);
    for (let k = 0; k < 200; k++) stream.write(simpleRequest(`r${k}`, k));
    assert.equal((await stream.end()).code, status.OK);
    assert.equal(stream.responses.length, 200);
    const byId = new Map(stream.responses.map((r) => [r.infer_response.id, r]));
    assert.equal(byId.size, 200, 'every id answered once');
    for (let k = 0; k < 200; k++) {
      const response = byId.get(`r${k}`)!;
      assert.equal(response.error_message, '');
      assert.equal(response.infer_response.model_name, 'simple');
      assert.equal(response.infer_response.parameters['triton_final_response']?.bool_param, true);
      assert.deepEqual(readInt32(response.infer_response.raw_output_contents[0]!), Array.from({ length: 16 }, (_, i) => k + i + 1));
    }
  });

  it('answers a failed request with error_message and its id, and keeps the stream open for the next', async () => {
    const stream = openStream(t.client);
    stream.write({ ...simpleRequest('unknown', 0), model_name: 'nope' });
    stream.write({ ...simpleRequest('short', 0), inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 8] })) });
    stream.write({ ...simpleRequest('typed', 0), parameters: { sequence_start: { int64_param: 1 } } });
    stream.write(simpleRequest('fine', 5));
    assert.equal((await stream.end()).code, status.OK);
    const byId = new Map(stream.responses.map((r) => [r.infer_response.id, r]));
    assert.equal(byId.get('unknown')!.error_message, "Request for unknown model: 'nope' is not found");
    assert.match(byId.get('short')!.error_message, /^\[request id: short\] unexpected shape for input 'INPUT0' for model 'simple'\. Expected \[-1,16\], got \[1,8\]/);
    assert.equal(byId.get('typed')!.error_message, "invalid value type for 'sequence_start' parameter, expected bool_param.");
    assert.equal(byId.get('fine')!.error_message, '');
    assert.deepEqual(readInt32(byId.get('fine')!.infer_response.raw_output_contents[0]!).slice(0, 2), [6, 7]);
    assert.equal((await t.client.healthCheck('')).status, 'SERVING');
  });

  it('after a half-close, finishes the requests in flight, sends their responses, then ends with OK', async () => {
    const stream = openStream(t.client);
    for (const id of ['a', 'b', 'c']) stream.write(slowRequest(id, 2000));
    const ended = await stream.end();
    assert.equal(ended.code, status.OK);
    assert.deepEqual(stream.responses.map((r) => r.infer_response.id).sort(), ['a', 'b', 'c']);
    assert.ok(stream.responses.every((r) => r.error_message === ''));
  });

  it('drops the queued requests of a cancelled stream without computing them', async () => {
    const before = await inferences('slow1');
    const stream = openStream(t.client);
    stream.write(slowRequest('blocker', 15_000));
    for (let k = 0; k < 5; k++) stream.write(slowRequest(`queued${k}`, 10));
    await waitUntil(() => servable('slow1').pending() === 5, 'five requests wait behind the blocker');
    stream.call.cancel();
    assert.equal((await stream.status).code, status.CANCELLED);
    await waitUntil(() => servable('slow1').pending() === 0, 'the queue is empty');
    await waitUntil(() => servable('slow1').instances().every((i) => i.state === 'idle'), 'the blocker has finished');
    assert.equal((await inferences('slow1')) - before, 1, 'only the request already running was computed');
    assert.equal(stream.responses.length, 0);
    assert.equal((await t.client.healthCheck('')).status, 'SERVING');
  });

  it('stops reading from a client that does not read its responses, and serves them all once it does', async () => {
    const count = 120;
    const element = 'x'.repeat(1024 * 1024);
    const requests = Array.from({ length: count }, (_, k) =>
      ModelInferRequest.encode(
        ModelInferRequest.fromPartial({ modelName: 'simple_identity', id: `big${k}`, inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1n, 1n] }], rawInputContents: [bytesTensor([element])] }),
      ).finish(),
    );
    const before = await inferences('simple_identity');
    const client = unreadStream(t.server.port, requests);
    // Wait on the server's state: computing stops (five checks 100 ms apart see no change).
    let computed = -1;
    let unchanged = 0;
    for (let polls = 0; unchanged < 5 && polls < 300; polls++) {
      const now = (await inferences('simple_identity')) - before;
      unchanged = now === computed ? unchanged + 1 : 0;
      computed = now;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Requests in flight plus unsent responses stop reading at 64 MiB: the server holds about that many 1 MiB requests.
    assert.ok(computed >= 32 && computed <= 100, `the server computed ${computed} of ${count} requests for a client that reads nothing`);
    assert.equal((await t.client.healthCheck('')).status, 'SERVING', 'other calls are served meanwhile');
    assert.equal(await client.read(), count, 'once the client reads, every response comes');
    client.close();
    assert.equal((await inferences('simple_identity')) - before, count);
  });
});
