import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { scratchDirectory, testRepository } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitUntil } from '../helpers/wait-until.js';
import { float32Bytes, int64Bytes, readFloat32 } from '../helpers/tensors.js';

/** `slow` again as `slow_single`, with one instance, so a test knows which worker runs what. */
function singleInstanceRepository(testModels: string): string {
  const dir = scratchDirectory('single');
  mkdirSync(path.join(dir, 'slow_single', '1'), { recursive: true });
  copyFileSync(path.join(testModels, 'slow', '1', 'model.onnx'), path.join(dir, 'slow_single', '1', 'model.onnx'));
  const config = readFileSync(path.join(testModels, 'slow', 'config.pbtxt'), 'utf8').replace('name: "slow"', 'name: "slow_single"');
  writeFileSync(path.join(dir, 'slow_single', 'config.pbtxt'), `${config}\ninstance_group [ { count: 1 kind: KIND_CPU } ]\n`);
  return dir;
}

/** One `slow` request: OUTPUT0 = INPUT0 after `iterations` loop steps (~0.03 ms each, one thread). */
function slowRequest(iterations: number, seed = 0) {
  return {
    model_name: 'slow',
    inputs: [
      { name: 'INPUT0', datatype: 'FP32', shape: [1, 16] },
      { name: 'DELAY', datatype: 'INT64', shape: [1, 1] },
    ],
    raw_input_contents: [float32Bytes(Array.from({ length: 16 }, (_, i) => seed + i)), int64Bytes([iterations])],
  };
}

describe('model instances on worker threads', () => {
  let t: TestServer;
  const servable = () => t.server.registry.get('slow', '').servable;
  const executions = () => servable().instances().reduce((sum, i) => sum + i.executions, 0);

  before(async () => {
    t = await startTestServer([await testRepository(), singleInstanceRepository(await testRepository())]);
  });
  after(async () => {
    await t.stop();
  });

  it('spreads parallel requests over both instances, each answered correctly', async () => {
    const before = executions();
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, k) => t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', slowRequest(1500, k * 100))),
    );
    answers.forEach((answer, k) => assert.deepEqual(readFloat32(answer.raw_output_contents[0]!), Array.from({ length: 16 }, (_, i) => k * 100 + i)));
    const instances = servable().instances();
    assert.equal(instances.length, 2);
    assert.equal(executions() - before, 24);
    for (const instance of instances) assert.ok(instance.executions > 0, `${instance.name} never ran: ${JSON.stringify(instances)}`);
  });

  it('keeps the main thread answering while a long inference runs', async () => {
    let inferDone = false;
    const long = t.client.call('ModelInfer', slowRequest(40_000)).then(() => (inferDone = true));
    await waitUntil(() => servable().instances().some((instance) => instance.state === 'busy'), 'the long inference runs');
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await t.client.call('ServerLive', {}), { live: true });
      assert.equal(inferDone, false, 'ServerLive should answer while the inference is still running');
    }
    await long;
  });

  it('never computes a request whose deadline passes in the queue', async () => {
    const before = executions();
    const blockers = [t.client.call('ModelInfer', slowRequest(30_000)), t.client.call('ModelInfer', slowRequest(30_000))];
    await waitUntil(() => servable().instances().every((instance) => instance.state === 'busy'), 'both instances run a blocker');
    await assertGrpcError(t.client.call('ModelInfer', slowRequest(10), { deadlineMs: 100 }), status.DEADLINE_EXCEEDED, /Deadline exceeded/);
    await Promise.all(blockers);
    await sleep(50);
    assert.equal(executions() - before, 2, 'only the two blocking requests ran');
  });

  it('never computes a request the client cancels while it is queued', async () => {
    const before = executions();
    const blockers = [t.client.call('ModelInfer', slowRequest(30_000)), t.client.call('ModelInfer', slowRequest(30_000))];
    await waitUntil(() => servable().instances().every((instance) => instance.state === 'busy'), 'both instances run a blocker');
    const { call, result } = t.client.start('ModelInfer', slowRequest(10));
    await sleep(50);
    call.cancel();
    await assertGrpcError(result, status.CANCELLED, /Cancelled/);
    await Promise.all(blockers);
    await sleep(50);
    assert.equal(executions() - before, 2, 'only the two blocking requests ran');
  });

  it('a worker that dies fails only its in-flight request; the instance is replaced and serving goes on', async () => {
    const single = () => t.server.registry.get('slow_single', '').servable;
    const request = (iterations: number, seed: number) => ({ ...slowRequest(iterations, seed), model_name: 'slow_single' });
    const running = t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', request(20_000, 1));
    await waitUntil(() => single().instances()[0]?.state === 'busy', 'the long request runs');
    const [instance] = single().instances();
    // The worker reads the crash order after the running execution; the next one sent to it is lost.
    single().crashInstance(instance!.name);
    const queued = t.client.call('ModelInfer', request(10, 2));
    assert.deepEqual(readFloat32((await running).raw_output_contents[0]!), Array.from({ length: 16 }, (_, i) => 1 + i));
    await assertGrpcError(
      queued,
      status.INTERNAL,
      new RegExp(`^model instance '${instance!.name}' failed while running this request \\(worker exited with code 70\\); the instance is being replaced$`),
    );
    const after = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', request(10, 3));
    assert.deepEqual(readFloat32(after.raw_output_contents[0]!), Array.from({ length: 16 }, (_, i) => 3 + i));
    const [replaced] = single().instances();
    assert.equal(replaced!.restarts, 1);
    assert.equal(replaced!.state, 'idle');
  });
});
