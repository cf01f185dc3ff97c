import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferError } from '../../../src/core/errors.js';
import type { InferResponse } from '../../../src/core/infer-request.js';
import { BatchRunner } from '../../../src/scheduler/batch-runner.js';
import { FifoScheduler } from '../../../src/scheduler/fifo-scheduler.js';
import { StagingPool } from '../../../src/scheduler/staging-pool.js';
import { StatisticsRecorder } from '../../../src/scheduler/statistics-recorder.js';
import { FakeClock, FakePool, identityModel, makeRequest, markerValues, readFloat32, seededRandom, settle, shuffled, silentLogger } from '../../helpers/scheduler-fakes.js';

interface Tracked {
  readonly controller: AbortController;
  status: 'pending' | 'fulfilled' | 'rejected';
  response?: InferResponse;
  error?: unknown;
}

function setup(maxBatchSize: number, instances = 1) {
  const model = identityModel(maxBatchSize);
  const clock = new FakeClock();
  const pool = new FakePool(clock, instances);
  const stats = new StatisticsRecorder();
  const runner = new BatchRunner(new StagingPool(1 << 20), stats, clock, silentLogger);
  const scheduler = new FifoScheduler(pool, runner, stats, clock);
  const send = (marker: number): Tracked => {
    const controller = new AbortController();
    const tracked: Tracked = { controller, status: 'pending' };
    scheduler.enqueue(makeRequest(model, marker), controller.signal).then(
      (response) => {
        tracked.status = 'fulfilled';
        tracked.response = response;
      },
      (error: unknown) => {
        tracked.status = 'rejected';
        tracked.error = error;
      },
    );
    return tracked;
  };
  return { model, pool, stats, scheduler, send };
}

describe('FifoScheduler', () => {
  for (const maxBatchSize of [0, 8]) {
    it(`runs one request per execution, in arrival order (max_batch_size ${maxBatchSize})`, async () => {
      const h = setup(maxBatchSize);
      const requests = [1, 2, 3].map((m) => h.send(m));
      await settle();
      assert.equal(h.pool.calls.length, 1, 'only one instance: one execution at a time');
      for (let i = 0; i < 3; i++) {
        const call = h.pool.calls[i]!;
        assert.deepEqual(call.markers, [i + 1], `execution ${i} holds request ${i + 1} alone`);
        assert.deepEqual(call.inputs[0]!.shape, maxBatchSize > 0 ? [1, 3] : [3], `execution ${i}: the request's own shape`);
        call.finish();
        await settle();
      }
      assert.equal(h.pool.calls.length, 3, 'three executions in all');
      for (const [i, r] of requests.entries()) {
        assert.equal(r.status, 'fulfilled', `r${i + 1} answered`);
        assert.equal(r.response!.id, `r${i + 1}`, `r${i + 1}: id echoed`);
        assert.deepEqual(readFloat32(r.response!.outputs[0]!.data), markerValues(i + 1, 1, 3), `r${i + 1}: its data`);
      }
      const s = h.stats.snapshot();
      assert.equal(s.executionCount, 3, 'three executions recorded');
      assert.equal(s.inferenceCount, 3, 'three items inferred');
    });
  }

  it('uses every idle instance', async () => {
    const h = setup(8, 2);
    h.send(1);
    h.send(2);
    h.send(3);
    await settle();
    assert.deepEqual(
      h.pool.calls.map((c) => c.markers),
      [[1], [2]],
      'the first two run at once, one per instance',
    );
    h.pool.calls[1]!.finish();
    await settle();
    assert.deepEqual(h.pool.calls[2]?.markers, [3], 'the third takes the instance that freed first');
  });

  it('drops a request aborted while queued: it rejects with the reason and never runs', async () => {
    const h = setup(8);
    h.send(1);
    const cancelled = h.send(2);
    const third = h.send(3);
    await settle();
    const reason = new InferError('DEADLINE_EXCEEDED', 'Deadline exceeded');
    cancelled.controller.abort(reason);
    await settle();
    assert.equal(cancelled.status, 'rejected', 'rejected at once');
    assert.equal(cancelled.error, reason, 'with the abort reason');
    assert.equal(h.scheduler.pending(), 1, 'r1 running, only r3 pending');
    h.pool.calls[0]!.finish();
    await settle();
    assert.deepEqual(h.pool.calls[1]!.markers, [3], 'r3 runs next; r2 never does');
    h.pool.calls[1]!.finish();
    await settle();
    assert.equal(third.status, 'fulfilled', 'r3 answered');
    assert.equal(h.pool.calls.length, 2, 'two executions in all');
    assert.equal(h.stats.snapshot().failures.CANCELED, 1, 'counted as CANCELED');
  });

  it('stop fails queued requests with SERVER_STOPPING and waits for the running one', async () => {
    const h = setup(8);
    const running = h.send(1);
    const queued = h.send(2);
    await settle();
    let stopped = false;
    const stopping = h.scheduler.stop().then(() => {
      stopped = true;
    });
    await settle();
    assert.ok(queued.error instanceof InferError && queued.error.id === 'SERVER_STOPPING', 'queued request fails with SERVER_STOPPING');
    assert.equal(stopped, false, 'stop waits for the running request');
    h.pool.calls[0]!.finish();
    await stopping;
    assert.equal(running.status, 'fulfilled', 'the running request completed');
    assert.equal(h.pool.calls.length, 1, 'the queued one never ran');
  });

  it('50,000 queued requests aborted in random order fail with their reason and never run; the rest run', async () => {
    const h = setup(8);
    h.send(900);
    await settle();
    const request = makeRequest(h.model, 5);
    const calls = Array.from({ length: 50_000 }, (_, i) => {
      const controller = new AbortController();
      const call = { i, controller, outcome: 'pending' as 'pending' | 'ok' | unknown };
      h.scheduler.enqueue(request, controller.signal).then(
        () => (call.outcome = 'ok'),
        (err: unknown) => (call.outcome = err),
      );
      return call;
    });
    assert.equal(h.scheduler.pending(), 50_000, 'all queued behind the busy instance');
    const reason = new InferError('DEADLINE_EXCEEDED', 'Deadline exceeded');
    const aborted = new Set(shuffled(calls, seededRandom(77)).slice(0, 49_997));
    for (const call of aborted) call.controller.abort(reason);
    await settle();
    assert.equal(h.scheduler.pending(), 3, 'three are left');
    assert.ok([...aborted].every((call) => call.outcome === reason), 'every aborted request failed with its abort reason');
    for (let k = 0; k < 4; k++) {
      h.pool.running[0]!.finish();
      await settle();
    }
    assert.equal(h.pool.calls.length, 4, 'the blocker and the three survivors ran, nothing aborted');
    const survivors = calls.filter((call) => !aborted.has(call));
    assert.ok(survivors.every((call) => call.outcome === 'ok'), 'the survivors were answered');
    assert.equal(h.scheduler.pending(), 0, 'the queue is empty');
    assert.equal(h.stats.snapshot().failures.CANCELED, 49_997, 'each abort counted once');
  });
});
