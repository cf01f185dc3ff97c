import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BufferTensor } from '../../../src/core/execution.js';
import type { InferResponse } from '../../../src/core/infer-request.js';
import type { ModelInfo } from '../../../src/core/model-info.js';
import type { SequenceBatchingPolicy } from '../../../src/core/sequence-policy.js';
import { BatchRunner } from '../../../src/scheduler/batch-runner.js';
import { SequenceBatcher } from '../../../src/scheduler/sequence-batcher.js';
import { StagingPool } from '../../../src/scheduler/staging-pool.js';
import { StatisticsRecorder } from '../../../src/scheduler/statistics-recorder.js';
import { countReads, FakeClock, FakePool, makeRequest, settle, silentLogger, type FakeCall } from '../../helpers/scheduler-fakes.js';

/** A sequence model: FP32 X [1] in, Y out (the fake instances copy X to Y). */
const MODEL: ModelInfo = {
  name: 'seq',
  version: 1,
  platform: 'onnxruntime_onnx',
  maxBatchSize: 4,
  inputs: [{ name: 'X', datatype: 'FP32', dims: [-1], optional: false }],
  outputs: [{ name: 'Y', datatype: 'FP32', dims: [-1], optional: false }],
};

function policy(over: Partial<SequenceBatchingPolicy> = {}): SequenceBatchingPolicy {
  return {
    maxBatchSize: 4,
    strategy: 'direct',
    maxSequenceIdleUs: 1_000_000,
    slotsPerInstance: 4,
    maxQueueDelayUs: 0,
    minimumSlotUtilization: 0,
    preferredBatchSizes: [4],
    controls: [
      { name: 'START', kind: 'start', datatype: 'INT32', falseTrue: [0, 1] },
      { name: 'READY', kind: 'ready', datatype: 'INT32', falseTrue: [0, 1] },
    ],
    states: [],
    ...over,
  };
}

interface Sent {
  status: 'pending' | 'fulfilled' | 'rejected';
  response?: InferResponse;
  error?: { id: string; message: string };
  readonly controller: AbortController;
}

function setup(over: Partial<SequenceBatchingPolicy> = {}, instances = 1) {
  const clock = new FakeClock();
  const pool = new FakePool(clock, instances);
  const stats = new StatisticsRecorder();
  const runner = new BatchRunner(new StagingPool(1 << 20), stats, clock, silentLogger);
  const batcher = new SequenceBatcher('seq', pool, runner, policy(over), stats, clock, silentLogger);
  /** Sends request `marker` of sequence `id`; X is marker * 1000. */
  const send = (marker: number, id: number | string, start = false, end = false): Sent => {
    const controller = new AbortController();
    const sent: Sent = { status: 'pending', controller };
    batcher.enqueue(makeRequest(MODEL, marker, { width: 1, sequence: { id, start, end } }), controller.signal).then(
      (response) => Object.assign(sent, { status: 'fulfilled', response }),
      (error: { id: string; message: string }) => Object.assign(sent, { status: 'rejected', error }),
    );
    return sent;
  };
  return { clock, pool, batcher, send };
}

/** A control's INT32 values in an execution. */
function ints(call: FakeCall, name: string): number[] {
  const bytes = call.inputs.find((i) => i.name === name)!.bytes;
  return Array.from(new Int32Array(bytes.slice().buffer));
}

describe('SequenceBatcher', () => {
  describe('direct strategy', () => {
    it('keeps each sequence in its slot row, with START and READY per row and padding rows for empty slots', async () => {
      const { pool, send } = setup();
      send(1, 100, true);
      await settle();
      assert.deepEqual(pool.calls[0]!.markers, [1]);
      assert.deepEqual(ints(pool.calls[0]!, 'START'), [1]);
      // While it runs: sequence 100 continues and sequence 200 starts (it takes slot 1).
      send(2, 100);
      send(3, 200, true);
      pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(pool.calls[1]!.markers, [2, 3], 'slot 0 then slot 1');
      assert.deepEqual(ints(pool.calls[1]!, 'START'), [0, 1]);
      assert.deepEqual(ints(pool.calls[1]!, 'READY'), [1, 1]);
      send(4, 200);
      pool.calls[1]!.finish();
      await settle();
      // Only slot 1 has a request: slot 0 is a padding row, not ready.
      assert.deepEqual(pool.calls[2]!.inputs[0]!.shape, [2, 1]);
      assert.deepEqual(ints(pool.calls[2]!, 'READY'), [0, 1]);
      assert.deepEqual(pool.calls[2]!.inputs[0]!.values, [0, 4000]);
    });

    it('runs one request of a sequence at a time, in order, and answers each with its own row', async () => {
      const { pool, send } = setup();
      const a = send(1, 7, true);
      const b = send(2, 7);
      await settle();
      assert.equal(pool.calls.length, 1, 'the second request waits for the first');
      pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(pool.calls[1]!.markers, [2]);
      pool.calls[1]!.finish();
      await settle();
      assert.equal(a.status, 'fulfilled');
      assert.equal(b.status, 'fulfilled');
      assert.deepEqual(Array.from(new Float32Array(b.response!.outputs[0]!.data.slice().buffer)), [2000]);
    });

    it('waits for enough slots or the delay when minimum_slot_utilization and max_queue_delay are set', async () => {
      const { clock, pool, send } = setup({ maxQueueDelayUs: 10_000, minimumSlotUtilization: 0.5 });
      send(1, 1, true);
      await settle();
      assert.equal(pool.calls.length, 0, '1 of 4 slots is below 0.5');
      send(2, 2, true);
      await settle();
      assert.deepEqual(pool.calls[0]!.markers, [1, 2], '2 of 4 slots reach 0.5');
      pool.calls[0]!.finish();
      send(3, 1);
      await settle();
      assert.equal(pool.calls.length, 1);
      await clock.advance(10);
      assert.deepEqual(pool.calls[1]!.markers, [3], 'the delay has passed');
    });
  });

  describe('slots, backlog and instances', () => {
    it('spreads new sequences over the instances, lowest slot first', async () => {
      const { pool, send } = setup({}, 2);
      send(1, 1, true);
      send(2, 2, true);
      await settle();
      assert.deepEqual(
        pool.calls.map((c) => [c.instance, c.markers]),
        [
          ['fake_0', [1]],
          ['fake_1', [2]],
        ],
      );
    });

    it('puts a sequence in the backlog while every slot is taken, and gives it the slot of the next sequence to end', async () => {
      const { pool, batcher, send } = setup({ slotsPerInstance: 1 });
      send(1, 1, true);
      const waiting = send(2, 2, true, true);
      await settle();
      assert.equal(batcher.pending(), 1);
      pool.calls[0]!.finish();
      send(3, 1, false, true);
      await settle();
      assert.deepEqual(pool.calls[1]!.markers, [3], 'sequence 1 still holds the slot');
      pool.calls[1]!.finish();
      await settle();
      assert.deepEqual(pool.calls[2]!.markers, [2], 'its END freed the slot for the backlog');
      pool.calls[2]!.finish();
      await settle();
      assert.equal(waiting.status, 'fulfilled');
      assert.equal(batcher.sequences, 0);
    });

    it('ends the sequences of a failed instance: queued requests fail, later ones are told why', async () => {
      const { pool, send } = setup({}, 2);
      send(1, 1, true);
      send(2, 2, true);
      await settle();
      const queued = send(3, 2);
      pool.fail(1);
      await settle();
      assert.equal(queued.error?.id, 'SEQUENCE_ABORTED');
      assert.equal(queued.error?.message, "sequence 2 of model 'seq' was ended because model instance 'fake_1' failed; start it again with sequence_start");
      const later = send(4, 2);
      await settle();
      assert.equal(later.error?.id, 'SEQUENCE_ABORTED');
      pool.calls[0]!.finish();
      const other = send(5, 1, false, true);
      await settle();
      assert.deepEqual(pool.calls.at(-1)!.markers, [5], 'the sequence on the other instance goes on');
      pool.calls.at(-1)!.finish();
      await settle();
      assert.equal(other.status, 'fulfilled');
    });
  });

  describe('ending sequences', () => {
    it('ends a sequence idle for max_sequence_idle_microseconds; its next request gets the START error', async () => {
      const { clock, pool, batcher, send } = setup({ maxSequenceIdleUs: 50_000 });
      send(1, 9, true);
      await settle();
      pool.calls[0]!.finish();
      await settle();
      assert.equal(batcher.sequences, 1);
      await clock.advance(49);
      assert.equal(batcher.sequences, 1);
      await clock.advance(2);
      assert.equal(batcher.sequences, 0, 'ended and its slot freed');
      const late = send(2, 9);
      await settle();
      assert.equal(late.error?.id, 'SEQUENCE_NOT_STARTED');
      assert.equal(late.error?.message, "inference request for sequence 9 to model 'seq' must specify the START flag on the first request of the sequence");
    });

    it('cancels the whole sequence when one of its queued requests is cancelled', async () => {
      const { pool, batcher, send } = setup();
      send(1, 5, true);
      await settle();
      const cancelled = send(2, 5);
      const behind = send(3, 5);
      cancelled.controller.abort();
      await settle();
      assert.equal(cancelled.error?.id, 'REQUEST_CANCELLED');
      assert.equal(behind.error?.id, 'REQUEST_CANCELLED', 'the rest of the sequence fails with the same reason');
      assert.equal(batcher.pending(), 0);
      pool.calls[0]!.finish();
      await settle();
      assert.equal(pool.calls.length, 1, 'nothing else of it runs');
      assert.equal(batcher.sequences, 0);
    });

    it("refuses what Triton refuses, with Triton's texts", async () => {
      const { batcher, send } = setup();
      const missing = batcher.enqueue(makeRequest(MODEL, 1, { width: 1 }), new AbortController().signal);
      await assert.rejects(missing, { id: 'SEQUENCE_ID_MISSING', message: "inference request to model 'seq' must specify a non-zero or non-empty correlation ID" });
      const batch = batcher.enqueue(makeRequest(MODEL, 1, { width: 1, rows: 2, sequence: { id: 1, start: true } }), new AbortController().signal);
      await assert.rejects(batch, { id: 'SEQUENCE_BATCH_SIZE', message: "inference request to model 'seq' must specify batch-size 1 due to requirements of sequence batcher" });
      const unknown = send(1, 'abc');
      await settle();
      assert.equal(unknown.error?.message, "inference request for sequence abc to model 'seq' must specify the START flag on the first request of the sequence");
      assert.equal(batcher.sequences, 0);
    });
  });

  describe('implicit state', () => {
    const STATE = { inputName: 'S_IN', outputName: 'S_OUT', datatype: 'FP32' as const, dims: [1] };
    /** The model: Y = X, S_OUT = S_IN + X (an accumulator). */
    const accumulate = (call: FakeCall): BufferTensor[] => {
      const x = new Float32Array(call.inputs.find((i) => i.name === 'X')!.bytes.slice().buffer);
      const s = new Float32Array(call.inputs.find((i) => i.name === 'S_IN')!.bytes.slice().buffer);
      const sum = x.map((v, i) => v + s[i]!);
      return [
        { name: 'Y', datatype: 'FP32', shape: [x.length, 1], buffer: x.buffer, byteOffset: 0, byteLength: x.byteLength },
        { name: 'S_OUT', datatype: 'FP32', shape: [x.length, 1], buffer: sum.buffer, byteOffset: 0, byteLength: sum.byteLength },
      ];
    };

    it('feeds each sequence its own state, resets it at START, and frees it at END', async () => {
      const { pool, batcher, send } = setup({ states: [STATE] });
      const state = (call: FakeCall) => call.inputs.find((i) => i.name === 'S_IN')!.values;
      send(1, 'a', true);
      await settle();
      assert.deepEqual(pool.calls[0]!.outputNames, ['Y', 'S_OUT'], 'the state output is always fetched');
      assert.deepEqual(state(pool.calls[0]!), [0], 'zeros to start');
      send(2, 'a');
      send(10, 'b', true);
      pool.calls[0]!.finish(undefined, accumulate(pool.calls[0]!));
      await settle();
      assert.deepEqual(state(pool.calls[1]!), [1000, 0], 'each row its own sequence');
      send(3, 'a', true);
      send(20, 'b', false, true);
      pool.calls[1]!.finish(undefined, accumulate(pool.calls[1]!));
      await settle();
      assert.equal(batcher.stateBytes, 8, 'two FP32 [1] states');
      assert.deepEqual(state(pool.calls[2]!), [0, 10000], 'START resets a; b carries on');
      pool.calls[2]!.finish(undefined, accumulate(pool.calls[2]!));
      await settle();
      assert.equal(batcher.sequences, 1, 'b ended');
      assert.equal(batcher.stateBytes, 4, "b's state is freed, a's kept");
    });
  });

  describe('oldest strategy', () => {
    it('batches the next request of each candidate sequence, never two of one sequence', async () => {
      const { pool, send } = setup({ strategy: 'oldest', slotsPerInstance: 8, preferredBatchSizes: [4] });
      send(1, 1, true);
      await settle();
      send(2, 1);
      send(3, 2, true);
      send(4, 3, true);
      pool.calls[0]!.finish();
      await settle();
      assert.deepEqual(pool.calls[1]!.markers, [3, 4, 2], 'offers in the order they were made; sequence 1 offered after its first finished');
      assert.deepEqual(ints(pool.calls[1]!, 'READY'), [1, 1, 1], 'no padding rows');
      assert.deepEqual(ints(pool.calls[1]!, 'START'), [1, 1, 0]);
    });

    it('costs the same per request with 10 or 5,000 live sequences (no event walks them)', async () => {
      const readsWith = async (live: number) => {
        const { pool, send, batcher } = setup({ strategy: 'oldest', slotsPerInstance: 10_000, preferredBatchSizes: [1], maxBatchSize: 4 });
        for (let id = 1; id <= live; id++) {
          send(1, id, true);
          await settle();
          pool.calls.at(-1)!.finish();
        }
        await settle();
        assert.equal(batcher.sequences, live);
        const counter = { reads: 0 };
        const sent = batcher.enqueue(countReads(makeRequest(MODEL, 2, { width: 1, sequence: { id: 1 } }), counter), new AbortController().signal);
        await settle();
        pool.calls.at(-1)!.finish();
        await sent;
        return counter.reads;
      };
      assert.equal(await readsWith(5_000), await readsWith(10));
    });
  });
});
