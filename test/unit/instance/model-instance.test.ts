import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecutionRequest } from '../../../src/core/execution.js';
import { InferError } from '../../../src/core/errors.js';
import { ModelInstance } from '../../../src/instance/model-instance.js';
import { cpuPlan, fakeSpawner, floatTensor } from '../../helpers/fake-worker.js';
import { settle, silentLogger } from '../../helpers/scheduler-fakes.js';

const backend = { kind: 'identity', outputToInput: { Y: 'X' } } as const;

async function started() {
  const { spawn, workers } = fakeSpawner();
  const starting = ModelInstance.start(cpuPlan('m_0'), backend, silentLogger, spawn);
  const worker = workers[0]!;
  worker.send({ type: 'ready' });
  return { instance: await starting, worker };
}

function request(): ExecutionRequest {
  const x = floatTensor('X', [1, 2, 3]);
  // Two tensors over one buffer: the buffer must travel once.
  return { inputs: [x, { ...x, name: 'X2' }], outputNames: ['Y'], variant: 'fp32' };
}

describe('ModelInstance', () => {
  it('starts its worker with the plan and backend, and is idle once the worker says ready', async () => {
    const { instance, worker } = await started();
    assert.equal(worker.startup.instanceName, 'm_0');
    assert.deepEqual(worker.startup.backend, backend);
    assert.equal(instance.isIdle, true);
  });

  it('rejects start with the load error and terminates the worker', async () => {
    const { spawn, workers } = fakeSpawner();
    const starting = ModelInstance.start(cpuPlan('m_0'), backend, silentLogger, spawn);
    workers[0]!.send({ type: 'load-failed', message: 'no such file' });
    await assert.rejects(starting, /no such file/);
    assert.equal(workers[0]!.terminated, true);
  });

  it('sends a run with each input buffer transferred once, is busy until the result, and resolves with the outputs', async () => {
    const { instance, worker } = await started();
    const req = request();
    const running = instance.execute(req);
    assert.equal(instance.isIdle, false);
    const [run] = worker.runs;
    assert.equal(run!.type, 'run');
    assert.deepEqual(run!.outputNames, ['Y']);
    assert.deepEqual(worker.posted[0]!.transfer, [req.inputs[0]!.buffer]);
    await assert.rejects(instance.execute(request()), (err: InferError) => err.code === 'INTERNAL' && /busy/.test(err.message));
    const y = floatTensor('Y', [4]);
    worker.answer(run!, [y]);
    const result = await running;
    assert.deepEqual(result.outputs, [y]);
    assert.deepEqual(result.inputBuffers, [req.inputs[0]!.buffer]);
    assert.equal(instance.isIdle, true);
  });

  it('sends output buffers given back with the next run, in its transfer list, and none twice', async () => {
    const { instance, worker } = await started();
    const first = instance.execute(request());
    const y = floatTensor('Y', [4]);
    const z = { ...floatTensor('Z', [5]), buffer: y.buffer };
    worker.answer(worker.runs[0]!, [y, z]);
    const result = await first;
    result.giveBack!();
    const second = request();
    const running = instance.execute(second);
    assert.deepEqual(worker.runs[1]!.returned, [y.buffer]);
    assert.deepEqual(worker.posted[1]!.transfer, [second.inputs[0]!.buffer, y.buffer]);
    worker.answer(worker.runs[1]!);
    await running;
    const third = instance.execute(request());
    assert.equal(worker.runs[2]!.returned, undefined, 'given back once, sent once');
    worker.answer(worker.runs[2]!);
    await third;
  });

  it('keeps back no output buffer that also came back as an input buffer (the staging pool has it)', async () => {
    const { instance, worker } = await started();
    const req = request();
    const first = instance.execute(req);
    const x = req.inputs[0]!;
    worker.answer(worker.runs[0]!, [{ ...x, name: 'Y' }]);
    (await first).giveBack!();
    const next = instance.execute(request());
    assert.equal(worker.runs[1]!.returned, undefined);
    worker.answer(worker.runs[1]!);
    await next;
  });

  it('ignores a result for another run id', async () => {
    const { instance, worker } = await started();
    let settled = false;
    const running = instance.execute(request()).finally(() => (settled = true));
    const run = worker.runs[0]!;
    worker.answer({ ...run, runId: run.runId + 7 });
    await settle();
    assert.equal(settled, false);
    worker.answer(run);
    await running;
  });

  it('fails a run the backend refused with its error id', async () => {
    const { instance, worker } = await started();
    const running = instance.execute(request());
    const run = worker.runs[0]!;
    worker.send({ type: 'run-failed', runId: run.runId, errorId: 'BACKEND_ERROR', message: 'onnx runtime error: bad shape', inputBuffers: [] });
    await assert.rejects(running, (err: InferError) => err.id === 'BACKEND_ERROR' && /bad shape/.test(err.message));
    assert.equal(instance.isIdle, true);
  });

  it('fails the execution in flight with INSTANCE_FAILED when the worker dies, and tells its failure listener once', async () => {
    const { instance, worker } = await started();
    const reasons: string[] = [];
    instance.onFailure((reason) => reasons.push(reason));
    const running = instance.execute(request());
    worker.exit(70);
    await assert.rejects(running, (err: InferError) => err.id === 'INSTANCE_FAILED' && /code 70/.test(err.message));
    worker.exit(70);
    assert.deepEqual(reasons, ['worker exited with code 70']);
    assert.equal(instance.currentState, 'failed');
  });

  it('routes decoupled responses to the execution that asked, until responses-end', async () => {
    const { instance, worker } = await started();
    const seen: number[] = [];
    const running = instance.execute({ ...request(), onResponse: (r) => seen.push(r.index) });
    const run = worker.runs[0]!;
    assert.equal(run.decoupled, true);
    worker.answer(run);
    await running;
    worker.send({ type: 'response', runId: run.runId, index: 0, final: false });
    worker.send({ type: 'response', runId: run.runId, index: 1, final: true });
    worker.send({ type: 'responses-end', runId: run.runId });
    worker.send({ type: 'response', runId: run.runId, index: 2, final: true });
    assert.deepEqual(seen, [0, 1]);
  });

  it('stops only after the execution in flight has answered, then posts stop and waits for the exit', async () => {
    const { instance, worker } = await started();
    const running = instance.execute(request());
    let stopped = false;
    const stopping = instance.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false);
    assert.equal(worker.posted.some((p) => p.message.type === 'stop'), false);
    worker.answer(worker.runs[0]!);
    await running;
    await stopping;
    assert.equal(worker.posted.at(-1)!.message.type, 'stop');
    assert.equal(worker.terminated, false);
  });
});
