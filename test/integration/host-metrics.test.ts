import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXAMPLE_REPOSITORY } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { int32Bytes } from '../helpers/tensors.js';

const simple = () => ({
  model_name: 'simple',
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16] },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16] },
  ],
  raw_input_contents: [int32Bytes(new Array(16).fill(1)), int32Bytes(new Array(16).fill(2))],
});

describe('host metrics and latency summaries on /metrics', () => {
  let t: TestServer;
  const scrape = async () => (await fetch(`http://127.0.0.1:${t.server.metricsPort}/metrics`)).text();
  const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}".]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY], { flags: ['--metrics-interval-ms', '200', '--metrics-config', 'summary_latencies=true'] });
  });
  after(async () => t.stop());

  it('exports nv_cpu_* from /proc, and utilization moves while the server is under load', async () => {
    const first = await scrape();
    const total = value(first, 'nv_cpu_memory_total_bytes');
    assert.ok(total > 0, 'total memory');
    assert.ok(value(first, 'nv_cpu_memory_used_bytes') > 0 && value(first, 'nv_cpu_memory_used_bytes') <= total);
    const seen = new Set<number>([value(first, 'nv_cpu_utilization')]);
    let load = true;
    const clients = Array.from({ length: 4 }, async () => {
      while (load) await t.client.call('ModelInfer', simple());
    });
    try {
      // Wait on state: a new reading every 200 ms, until it has changed and shown busy cores.
      const deadline = Date.now() + 30_000;
      while (seen.size < 2 || ![...seen].some((v) => v > 0)) {
        assert.ok(Date.now() < deadline, `nv_cpu_utilization never moved: ${[...seen].join(', ')}`);
        const u = value(await scrape(), 'nv_cpu_utilization');
        assert.ok(u >= 0 && u <= 1, `utilization ${u} is a share`);
        seen.add(u);
      }
    } finally {
      load = false;
      await Promise.all(clients);
    }
  });

  it('exports no GPU series on a machine without a GPU', async () => {
    assert.doesNotMatch(await scrape(), /^nv_gpu_|^nv_energy_consumption/m);
  });

  it('exports Triton\'s *_summary_us series whose counts match the counters', async () => {
    for (let i = 0; i < 5; i++) await t.client.call('ModelInfer', simple());
    const text = await scrape();
    const labels = '{model="simple",version="1"}';
    for (const name of ['request', 'queue', 'compute_input', 'compute_infer', 'compute_output']) {
      for (const q of ['0.5', '0.9', '0.95', '0.99', '0.999']) {
        assert.ok(Number.isFinite(value(text, `nv_inference_${name}_summary_us{quantile="${q}",model="simple",version="1"}`)), `${name} quantile ${q}`);
      }
    }
    assert.equal(value(text, `nv_inference_request_summary_us_count${labels}`), value(text, `nv_inference_request_success${labels}`));
    assert.ok(Math.abs(value(text, `nv_inference_queue_summary_us_sum${labels}`) - value(text, `nv_inference_queue_duration_us${labels}`)) <= value(text, `nv_inference_request_success${labels}`), 'sums agree to a µs per request');
  });
});
