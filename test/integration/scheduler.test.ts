import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { EXAMPLE_REPOSITORY, scratchDirectory, testRepository } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { float32Bytes, int32Bytes, int64Bytes, readFloat32 } from '../helpers/tensors.js';

/** Copies of the `slow` fixture with one instance and the given dynamic_batching block. */
function batchingRepository(slowDir: string): string {
  const dir = scratchDirectory('batching');
  const base = readFileSync(path.join(slowDir, 'config.pbtxt'), 'utf8');
  const add = (name: string, batching: string) => {
    mkdirSync(path.join(dir, name, '1'), { recursive: true });
    copyFileSync(path.join(slowDir, '1', 'model.onnx'), path.join(dir, name, '1', 'model.onnx'));
    const config = base.replace('name: "slow"', `name: "${name}"`);
    writeFileSync(path.join(dir, name, 'config.pbtxt'), `${config}\ninstance_group [ { count: 1 kind: KIND_CPU } ]\ndynamic_batching { ${batching} }\n`);
  };
  add('batched', 'max_queue_delay_microseconds: 50000');
  add('bounded', 'default_queue_policy { max_queue_size: 1 }');
  add('timed', 'default_queue_policy { timeout_action: REJECT default_timeout_microseconds: 100000 allow_timeout_override: true }');
  add('prioritized', 'preferred_batch_size: [ 1 ] priority_levels: 2 default_priority_level: 2');
  return dir;
}

function slowRequest(model: string, iterations: number, extra: Record<string, unknown> = {}, seed = 0) {
  return {
    model_name: model,
    inputs: [
      { name: 'INPUT0', datatype: 'FP32', shape: [1, 16] },
      { name: 'DELAY', datatype: 'INT64', shape: [1, 1] },
    ],
    raw_input_contents: [float32Bytes(Array.from({ length: 16 }, (_, i) => seed + i)), int64Bytes([iterations])],
    ...extra,
  };
}

interface Duration {
  count: number;
  ns: number;
}
interface Stats {
  name: string;
  version: string;
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: Record<'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output', Duration>;
  batch_stats: { batch_size: number; compute_infer: Duration; main_thread: Duration; request_count: number }[];
}

describe('scheduling: dynamic batching, queue policies and ModelStatistics', () => {
  let t: TestServer;
  const stats = async (name: string) => (await t.client.call<{ model_stats: Stats[] }>('ModelStatistics', { name })).model_stats[0]!;
  const BLOCK = 20_000; // about half a second of loop iterations on one thread

  before(async () => {
    const tests = await testRepository();
    t = await startTestServer([EXAMPLE_REPOSITORY, batchingRepository(path.join(tests, 'slow'))]);
  });
  after(async () => {
    await t.stop();
  });

  /** Resolves once the model's only instance is running something. */
  const whenBusy = async (model: string) => {
    const instance = () => t.server.registry.get(model, '').servable.instances()[0]!;
    for (let i = 0; i < 200 && instance().state !== 'busy'; i++) await sleep(10);
    assert.equal(instance().state, 'busy', `${model} should be running the blocking request`);
  };

  it('forms one batch from the requests that queued while the instance was busy', async () => {
    const blocker = t.client.call('ModelInfer', slowRequest('batched', BLOCK));
    await whenBusy('batched');
    const answers = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((k) => t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', slowRequest('batched', 10, {}, k * 100))),
    );
    await blocker;
    answers.forEach((a, i) => assert.deepEqual(readFloat32(a.raw_output_contents[0]!), Array.from({ length: 16 }, (_, j) => (i + 1) * 100 + j), `answer ${i}`));
    const s = await stats('batched');
    assert.equal(s.inference_count, 7, 'items');
    assert.equal(s.execution_count, 2, 'executions');
    assert.deepEqual(
      s.batch_stats.map((b) => [b.batch_size, b.compute_infer.count]),
      [
        [1, 1],
        [6, 1],
      ],
      'batch sizes executed',
    );
    // Nereid's extension: main-thread time per batch size and the requests it served.
    assert.deepEqual(
      s.batch_stats.map((b) => [b.batch_size, b.main_thread.count, b.request_count]),
      [
        [1, 1, 1],
        [6, 1, 6],
      ],
      'main-thread executions and requests per batch size',
    );
    for (const b of s.batch_stats) assert.ok(b.main_thread.ns > 0, `main-thread time recorded for batch ${b.batch_size}`);
  });

  it('counts statistics exactly for a known sequence of requests sent one at a time', async () => {
    const request = (batch: number) => ({
      model_name: 'simple',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [batch, 16] },
        { name: 'INPUT1', datatype: 'INT32', shape: [batch, 16] },
      ],
      raw_input_contents: [int32Bytes(new Array(16 * batch).fill(1)), int32Bytes(new Array(16 * batch).fill(2))],
    });
    const before = Date.now();
    for (const batch of [1, 1, 3, 1]) await t.client.call('ModelInfer', request(batch));
    await assertGrpcError(
      t.client.call('ModelInfer', { ...request(1), model_version: '1', inputs: [], raw_input_contents: [] }),
      status.INVALID_ARGUMENT,
      /expected 2 inputs/,
    );
    const s = await stats('simple');
    assert.equal(s.name, 'simple');
    assert.equal(s.version, '1');
    assert.equal(s.inference_count, 6, 'items: 1 + 1 + 3 + 1');
    assert.equal(s.execution_count, 4, 'one execution per request: each arrives after the last finished');
    const is = s.inference_stats;
    for (const phase of ['success', 'queue', 'compute_input', 'compute_infer', 'compute_output'] as const) {
      assert.equal(is[phase].count, 4, `${phase} count`);
      assert.ok(is[phase].ns > 0, `${phase} ns`);
    }
    assert.equal(is.fail.count, 0, 'a request rejected by validation never reaches the scheduler');
    assert.ok(is.success.ns >= is.queue.ns + is.compute_infer.ns, 'success covers the phases');
    assert.deepEqual(
      s.batch_stats.map((b) => [b.batch_size, b.compute_infer.count]),
      [
        [1, 3],
        [3, 1],
      ],
      'per-batch-size executions',
    );
    assert.ok(s.last_inference >= before && s.last_inference <= Date.now(), 'last_inference is the last execution, ms since the epoch');
  });

  it('ModelStatistics: every ready model for an empty name; Triton errors otherwise', async () => {
    const all = await t.client.call<{ model_stats: Stats[] }>('ModelStatistics', {});
    const names = all.model_stats.map((s) => s.name);
    for (const name of ['simple', 'simple_identity', 'batched', 'timed']) assert.ok(names.includes(name), `${name} in ${names.join(',')}`);
    await assertGrpcError(t.client.call('ModelStatistics', { name: 'nope' }), status.INVALID_ARGUMENT, "requested model 'nope' is not available");
    await assertGrpcError(
      t.client.call('ModelStatistics', { name: 'simple', version: '9' }),
      status.INVALID_ARGUMENT,
      "requested model version is not available for model 'simple'",
    );
  });

  it('rejects at once when the queue is at max_queue_size', async () => {
    const blocker = t.client.call('ModelInfer', slowRequest('bounded', BLOCK));
    await whenBusy('bounded');
    const queued = t.client.call('ModelInfer', slowRequest('bounded', 10, { id: 'second' }));
    await sleep(20);
    await assertGrpcError(t.client.call('ModelInfer', slowRequest('bounded', 10, { id: 'third' })), status.UNAVAILABLE, '[request id: third] Exceeds maximum queue size');
    await Promise.all([blocker, queued]);
  });

  it('rejects a request whose queue timeout expires, without computing it; a request may lower its timeout', async () => {
    const before = (await stats('timed')).execution_count;
    const blocker = t.client.call('ModelInfer', slowRequest('timed', BLOCK));
    await whenBusy('timed');
    const started = Date.now();
    const lowered = assertGrpcError(
      t.client.call('ModelInfer', slowRequest('timed', 10, { parameters: { timeout: { int64_param: 20_000 } } })),
      status.UNAVAILABLE,
      'Request timeout expired',
    );
    await assertGrpcError(t.client.call('ModelInfer', slowRequest('timed', 10)), status.UNAVAILABLE, 'Request timeout expired');
    await lowered;
    assert.ok(Date.now() - started < 400, 'rejected by the queue policy, not after the blocker finished');
    await blocker;
    const s = await stats('timed');
    assert.equal(s.execution_count - before, 1, 'only the blocking request ran');
    assert.equal(s.inference_stats.fail.count, 2, 'both timed-out requests count as failures');
  });

  it('serves a higher priority first', async () => {
    const blocker = t.client.call('ModelInfer', slowRequest('prioritized', BLOCK));
    await whenBusy('prioritized');
    const finished: string[] = [];
    const send = (id: string, priority?: number) =>
      t.client
        .call('ModelInfer', slowRequest('prioritized', 500, { id, ...(priority === undefined ? {} : { parameters: { priority: { uint64_param: priority } } }) }))
        .then(() => finished.push(id));
    const low1 = send('low-1');
    const low2 = send('low-2');
    await sleep(20);
    const high = send('high', 1);
    await Promise.all([blocker, low1, low2, high]);
    assert.deepEqual(finished, ['high', 'low-1', 'low-2']);
  });

  it('never computes a request whose deadline passes while it is queued', async () => {
    const before = (await stats('batched')).execution_count;
    const blocker = t.client.call('ModelInfer', slowRequest('batched', BLOCK));
    await whenBusy('batched');
    await assertGrpcError(t.client.call('ModelInfer', slowRequest('batched', 10), { deadlineMs: 100 }), status.DEADLINE_EXCEEDED, /Deadline exceeded/);
    await blocker;
    await sleep(100);
    assert.equal((await stats('batched')).execution_count - before, 1, 'only the blocking request ran');
  });
});
