import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { EXAMPLE_REPOSITORY, scratchDirectory } from '../helpers/fixtures.js';
import { logSink } from '../helpers/log-sink.js';
import { sequenceRequest } from '../helpers/stream-client.js';
import { startTestServer, testLogging, type TestServer } from '../helpers/test-server.js';
import { int32Bytes, readInt32 } from '../helpers/tensors.js';
import { createLogging } from '../../src/telemetry/logger.js';

/** Copies of example models: `cached` (simple with response_cache), `uncached`, and a sequence and a decoupled model that enable it. */
function repository(): string {
  const dir = scratchDirectory('cache');
  const copy = (from: string, name: string, extra: string) => {
    cpSync(path.join(EXAMPLE_REPOSITORY, from), path.join(dir, name), { recursive: true });
    const config = readFileSync(path.join(dir, name, 'config.pbtxt'), 'utf8').replace(`name: "${from}"`, `name: "${name}"`);
    writeFileSync(path.join(dir, name, 'config.pbtxt'), `${config}\n${extra}\n`);
  };
  const cache = 'response_cache { enable: true }';
  copy('simple', 'cached', cache);
  copy('simple', 'uncached', '');
  copy('simple_sequence', 'cached_sequence', cache);
  copy('repeat_int32', 'cached_decoupled', cache);
  return dir;
}

const request = (model: string, a: number, extra: Record<string, unknown> = {}) => ({
  model_name: model,
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16] },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16] },
  ],
  raw_input_contents: [int32Bytes(new Array(16).fill(a)), int32Bytes(new Array(16).fill(1))],
  ...extra,
});

interface Duration {
  count: string;
  ns: string;
}
interface Stats {
  inference_count: string;
  execution_count: string;
  inference_stats: Record<'success' | 'queue' | 'compute_infer' | 'cache_hit' | 'cache_miss', Duration>;
}

/** One entry of `simple` (two INT32 [1,16] outputs) is charged 667 bytes: room for two, not three. */
const CACHE_BYTES = 1400;

describe('response cache: --cache-config local,size=N and response_cache { enable: true }', () => {
  let t: TestServer;
  const logs = logSink();
  const infer = (model: string, a: number, extra: Record<string, unknown> = {}) =>
    t.client.call<{ id: string; raw_output_contents: Buffer[] }>('ModelInfer', request(model, a, extra));
  const stats = async (model: string) => (await t.client.call<{ model_stats: Stats[] }>('ModelStatistics', { name: model })).model_stats[0]!;
  const scrape = async () => (await fetch(`http://127.0.0.1:${t.server.metricsPort}/metrics`)).text();
  const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const executions = (model: string) => t.server.registry.get(model, '').servable.instances().reduce((sum, i) => sum + i.executions, 0);

  before(async () => {
    const { logger, settings } = createLogging({ level: 'info', format: 'json', destination: logs.stream });
    t = await startTestServer([repository()], {
      flags: ['--cache-config', `local,size=${CACHE_BYTES}`, '--trace-config', 'level=TIMESTAMPS,rate=1'],
      logging: { logger, settings } as ReturnType<typeof testLogging>,
    });
  });
  after(async () => t.stop());

  it('answers a repeated request from the cache: same outputs, its own id, no execution', async () => {
    const first = await infer('cached', 5, { id: 'first' });
    const runs = executions('cached');
    const second = await infer('cached', 5, { id: 'second' });
    assert.equal(second.id, 'second');
    assert.deepEqual(second.raw_output_contents.map(readInt32), first.raw_output_contents.map(readInt32));
    assert.deepEqual(readInt32(second.raw_output_contents[0]!), new Array(16).fill(6));
    assert.equal(executions('cached'), runs, 'the hit never reached an instance');
    await infer('cached', 6);
    assert.equal(executions('cached'), runs + 1, 'other inputs run');
  });

  it('keys by requested outputs too', async () => {
    const runs = executions('cached');
    const only1 = await infer('cached', 5, { outputs: [{ name: 'OUTPUT1' }] });
    assert.equal(only1.raw_output_contents.length, 1);
    assert.deepEqual(readInt32(only1.raw_output_contents[0]!), new Array(16).fill(4));
    assert.equal(executions('cached'), runs + 1, 'a different output list is a different entry');
  });

  it('reports hits and misses in ModelStatistics as Triton does', async () => {
    const before = await stats('cached');
    await infer('cached', 40);
    await infer('cached', 40);
    await infer('cached', 40);
    const s = await stats('cached');
    const d = (k: keyof Stats['inference_stats'], field: keyof Duration = 'count') => Number(s.inference_stats[k][field]) - Number(before.inference_stats[k][field]);
    assert.deepEqual([d('cache_hit'), d('cache_miss'), d('success'), d('queue'), d('compute_infer')], [2, 1, 3, 3, 1]);
    assert.equal(Number(s.inference_count) - Number(before.inference_count), 1, 'hits add no inference');
    assert.equal(Number(s.execution_count) - Number(before.execution_count), 1);
    assert.ok(d('cache_hit', 'ns') > 0 && d('cache_miss', 'ns') > 0);
    const plain = await stats('uncached');
    assert.deepEqual([Number(plain.inference_stats.cache_hit.count), Number(plain.inference_stats.cache_miss.count)], [0, 0]);
  });

  it('exports nv_cache_* per model and cache-wide, equal to the statistics', async () => {
    await infer('cached', 41);
    await infer('cached', 41);
    const text = await scrape();
    const s = await stats('cached');
    assert.equal(value(text, 'nv_cache_num_hits_per_model{model="cached",version="1"}'), Number(s.inference_stats.cache_hit.count));
    assert.equal(value(text, 'nv_cache_num_misses_per_model{model="cached",version="1"}'), Number(s.inference_stats.cache_miss.count));
    assert.equal(value(text, 'nv_cache_hit_duration_per_model{model="cached",version="1"}'), Math.floor(Number(s.inference_stats.cache_hit.ns) / 1000));
    assert.ok(value(text, 'nv_cache_miss_duration_per_model{model="cached",version="1"}') >= 0);
    assert.doesNotMatch(text, /nv_cache_num_hits_per_model\{model="uncached"/, 'only models that use the cache');
    const counters = t.server.responseCache!.counters();
    assert.equal(value(text, 'nv_cache_num_hits'), counters.hits);
    assert.equal(value(text, 'nv_cache_num_lookups'), counters.lookups);
    assert.equal(value(text, 'nv_cache_num_entries'), counters.entries);
    assert.ok(value(text, 'nv_cache_util') > 0 && value(text, 'nv_cache_util') <= 1);
  });

  it('evicts the least recently used entry when full', async () => {
    const evictions = () => t.server.responseCache!.counters().evictions;
    await infer('cached', 100); // miss
    await infer('cached', 101); // miss: the cache now holds 100 and 101
    const before = evictions();
    await infer('cached', 100); // hit: 101 is now the oldest
    await infer('cached', 102); // miss: evicts 101
    assert.equal(evictions(), before + 1);
    const runs = executions('cached');
    await infer('cached', 100);
    assert.equal(executions('cached'), runs, '100 was used recently and stayed');
    await infer('cached', 101);
    assert.equal(executions('cached'), runs + 1, '101 was evicted');
    assert.ok(t.server.responseCache!.counters().usedBytes <= CACHE_BYTES);
  });

  it('traces a hit with a cache_lookup span and no execution phases', async () => {
    await infer('cached', 200);
    t.spans.reset();
    await infer('cached', 200, { id: 'traced-hit' });
    const spans = t.spans.getFinishedSpans();
    const lookup = spans.find((s) => s.name === 'cache_lookup');
    assert.ok(lookup !== undefined);
    assert.equal(lookup.attributes['nereid.cache.hit'], true);
    assert.equal(lookup.attributes['nereid.request.id'], 'traced-hit');
    assert.deepEqual(spans.filter((s) => ['queue', 'h2d', 'compute', 'd2h'].includes(s.name)), []);
    t.spans.reset();
    await infer('cached', 201);
    const missed = t.spans.getFinishedSpans();
    assert.equal(missed.find((s) => s.name === 'cache_lookup')!.attributes['nereid.cache.hit'], false);
    assert.ok(missed.some((s) => s.name === 'compute'), 'a miss executes');
  });

  it('costs nothing for models that do not enable it: no lookup, no key', async () => {
    const lookups = t.server.responseCache!.counters().lookups;
    for (let i = 0; i < 5; i++) await infer('uncached', 7);
    assert.equal(t.server.responseCache!.counters().lookups, lookups);
    assert.equal(executions('uncached') >= 5, true);
  });

  it('never caches a sequence model (a load-time warning) and refuses a decoupled one with Triton\'s message', async () => {
    assert.ok(logs.lines.some((l) => String(l['msg']).includes('sequence models are never cached') && l['model'] === 'cached_sequence'));
    const lookups = t.server.responseCache!.counters().lookups;
    for (let i = 0; i < 2; i++) await t.client.call('ModelInfer', sequenceRequest('cached_sequence', 3, 77, i === 0, i === 1));
    assert.equal(t.server.responseCache!.counters().lookups, lookups);
    const index = (await t.client.call<{ models: { name: string; state: string; reason: string }[] }>('RepositoryIndex', {})).models;
    const decoupled = index.find((m) => m.name === 'cached_decoupled')!;
    assert.equal(decoupled.state, 'UNAVAILABLE');
    assert.match(decoupled.reason, /Response Cache does not currently support model cached_decoupled with 'decoupled' transaction policy/);
    await assertGrpcError(infer('cached_decoupled', 1), status.NOT_FOUND, /'cached_decoupled' has no available versions/);
  });
});

describe('response cache off', () => {
  it('a model that enables response_cache on a server without --cache-config computes every request', async () => {
    const logs = logSink();
    const { logger, settings } = createLogging({ level: 'info', format: 'json', destination: logs.stream });
    const t = await startTestServer([repository()], { logging: { logger, settings } as ReturnType<typeof testLogging> });
    try {
      assert.equal(t.server.responseCache, undefined);
      assert.ok(logs.lines.some((l) => String(l['msg']).includes('the server has no cache') && l['model'] === 'cached'));
      const r = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', request('cached', 2));
      assert.deepEqual(readInt32(r.raw_output_contents[0]!), new Array(16).fill(3));
      const s = (await t.client.call<{ model_stats: Stats[] }>('ModelStatistics', { name: 'cached' })).model_stats[0]!;
      assert.equal(Number(s.inference_stats.cache_miss.count), 0);
      assert.doesNotMatch(await (await fetch(`http://127.0.0.1:${t.server.metricsPort}/metrics`)).text(), /^nv_cache_util/m);
    } finally {
      await t.stop();
    }
  });
});

describe('response cache with --metrics-config counter_latencies=false', () => {
  it('leaves out the per-model nv_cache_* counters, as Triton does with the latency counters, and keeps the cache-wide gauges', async () => {
    const t = await startTestServer([repository()], { flags: ['--cache-config', `local,size=${CACHE_BYTES}`, '--metrics-config', 'counter_latencies=false'] });
    try {
      await t.client.call('ModelInfer', request('cached', 5));
      await t.client.call('ModelInfer', request('cached', 5));
      const s = (await t.client.call<{ model_stats: Stats[] }>('ModelStatistics', { name: 'cached' })).model_stats[0]!;
      assert.equal(Number(s.inference_stats.cache_hit.count), 1, 'the cache served the second request');
      const text = await (await fetch(`http://127.0.0.1:${t.server.metricsPort}/metrics`)).text();
      assert.doesNotMatch(text, /nv_cache_\w+_per_model/);
      assert.doesNotMatch(text, /nv_inference_request_duration_us/);
      assert.match(text, /^nv_cache_num_hits 1$/m);
      assert.match(text, /^nv_inference_request_success\{model="cached",version="1"\} 2$/m);
    } finally {
      await t.stop();
    }
  });
});
