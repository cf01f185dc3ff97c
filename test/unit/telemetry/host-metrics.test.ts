import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { HostMetrics } from '../../../src/telemetry/host-metrics.js';
import { NVIDIA_SMI_ARGS, parseNvidiaSmi } from '../../../src/telemetry/nvidia-smi.js';
import { cpuUtilization, parseCpuTimes, parseMemInfo } from '../../../src/telemetry/proc-readings.js';

/** /proc/stat as Linux writes it (two reads 1 s apart on a 2-core machine). */
const STAT_BEFORE = 'cpu  4705 356 584 3699176 23 0 13 7 0 0\ncpu0 2300 150 300 1849000 10 0 6 3 0 0\nintr 1234\n';
const STAT_AFTER = 'cpu  4805 356 634 3699226 23 0 13 7 0 0\ncpu0 2400 150 320 1849020 10 0 6 3 0 0\nintr 1300\n';
const MEMINFO = 'MemTotal:       16375872 kB\nMemFree:         1234567 kB\nMemAvailable:   12282904 kB\nBuffers:          234000 kB\n';

/**
 * nvidia-smi --query-gpu=uuid,utilization.gpu,memory.total,memory.used,power.draw,power.limit
 * --format=csv,noheader,nounits, in its documented shape: two GPUs, the second without power readings.
 */
const SMI = 'GPU-5f1e0c2a-9b7d-4e3f-8a61-0c2d4b6e8f10, 37, 143771, 1024, 118.45, 700.00\nGPU-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9, 0, 81559, 0, [N/A], [N/A]\n';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

async function metric(registry: Registry, name: string): Promise<{ labels: Record<string, unknown>; value: number }[]> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (found?.values ?? []) as { labels: Record<string, unknown>; value: number }[];
}

describe('/proc readings (Triton\'s definitions)', () => {
  it('takes busy = user+nice+system+irq+softirq+steal and idle = idle+iowait between two reads', () => {
    const before = parseCpuTimes(STAT_BEFORE)!;
    const after = parseCpuTimes(STAT_AFTER)!;
    assert.deepEqual(before, { busy: 4705 + 356 + 584 + 13 + 7, idle: 3699176 + 23 });
    assert.equal(cpuUtilization(after, before), 150 / 200);
    assert.equal(cpuUtilization(before, before), 0);
    assert.equal(cpuUtilization(before, after), 0, 'counters that go back count as no time');
    assert.equal(parseCpuTimes('intr 1\n'), undefined);
  });

  it('reports used memory as MemTotal - MemAvailable, in bytes', () => {
    assert.deepEqual(parseMemInfo(MEMINFO), { totalBytes: 16375872 * 1024, usedBytes: (16375872 - 12282904) * 1024 });
    assert.equal(parseMemInfo('MemTotal: 10 kB\n'), undefined);
  });
});

describe('nvidia-smi', () => {
  it('asks for one CSV row per GPU without header or units', () => {
    assert.deepEqual([...NVIDIA_SMI_ARGS], ['--query-gpu=uuid,utilization.gpu,memory.total,memory.used,power.draw,power.limit', '--format=csv,noheader,nounits']);
  });

  it('parses rows into Triton\'s units, leaving out what a GPU does not report', () => {
    const [a, b] = parseNvidiaSmi(SMI);
    assert.deepEqual(a, { uuid: 'GPU-5f1e0c2a-9b7d-4e3f-8a61-0c2d4b6e8f10', utilization: 0.37, memoryTotalBytes: 143771 * 1048576, memoryUsedBytes: 1024 * 1048576, powerUsage: 118.45, powerLimit: 700 });
    assert.equal(b!.powerUsage, undefined);
    assert.equal(b!.utilization, 0);
    assert.deepEqual(parseNvidiaSmi('No devices were found\n'), []);
  });
});

describe('HostMetrics', () => {
  it('sets the CPU series from /proc and the GPU series per gpu_uuid, integrating power into energy', async () => {
    const registry = new Registry();
    const stats = [STAT_BEFORE, STAT_AFTER];
    let smiRuns = 0;
    const host = new HostMetrics(registry, {
      cpu: true,
      gpu: true,
      intervalMs: 60_000,
      logger: silent,
      readText: async (path) => (path === '/proc/stat' ? stats.shift() ?? STAT_AFTER : MEMINFO),
      nvidiaSmi: async () => {
        smiRuns += 1;
        return SMI;
      },
    });
    await host.start();
    assert.equal((await metric(registry, 'nv_cpu_utilization'))[0]!.value, 0, 'utilization needs a second read');
    await host.poll();
    assert.equal((await metric(registry, 'nv_cpu_utilization'))[0]!.value, 0.75);
    assert.equal((await metric(registry, 'nv_cpu_memory_used_bytes'))[0]!.value, (16375872 - 12282904) * 1024);
    const util = await metric(registry, 'nv_gpu_utilization');
    assert.deepEqual(util.map((v) => [v.labels['gpu_uuid'], v.value]), [['GPU-5f1e0c2a-9b7d-4e3f-8a61-0c2d4b6e8f10', 0.37], ['GPU-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9', 0]]);
    const energy = await metric(registry, 'nv_energy_consumption');
    assert.ok(energy[0]!.value > 0, 'two power readings give some energy');
    assert.equal(smiRuns, 2);
    await host.stop();
  });

  it('stays quiet where nvidia-smi is missing: no GPU series, and it is not run again', async () => {
    const registry = new Registry();
    let smiRuns = 0;
    const host = new HostMetrics(registry, {
      cpu: false,
      gpu: true,
      intervalMs: 60_000,
      logger: silent,
      nvidiaSmi: async () => {
        smiRuns += 1;
        throw Object.assign(new Error('spawn nvidia-smi ENOENT'), { code: 'ENOENT' });
      },
    });
    await host.start();
    await host.poll();
    assert.equal(smiRuns, 1);
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    assert.deepEqual(names.filter((n) => n.startsWith('nv_')), []);
    await host.stop();
  });
});
