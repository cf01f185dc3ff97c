import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DynamicBatchingPolicy, QueuePolicy } from '../../../src/core/batching-policy.js';
import { InferError } from '../../../src/core/errors.js';
import type { InferResponse } from '../../../src/core/infer-request.js';
import type { ModelInfo } from '../../../src/core/model-info.js';
import { BatchRunner } from '../../../src/scheduler/batch-runner.js';
import { DynamicBatcher } from '../../../src/scheduler/dynamic-batcher.js';
import { StagingPool } from '../../../src/scheduler/staging-pool.js';
import { StatisticsRecorder } from '../../../src/scheduler/statistics-recorder.js';
import {
  countReads,
  FakeClock,
  FakePool,
  identityModel,
  makeRequest,
  markerValues,
  readFloat32,
  seededRandom,
  settle,
  shuffled,
  silentLogger,
  type RequestOptions,
} from '../../helpers/scheduler-fakes.js';

interface Setup {
  readonly maxBatchSize?: number;
  readonly preferred?: number[];
  readonly delayUs?: number;
  readonly preserveOrdering?: boolean;
  readonly priorityLevels?: number;
  readonly defaultPriorityLevel?: number;
  readonly queue?: Partial<QueuePolicy>;
  readonly levelQueues?: ReadonlyMap<number, QueuePolicy>;
  readonly instances?: number;
  /** The model also serves int8. */
  readonly int8?: boolean;
}

interface Tracked {
  readonly marker: number;
  readonly controller: AbortController;
  readonly promise: Promise<InferResponse>;
  status: 'pending' | 'fulfilled' | 'rejected';
  response?: InferResponse;
  error?: unknown;
}

/** A DynamicBatcher on a fake clock and fake instances, with a real runner, staging pool and statistics. */
function setup(options: Setup = {}) {
  const maxBatchSize = options.maxBatchSize ?? 8;
  const model: ModelInfo = identityModel(maxBatchSize, options.int8 ?? false);
  const policy: DynamicBatchingPolicy = {
    maxBatchSize,
    preferredBatchSizes: options.preferred ?? [maxBatchSize],
    maxQueueDelayUs: options.delayUs ?? 0,
    preserveOrdering: options.preserveOrdering ?? false,
    priorityLevels: options.priorityLevels ?? 0,
    defaultPriorityLevel: options.defaultPriorityLevel ?? 0,
    defaultQueuePolicy: { timeoutAction: 'reject', defaultTimeoutUs: 0, allowTimeoutOverride: false, maxQueueSize: 0, ...options.queue },
    priorityQueuePolicy: options.levelQueues ?? new Map(),
  };
  const clock = new FakeClock();
  const pool = new FakePool(clock, options.instances ?? 1);
  const stats = new StatisticsRecorder();
  const staging = new StagingPool(1 << 20);
  const runner = new BatchRunner(staging, stats, clock, silentLogger);
  const batcher = new DynamicBatcher(pool, runner, policy, stats, clock);
  /** Markers in the order their promises settled. */
  const settled: number[] = [];

  function send(marker: number, request: RequestOptions & { signal?: AbortSignal } = {}): Tracked {
    const controller = new AbortController();
    const promise = batcher.enqueue(makeRequest(model, marker, request), request.signal ?? controller.signal);
    const tracked: Tracked = { marker, controller, promise, status: 'pending' };
    promise.then(
      (response) => {
        tracked.status = 'fulfilled';
        tracked.response = response;
        settled.push(marker);
      },
      (error: unknown) => {
        tracked.status = 'rejected';
        tracked.error = error;
        settled.push(marker);
      },
    );
    return tracked;
  }

  /** Occupies every instance with one request each (markers 900, 901, ...). */
  async function occupy(): Promise<Tracked[]> {
    const count = pool.idle;
    const blockers: Tracked[] = [];
    for (let i = 0; i < count; i++) {
      blockers.push(send(900 + i));
      await settle();
    }
    assert.equal(pool.idle, 0, 'every instance is busy with a blocker');
    return blockers;
  }

  return { model, clock, pool, stats, staging, runner, batcher, send, occupy, settled, t0: clock.now() };
}

function assertInferError(value: unknown, id: string, code: string, message: string | undefined, what: string): void {
  assert.ok(value instanceof InferError, `${what}: an InferError (got ${String(value)})`);
  assert.equal(value.id, id, `${what}: id`);
  assert.equal(value.code, code, `${what}: code`);
  if (message !== undefined) assert.equal(value.message, message, `${what}: message`);
}

describe('DynamicBatcher', () => {
  describe('batch formation', () => {
    it('runs what queued behind a busy instance as one batch, and gives each request its own slice', async () => {
      const h = setup();
      await h.occupy();
      const requests = [1, 2, 3, 4, 5].map((m) => h.send(m));
      await settle();
      assert.equal(h.pool.calls.length, 1, 'nothing more runs while the only instance is busy');
      h.pool.calls[0]!.finish();
      await settle();
      assert.equal(h.pool.calls.length, 2, 'one more execution once the instance is free');
      const batch = h.pool.calls[1]!;
      assert.deepEqual(batch.markers, [1, 2, 3, 4, 5], 'all five requests, in arrival order');
      assert.deepEqual(batch.inputs[0]!.shape, [5, 3], 'batch input shape [5,3]');
      batch.finish();
      await settle();
      for (const r of requests) {
        assert.equal(r.status, 'fulfilled', `r${r.marker} answered`);
        const response = r.response!;
        assert.equal(response.id, `r${r.marker}`, `r${r.marker}: its id is echoed`);
        assert.equal(response.modelName, 'ident', `r${r.marker}: model name`);
        assert.equal(response.outputs.length, 1, `r${r.marker}: one output`);
        const y = response.outputs[0]!;
        assert.equal(y.name, 'Y', `r${r.marker}: output Y`);
        assert.deepEqual(y.shape, [1, 3], `r${r.marker}: its own shape`);
        assert.deepEqual(readFloat32(y.data), markerValues(r.marker, 1, 3), `r${r.marker}: its own data`);
      }
    });

    it('never mixes precisions in a batch, and counts each precision apart', async () => {
      const h = setup({ int8: true });
      await h.occupy();
      const requests = [1, 2, 3, 4].map((m) => h.send(m, { precision: m % 2 === 0 ? 'int8' : 'fp32' }));
      h.pool.calls[0]!.finish();
      await settle();
      assert.deepEqual([h.pool.calls[1]!.markers, h.pool.calls[1]!.variant], [[1, 3], 'fp32'], 'the fp32 requests first, together');
      h.pool.calls[1]!.finish();
      await settle();
      assert.deepEqual([h.pool.calls[2]!.markers, h.pool.calls[2]!.variant], [[2, 4], 'int8'], 'then the int8 ones');
      h.pool.calls[2]!.finish();
      await settle();
      assert.ok(requests.every((r) => r.status === 'fulfilled'));
      const counts = h.stats.snapshot().precisions.map((p) => [p.precision, p.inferenceCount, p.executionCount, p.success.count]);
      assert.deepEqual(counts, [
        ['fp32', 3, 2, 3],
        ['int8', 2, 1, 2],
      ]);
      assert.equal(h.stats.snapshot().executionCount, 3);
    });

    it('slices multi-item requests by their own batch size', async () => {
      const h = setup();
      await h.occupy();
      const a = h.send(1, { rows: 2 });
      const b = h.send(2, { rows: 3 });
      h.pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[1]!.inputs[0]!.shape, [5, 3], '2 + 3 items in one batch');
      h.pool.calls[1]!.finish();
      await settle();
      assert.deepEqual(a.response?.outputs[0]?.shape, [2, 3], 'r1 gets 2 items');
      assert.deepEqual(readFloat32(a.response!.outputs[0]!.data), markerValues(1, 2, 3), 'r1 data');
      assert.deepEqual(b.response?.outputs[0]?.shape, [3, 3], 'r2 gets 3 items');
      assert.deepEqual(readFloat32(b.response!.outputs[0]!.data), markerValues(2, 3, 3), 'r2 data');
    });

    it('runs a request at once when an instance is idle and no delay is set', async () => {
      const h = setup();
      const r = h.send(1);
      await settle();
      assert.equal(h.pool.calls.length, 1, 'executed at once');
      assert.deepEqual(h.pool.calls[0]!.markers, [1], 'alone');
      h.pool.calls[0]!.finish();
      await settle();
      assert.equal(r.status, 'fulfilled', 'answered');
    });

    it('never puts more than max_batch_size items in a batch', async () => {
      const h = setup({ maxBatchSize: 4 });
      await h.occupy();
      for (let m = 1; m <= 6; m++) h.send(m);
      h.pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[1]!.markers, [1, 2, 3, 4], 'first 4');
      h.pool.calls[1]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[2]!.markers, [5, 6], 'then the rest');
    });

    it('fills every idle instance', async () => {
      const h = setup({ instances: 2, maxBatchSize: 2 });
      await h.occupy();
      for (let m = 1; m <= 4; m++) h.send(m);
      h.pool.calls[0]!.finish();
      h.pool.calls[1]!.finish();
      await settle();
      assert.deepEqual(
        h.pool.calls.slice(2).map((c) => c.markers),
        [
          [1, 2],
          [3, 4],
        ],
        'both instances get a batch',
      );
    });
  });

  describe('preferred_batch_size', () => {
    it('sends 4 then 1 of 5 queued with preferred [2,4]', async () => {
      const h = setup({ preferred: [2, 4] });
      await h.occupy();
      for (let m = 1; m <= 5; m++) h.send(m);
      h.pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[1]!.markers, [1, 2, 3, 4], 'a batch of 4 first');
      assert.equal(h.pool.calls.length, 2, 'the last one waits for the instance');
      h.pool.calls[1]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[2]!.markers, [5], 'then a batch of 1');
    });
  });

  describe('max_queue_delay', () => {
    it('holds a lone request for the delay while an instance is idle', async () => {
      const h = setup({ preferred: [4], delayUs: 10_000 });
      const r = h.send(1);
      await h.clock.advance(9);
      assert.equal(h.pool.calls.length, 0, 'nothing runs after 9 ms');
      await h.clock.advance(1);
      assert.equal(h.pool.calls.length, 1, 'it runs at 10 ms');
      assert.deepEqual(h.pool.calls[0]!.markers, [1], 'alone');
      h.pool.calls[0]!.finish();
      await settle();
      assert.equal(r.status, 'fulfilled', 'answered');
    });

    it('counts the delay from the oldest request, and takes the later ones along', async () => {
      const h = setup({ preferred: [4], delayUs: 10_000 });
      h.send(1);
      await h.clock.advance(5);
      h.send(2);
      await h.clock.advance(4.5);
      assert.equal(h.pool.calls.length, 0, 'nothing at 9.5 ms');
      await h.clock.advance(0.5);
      assert.equal(h.pool.calls.length, 1, 'one batch at 10 ms after the first');
      assert.deepEqual(h.pool.calls[0]!.markers, [1, 2], 'both requests');
    });

    it('sends the largest preferred size at once, without waiting', async () => {
      const h = setup({ preferred: [4], delayUs: 10_000 });
      for (let m = 1; m <= 3; m++) h.send(m);
      await settle();
      assert.equal(h.pool.calls.length, 0, '3 requests wait');
      h.send(4);
      await settle();
      assert.equal(h.pool.calls.length, 1, 'the 4th completes a preferred batch: it runs without advancing the clock');
      assert.deepEqual(h.pool.calls[0]!.markers, [1, 2, 3, 4], 'all four');
      assert.equal(h.clock.pendingTimers, 0, 'no delay timer is left armed');
    });

    it('sends a preferred batch gathered behind a busy instance the moment it frees', async () => {
      const h = setup({ preferred: [4], delayUs: 10_000 });
      h.send(900); // the blocker itself waits out the delay
      await h.clock.advance(10);
      assert.equal(h.pool.calls.length, 1, 'blocker runs');
      for (let m = 1; m <= 4; m++) h.send(m);
      await h.clock.advance(1);
      h.pool.calls[0]!.finish();
      await settle();
      assert.equal(h.pool.calls.length, 2, 'the preferred batch runs when the instance frees, 1 ms after queueing');
      assert.deepEqual(h.pool.calls[1]!.markers, [1, 2, 3, 4], 'the four queued requests');
    });

    it('sends the smaller preferred size at once with preferred [2,4]', async () => {
      const h = setup({ preferred: [2, 4], delayUs: 10_000 });
      h.send(1);
      await settle();
      assert.equal(h.pool.calls.length, 0, 'one request waits');
      h.send(2);
      await settle();
      assert.deepEqual(h.pool.calls[0]?.markers, [1, 2], 'two reach a preferred size and run at once');
    });
  });

  describe('priorities', () => {
    it('puts a later level-1 request ahead of earlier level-2 ones', async () => {
      const h = setup({ maxBatchSize: 2, priorityLevels: 2, defaultPriorityLevel: 2 });
      await h.occupy();
      h.send(1, { priority: 2 });
      h.send(2); // 0 = the default level, 2
      h.send(3, { priority: 2 });
      h.send(4, { priority: 1 });
      h.pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[1]!.markers, [4, 1], 'the level-1 request first, then the oldest level-2 one');
      h.pool.calls[1]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[2]!.markers, [2, 3], 'then the other level-2 requests');
    });
  });

  describe('queue policy', () => {
    it('REJECT: a request that outwaits its timeout fails and never runs', async () => {
      const h = setup({ queue: { defaultTimeoutUs: 1000 } });
      const [blocker] = await h.occupy();
      const r = h.send(1);
      await h.clock.advance(0.5);
      assert.equal(r.status, 'pending', 'still queued at 0.5 ms');
      await h.clock.advance(1);
      assert.equal(r.status, 'rejected', 'failed once the timeout passed, while the instance is still busy');
      assertInferError(r.error, 'QUEUE_TIMEOUT', 'UNAVAILABLE', 'Request timeout expired', 'timed-out request');
      h.pool.calls[0]!.finish();
      await settle();
      assert.equal(blocker!.status, 'fulfilled', 'the running request was not affected');
      assert.equal(h.pool.calls.length, 1, 'the timed-out request never reached an instance');
      assert.equal(h.batcher.pending(), 0, 'nothing pending');
    });

    it('REJECT: a request may lower the timeout with its own `timeout` parameter', async () => {
      const h = setup({ queue: { defaultTimeoutUs: 0, allowTimeoutOverride: true } });
      await h.occupy();
      const short = h.send(1, { timeoutUs: 2000 });
      const none = h.send(2);
      await h.clock.advance(1.5);
      assert.equal(short.status, 'pending', 'pending at 1.5 ms');
      await h.clock.advance(1);
      assert.equal(short.status, 'rejected', 'rejected after its 2 ms');
      assertInferError(short.error, 'QUEUE_TIMEOUT', 'UNAVAILABLE', 'Request timeout expired', 'overridden timeout');
      assert.equal(none.status, 'pending', 'a request without timeout stays');
      h.pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[1]!.markers, [2], 'only the request without timeout runs');
    });

    it('DELAY: a timed-out request runs after requests that have not timed out', async () => {
      const h = setup({ maxBatchSize: 1, queue: { defaultTimeoutUs: 1000, timeoutAction: 'delay' } });
      await h.occupy();
      const late = h.send(1);
      await h.clock.advance(2); // r1 timed out at 1 ms
      const fresh = h.send(2);
      await h.clock.advance(0.5); // r2 has waited 0.5 ms of its 1 ms
      assert.equal(late.status, 'pending', 'DELAY does not fail the request');
      h.pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[1]!.markers, [2], 'the fresh request runs first');
      h.pool.calls[1]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[2]!.markers, [1], 'the delayed one after it');
      h.pool.calls[2]!.finish();
      await settle();
      assert.equal(late.status, 'fulfilled', 'the delayed request is answered');
      assert.equal(fresh.status, 'fulfilled', 'the fresh request is answered');
    });

    it('DELAY: a timed-out request goes last in a batch', async () => {
      const h = setup({ queue: { defaultTimeoutUs: 1000, timeoutAction: 'delay' } });
      await h.occupy();
      h.send(1);
      await h.clock.advance(2);
      h.send(2);
      h.send(3);
      h.pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[1]!.markers, [2, 3, 1], 'r1 (timed out) behind r2 and r3');
    });

    it('max_queue_size: a request beyond it fails at once with QUEUE_FULL', async () => {
      const h = setup({ queue: { maxQueueSize: 2 } });
      await h.occupy();
      const a = h.send(1);
      const b = h.send(2);
      const c = h.send(3);
      await settle();
      assert.equal(c.status, 'rejected', 'the third request fails without the clock moving');
      assertInferError(c.error, 'QUEUE_FULL', 'UNAVAILABLE', '[request id: r3] Exceeds maximum queue size', 'queue full');
      assert.equal(a.status, 'pending', 'r1 stays queued');
      assert.equal(b.status, 'pending', 'r2 stays queued');
      h.pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[1]!.markers, [1, 2], 'the two accepted requests run; r3 never does');
      assert.equal(h.stats.snapshot().failures.REJECTED, 1, 'counted as REJECTED');
    });

    it(
      'max_queue_size with preserve_ordering: QUEUE_FULL still fails at once, not after earlier requests finish',
      async () => {
        const h = setup({ preserveOrdering: true, queue: { maxQueueSize: 1 } });
        await h.occupy();
        h.send(1);
        const c = h.send(2);
        await settle();
        assert.equal(c.status, 'rejected', 'QUEUE_FULL is not held back behind r900 and r1');
      },
    );
  });

  describe('preserve_ordering', () => {
    async function twoBatchesFinishingOutOfOrder(preserveOrdering: boolean) {
      const h = setup({ instances: 2, preserveOrdering });
      const a = h.send(1);
      await settle();
      const b = h.send(2);
      await settle();
      assert.equal(h.pool.calls.length, 2, 'one batch on each instance');
      h.pool.calls[1]!.finish(); // B first
      await settle();
      return { h, a, b };
    }

    it('holds a later batch’s responses until the earlier batch’s are delivered', async () => {
      const { h, a, b } = await twoBatchesFinishingOutOfOrder(true);
      assert.equal(b.status, 'pending', 'B finished first but is not delivered before A');
      h.pool.calls[0]!.finish();
      await settle();
      assert.equal(a.status, 'fulfilled', 'A delivered');
      assert.equal(b.status, 'fulfilled', 'B delivered');
      assert.deepEqual(h.settled, [1, 2], 'A before B');
      assert.deepEqual(readFloat32(b.response!.outputs[0]!.data), markerValues(2, 1, 3), 'B still has its own data');
    });

    it('without it, delivers responses as batches finish', async () => {
      const { h, b } = await twoBatchesFinishingOutOfOrder(false);
      assert.equal(b.status, 'fulfilled', 'B delivered at once');
      h.pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(h.settled, [2, 1], 'B before A');
    });
  });

  describe('cancellation', () => {
    it('a request aborted while queued rejects with the abort reason and never runs', async () => {
      const h = setup();
      await h.occupy();
      const keep = h.send(1);
      const cancel = h.send(2);
      const reason = new InferError('DEADLINE_EXCEEDED', 'Deadline exceeded');
      cancel.controller.abort(reason);
      await settle();
      assert.equal(cancel.status, 'rejected', 'rejected at once');
      assert.equal(cancel.error, reason, 'with the very abort reason');
      h.pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[1]!.markers, [1], 'the aborted request is not in the batch');
      h.pool.calls[1]!.finish();
      await settle();
      assert.equal(keep.status, 'fulfilled', 'the other request is answered');
      assert.equal(h.pool.calls.length, 2, 'no execution for the aborted request');
      assert.equal(h.stats.snapshot().failures.CANCELED, 1, 'counted as CANCELED');
    });

    it('an abort without an InferError reason rejects with REQUEST_CANCELLED', async () => {
      const h = setup();
      await h.occupy();
      const r = h.send(1);
      r.controller.abort();
      await settle();
      assertInferError(r.error, 'REQUEST_CANCELLED', 'CANCELLED', undefined, 'plain abort');
    });

    it('a signal aborted before enqueue rejects at once and never runs', async () => {
      const h = setup();
      const controller = new AbortController();
      const reason = new InferError('DEADLINE_EXCEEDED', 'Deadline exceeded');
      controller.abort(reason);
      const r = h.send(1, { signal: controller.signal });
      await settle();
      assert.equal(r.error, reason, 'rejected with the reason');
      assert.equal(h.pool.calls.length, 0, 'never executed');
    });

    it('a request aborted while its batch runs stays rejected; the others get their results', async () => {
      const h = setup();
      await h.occupy();
      const cancel = h.send(1);
      const keep = h.send(2);
      h.pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(h.pool.calls[1]!.markers, [1, 2], 'both run together');
      const reason = new InferError('DEADLINE_EXCEEDED', 'Deadline exceeded');
      cancel.controller.abort(reason);
      await settle();
      assert.equal(cancel.status, 'rejected', 'rejected as soon as it aborts');
      assert.equal(cancel.error, reason, 'with the abort reason');
      h.pool.calls[1]!.finish();
      await settle();
      assert.equal(cancel.status, 'rejected', 'the late result is dropped');
      assert.equal(cancel.error, reason, 'still the abort reason');
      assert.equal(keep.status, 'fulfilled', 'the other request is answered');
      assert.deepEqual(readFloat32(keep.response!.outputs[0]!.data), markerValues(2, 1, 3), 'with its own slice');
    });

    it('an abort that empties the queue cancels the delay timer', async () => {
      const h = setup({ preferred: [4], delayUs: 10_000 });
      const r = h.send(1);
      await settle();
      assert.equal(h.clock.pendingTimers, 1, 'a delay timer is armed');
      r.controller.abort();
      await settle();
      assert.equal(h.clock.pendingTimers, 0, 'no timer once the queue is empty');
      await h.clock.advance(20);
      assert.equal(h.pool.calls.length, 0, 'nothing ever runs');
    });
  });

  describe('shapes', () => {
    it('never batches requests with different non-batch shapes', async () => {
      const h = setup();
      await h.occupy();
      h.send(1, { width: 3 });
      h.send(2, { width: 5 });
      h.send(3, { width: 3 });
      h.send(4, { width: 5 });
      for (let i = 0; i < 10 && h.pool.running.length > 0; i++) {
        h.pool.running[0]!.finish();
        await settle();
      }
      const batches = h.pool.calls.slice(1);
      assert.equal(h.pool.running.length, 0, 'everything ran');
      assert.deepEqual(batches.map((c) => c.markers).flat().sort(), [1, 2, 3, 4], 'every request ran once');
      for (const batch of batches) {
        const width = batch.inputs[0]!.shape[1];
        assert.equal(batch.inputs[0]!.values.length, batch.inputs[0]!.shape[0]! * width!, `batch ${batch.markers.join(',')}: values fit its shape`);
        const expected = batch.markers.map((m) => (m % 2 === 1 ? 3 : 5));
        assert.ok(expected.every((w) => w === width), `batch ${batch.markers.join(',')} holds one shape only (width ${width})`);
      }
      assert.deepEqual(batches[0]!.markers, [1], 'the first batch stops at the first request of another shape');
    });
  });

  describe('statistics', () => {
    it('records counts and durations on the fake clock', async () => {
      const h = setup({ queue: { allowTimeoutOverride: true } });
      const t0 = h.t0;
      h.send(1); // runs at once: batch of 1, dispatched at t0
      h.send(2);
      h.send(3);
      h.send(4);
      const timedOut = h.send(5, { timeoutUs: 1000 }); // rejected at t0 + 1
      await settle();
      await h.clock.advance(4);
      assert.equal(timedOut.status, 'rejected', 'r5 timed out');
      // Batch 1: dispatched t0, compute t0+1..t0+3, ends t0+4.
      h.pool.calls[0]!.finish({ start: t0 + 1, end: t0 + 3 });
      await settle();
      assert.deepEqual(h.pool.calls[1]!.markers, [2, 3, 4], 'batch of 3 dispatched at t0+4');
      await h.clock.advance(6);
      // Batch 2: dispatched t0+4, compute t0+5..t0+8, ends t0+10.
      h.pool.calls[1]!.finish({ start: t0 + 5, end: t0 + 8 });
      await settle();

      const s = h.stats.snapshot();
      const ms = (x: number) => BigInt(x * 1e6);
      assert.equal(s.inferenceCount, 4, 'inferenceCount');
      assert.equal(s.executionCount, 2, 'executionCount');
      assert.deepEqual(s.success, { count: 4, ns: ms(4 + 3 * 10) }, 'success: r1 4 ms, r2..r4 10 ms each');
      assert.deepEqual(s.fail, { count: 1, ns: ms(1) }, 'fail: r5 after 1 ms');
      assert.deepEqual(s.queue, { count: 4, ns: ms(0 + 3 * 4) }, 'queue: r1 0 ms, r2..r4 4 ms each');
      assert.deepEqual(s.computeInput, { count: 4, ns: ms(1 + 3 * 1) }, 'compute_input: 1 ms per request');
      assert.deepEqual(s.computeInfer, { count: 4, ns: ms(2 + 3 * 3) }, 'compute_infer: the fake compute timing, per request');
      assert.deepEqual(s.computeOutput, { count: 4, ns: ms(1 + 3 * 2) }, 'compute_output: result to responses');
      assert.deepEqual(
        s.batches,
        [
          {
            batchSize: 1,
            computeInput: { count: 1, ns: ms(1) },
            computeInfer: { count: 1, ns: ms(2) },
            computeOutput: { count: 1, ns: ms(1) },
            mainThread: { count: 1, ns: 0n },
            requests: 1,
          },
          {
            batchSize: 3,
            computeInput: { count: 1, ns: ms(1) },
            computeInfer: { count: 1, ns: ms(3) },
            computeOutput: { count: 1, ns: ms(2) },
            mainThread: { count: 1, ns: 0n },
            requests: 3,
          },
        ],
        'one execution each of sizes 1 and 3 (the fake clock does not move on the main thread)',
      );
      assert.deepEqual(s.failures, { REJECTED: 1, CANCELED: 0, BACKEND: 0, OTHER: 0 }, 'one REJECTED failure');
      assert.ok(s.lastInference > 0, 'lastInference is set');
    });
  });

  describe('execution failure', () => {
    it('fails every request of the batch with the execution’s error and goes on', async () => {
      const h = setup();
      await h.occupy();
      const a = h.send(1);
      const b = h.send(2);
      h.pool.calls[0]!.finish();
      await settle();
      h.pool.calls[1]!.fail(new InferError('BACKEND_ERROR', 'boom'));
      await settle();
      assertInferError(a.error, 'BACKEND_ERROR', 'INTERNAL', 'boom', 'r1');
      assertInferError(b.error, 'BACKEND_ERROR', 'INTERNAL', 'boom', 'r2');
      const c = h.send(3);
      await settle();
      h.pool.calls[2]!.finish();
      await settle();
      assert.equal(c.status, 'fulfilled', 'the next request runs normally');
      assert.equal(h.stats.snapshot().failures.BACKEND, 2, 'two BACKEND failures');
    });
  });

  describe('pending', () => {
    it('counts queued requests, not the running one', async () => {
      const h = setup();
      await h.occupy();
      h.send(1);
      h.send(2);
      assert.equal(h.batcher.pending(), 2, 'two queued behind the running blocker');
    });

    it('leaves out every request of a running batch', async () => {
      const h = setup();
      await h.occupy();
      for (let m = 1; m <= 3; m++) h.send(m);
      h.pool.calls[0]!.finish();
      await settle();
      h.send(4);
      h.send(5);
      assert.equal(h.batcher.pending(), 2, 'a batch of 3 running and 2 queued: 2 pending');
    });
  });

  describe('stop', () => {
    it('fails queued requests with SERVER_STOPPING and resolves after the running batch completes', async () => {
      const h = setup();
      const [blocker] = await h.occupy();
      const a = h.send(1);
      const b = h.send(2);
      let stopped = false;
      const stopping = h.batcher.stop().then(() => {
        stopped = true;
      });
      await settle();
      assertInferError(a.error, 'SERVER_STOPPING', 'UNAVAILABLE', undefined, 'queued r1');
      assertInferError(b.error, 'SERVER_STOPPING', 'UNAVAILABLE', undefined, 'queued r2');
      assert.equal(stopped, false, 'stop waits for the running batch');
      const late = h.send(3);
      await settle();
      assertInferError(late.error, 'SERVER_STOPPING', 'UNAVAILABLE', undefined, 'a request after stop');
      h.pool.calls[0]!.finish();
      await stopping;
      assert.equal(stopped, true, 'stop resolved');
      assert.equal(blocker!.status, 'fulfilled', 'the running request completed');
      assert.equal(h.pool.calls.length, 1, 'nothing else ran');
      assert.equal(h.stats.snapshot().failures.REJECTED, 2, 'the two queued requests count as REJECTED');
    });

    it('cancels a pending delay timer', async () => {
      const h = setup({ preferred: [4], delayUs: 10_000 });
      const r = h.send(1);
      await settle();
      await h.batcher.stop();
      assertInferError(r.error, 'SERVER_STOPPING', 'UNAVAILABLE', undefined, 'delayed request');
      assert.equal(h.clock.pendingTimers, 0, 'no timer left');
      await h.clock.advance(20);
      assert.equal(h.pool.calls.length, 0, 'nothing ran');
    });
  });

  describe('overload: no event walks the queue', () => {
    it('an enqueue, an abort and a dispatched batch read as many queued requests with 10, 1,000 or 100,000 queued', async () => {
      const h = setup({ queue: { defaultTimeoutUs: 60_000_000, allowTimeoutOverride: true } });
      await h.occupy();
      const counter = { reads: 0 };
      // Every queued request is the same validated request behind a read-counting proxy.
      const request = countReads(makeRequest(h.model, 7), counter);
      const controllers: AbortController[] = [];
      const enqueue = () => {
        const controller = new AbortController();
        h.batcher.enqueue(request, controller.signal).catch(() => {});
        controllers.push(controller);
      };
      const reads = async (operation: () => void) => {
        const before = counter.reads;
        operation();
        await settle();
        return counter.reads - before;
      };
      // From here on every execution holds 8 counted requests: the blocker leaves with the first.
      for (let i = 0; i < 8; i++) enqueue();
      h.pool.running[0]!.finish();
      await settle();
      const random = seededRandom(9);
      const costs: { n: number; enqueue: number; abort: number; dispatch: number }[] = [];
      for (const n of [10, 1000, 100_000]) {
        while (h.batcher.pending() < n) enqueue();
        const enqueueReads = await reads(enqueue);
        // The queued requests are the last `pending()` controllers, in queue order: abort one of them.
        const queued = h.batcher.pending();
        const victim = controllers.splice(controllers.length - queued + Math.floor(random() * queued), 1)[0]!;
        const abortReads = await reads(() => victim.abort());
        const dispatchReads = await reads(() => h.pool.running[0]!.finish());
        assert.equal(h.pool.running.length, 1, 'the next batch runs');
        assert.equal(h.pool.calls.at(-1)!.inputs[0]!.shape[0], 8, 'a full batch of 8');
        costs.push({ n, enqueue: enqueueReads, abort: abortReads, dispatch: dispatchReads });
        // Checked before the queue grows further: a batcher that walks the queue would take minutes to reach 100,000.
        const first = costs[0]!;
        assert.deepEqual({ ...costs.at(-1)!, n: first.n }, first, `reads with ${n} queued equal those with ${first.n}: ${JSON.stringify(costs)}`);
      }
      assert.ok(costs[0]!.enqueue < 20 && costs[0]!.abort < 20, `an enqueue or an abort reads a handful of fields: ${JSON.stringify(costs[0])}`);
    });

    it('50,000 queued requests aborted in random order all fail with their reason, never run, and the rest run in order', async () => {
      const h = setup({ maxBatchSize: 8 });
      await h.occupy();
      const request = makeRequest(h.model, 5);
      const calls = Array.from({ length: 50_000 }, (_, i) => {
        const controller = new AbortController();
        const call = { i, controller, outcome: 'pending' as 'pending' | 'ok' | InferError };
        h.batcher.enqueue(request, controller.signal).then(
          () => (call.outcome = 'ok'),
          (err: InferError) => (call.outcome = err),
        );
        return call;
      });
      assert.equal(h.batcher.pending(), 50_000, 'all queued behind the busy instance');
      const random = seededRandom(1234);
      const aborted = shuffled(calls, random).slice(0, 49_990);
      const reason = new InferError('DEADLINE_EXCEEDED', 'Deadline exceeded');
      aborted.forEach((call, k) => {
        call.controller.abort(reason);
        if (k % 10_000 === 0) assert.equal(h.batcher.pending(), 50_000 - k - 1, `pending follows after ${k + 1} aborts`);
      });
      await settle();
      assert.equal(h.batcher.pending(), 10, 'ten are left');
      assert.ok(aborted.every((call) => call.outcome === reason), 'every aborted request failed with its abort reason');
      h.pool.running[0]!.finish();
      await settle();
      h.pool.running[0]!.finish();
      await settle();
      h.pool.running[0]!.finish();
      await settle();
      assert.equal(h.pool.calls.length, 3, 'the blocker, then 8 and 2: nothing aborted ran');
      assert.deepEqual(
        h.pool.calls.slice(1).map((c) => c.inputs[0]!.shape[0]),
        [8, 2],
        'the ten survivors ran in two batches',
      );
      const survivors = calls.filter((call) => call.outcome !== reason);
      assert.equal(survivors.length, 10);
      assert.ok(survivors.every((call) => call.outcome === 'ok'), 'and were answered');
      assert.equal(h.batcher.pending(), 0, 'the queue is empty');
      assert.equal(h.stats.snapshot().failures.CANCELED, 49_990, 'each abort counted once');
    });
  });
});
