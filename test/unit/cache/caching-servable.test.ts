import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CachingServable } from '../../../src/cache/caching-servable.js';
import { CancelSource } from '../../../src/core/cancel-signal.js';
import { decideCacheUse } from '../../../src/cache/cache-use.js';
import { ResponseCache } from '../../../src/cache/response-cache.js';
import { InferError } from '../../../src/core/errors.js';
import type { InferRequest } from '../../../src/core/infer-request.js';
import type { ModelInfo } from '../../../src/core/model-info.js';
import { validateInferRequest } from '../../../src/core/request-validation.js';
import type { Servable } from '../../../src/core/servable.js';
import type { DurationStat, ModelStatisticsSnapshot } from '../../../src/core/statistics.js';
import type { CacheLookupEvent } from '../../../src/core/telemetry.js';

const MODEL: ModelInfo = {
  name: 'm',
  version: 3,
  platform: 'onnxruntime_onnx',
  maxBatchSize: 0,
  inputs: [{ name: 'X', datatype: 'UINT8', dims: [-1], optional: false }],
  outputs: [{ name: 'Y', datatype: 'UINT8', dims: [-1], optional: false }],
};

const none: DurationStat = { count: 0, ns: 0n };
const phases = { inferenceCount: 0, executionCount: 0, success: none, fail: none, queue: none, computeInput: none, computeInfer: none, computeOutput: none };

/** A scheduler stand-in that echoes X as Y and counts what reaches it; `fail` makes it throw. */
class EchoServable implements Servable {
  calls = 0;
  fail = false;
  async infer(v: Parameters<Servable['infer']>[0]) {
    this.calls += 1;
    if (this.fail) throw new InferError('BACKEND_ERROR', 'boom');
    const x = v.inputs[0]!.tensor;
    return { id: v.request.id, modelName: 'm', modelVersion: '3', outputs: [{ name: 'Y', datatype: x.datatype, shape: x.shape, data: x.data }] };
  }
  pending = () => 0;
  instances = () => [];
  statistics = (): ModelStatisticsSnapshot => ({
    ...phases,
    success: { count: this.calls, ns: BigInt(this.calls) * 1_000_000n },
    queue: { count: this.calls, ns: 0n },
    lastInference: 0,
    batches: [],
    failures: { REJECTED: 0, CANCELED: 0, BACKEND: 0, OTHER: 0 },
    precisions: [],
  });
  crashInstance() {}
  stop = async () => {};
}

const request = (id: string, bytes: number[]): InferRequest => ({
  id,
  modelName: 'm',
  modelVersion: '',
  inputs: [{ name: 'X', datatype: 'UINT8', shape: [bytes.length], data: Uint8Array.from(bytes) }],
  outputs: [],
  parameters: new Map(),
});

function setup() {
  const inner = new EchoServable();
  const lookups: CacheLookupEvent[] = [];
  const cache = new ResponseCache(1 << 20);
  const servable = new CachingServable(inner, cache, { onCacheLookup: (e) => lookups.push(e) });
  const infer = (id: string, bytes: number[]) => servable.infer(validateInferRequest(request(id, bytes), MODEL), new CancelSource());
  return { inner, cache, servable, lookups, infer };
}

describe('CachingServable', () => {
  it('answers a repeated request from the cache without reaching the scheduler, with its own id', async () => {
    const { inner, infer, lookups } = setup();
    const first = await infer('one', [1, 2, 3]);
    const second = await infer('two', [1, 2, 3]);
    assert.equal(inner.calls, 1);
    assert.equal(second.id, 'two');
    assert.deepEqual([...second.outputs[0]!.data], [...first.outputs[0]!.data]);
    await infer('three', [1, 2, 4]);
    assert.equal(inner.calls, 2);
    assert.deepEqual(lookups.map((l) => [l.requestId, l.hit]), [['one', false], ['two', true], ['three', false]]);
  });

  it('merges hits and misses into the statistics as Triton counts them', async () => {
    const { servable, infer } = setup();
    await infer('a', [1]);
    await infer('b', [1]);
    await infer('c', [1]);
    const s = servable.statistics();
    assert.equal(s.cacheHit!.count, 2);
    assert.equal(s.cacheMiss!.count, 1);
    assert.equal(s.success.count, 3, 'hits are successful requests');
    assert.equal(s.queue.count, 3);
    assert.equal(s.inferenceCount, 0, 'no inference counted for hits (the fake counts none either)');
    assert.ok(s.cacheHit!.ns > 0n && s.cacheMiss!.ns > 0n);
    assert.deepEqual(s.precisions.map((p) => [p.precision, p.cacheHit!.count, p.success.count]), [['fp32', 2, 2]]);
  });

  it('stores no failed response and counts no miss for it', async () => {
    const { inner, servable, cache, infer } = setup();
    inner.fail = true;
    await assert.rejects(infer('a', [9]), /boom/);
    inner.fail = false;
    await infer('b', [9]);
    assert.equal(inner.calls, 2);
    assert.equal(cache.counters().insertions, 1);
    assert.equal(servable.statistics().cacheMiss!.count, 1);
  });
});

describe('decideCacheUse', () => {
  const base = { model: 'm', enabled: true, decoupled: false, scheduling: 'dynamic' as const, serverCache: true };
  it('uses the cache only when the config enables it and the server has one', () => {
    assert.deepEqual(decideCacheUse(base), { use: true });
    assert.deepEqual(decideCacheUse({ ...base, scheduling: 'fifo' }), { use: true });
    assert.deepEqual(decideCacheUse({ ...base, enabled: false }), { use: false });
    const noServerCache = decideCacheUse({ ...base, serverCache: false });
    assert.equal(noServerCache.use, false);
    assert.match((noServerCache as { warning: string }).warning, /--cache-config local,size=<bytes>/);
  });
  it('never caches sequence models (a warning) and refuses decoupled ones (Triton\'s message)', () => {
    const sequence = decideCacheUse({ ...base, scheduling: 'sequence' });
    assert.equal(sequence.use, false);
    assert.match((sequence as { warning: string }).warning, /sequence models are never cached/);
    assert.throws(() => decideCacheUse({ ...base, decoupled: true }), /Response Cache does not currently support model m with 'decoupled' transaction policy/);
  });
});
