import { readFile } from 'node:fs/promises';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import { parseNvidiaSmi, queryNvidiaSmi, type GpuReading } from './nvidia-smi.js';
import { cpuUtilization, parseCpuTimes, parseMemInfo, type CpuTimes } from './proc-readings.js';

export interface HostMetricsOptions {
  /** nv_cpu_* from /proc (Triton's --allow-cpu-metrics). */
  readonly cpu: boolean;
  /** nv_gpu_* and nv_energy_consumption from nvidia-smi (Triton's --allow-gpu-metrics). */
  readonly gpu: boolean;
  /** Time between reads (Triton's --metrics-interval-ms). */
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Reads a /proc file; the real one unless a test passes recorded text. */
  readonly readText?: (path: string) => Promise<string>;
  /** Runs the nvidia-smi query; the real command unless a test passes recorded output. */
  readonly nvidiaSmi?: (timeoutMs: number) => Promise<string>;
}

const GPU_LABELS = ['gpu_uuid'] as const;

/**
 * Triton's host metrics, read every interval on the main thread (a few small file reads
 * and, with a GPU, one nvidia-smi run; never on the request path):
 * nv_cpu_utilization (busy share of all cores since the previous read, 0 to 1),
 * nv_cpu_memory_total_bytes and nv_cpu_memory_used_bytes (MemTotal - MemAvailable); per GPU
 * (label gpu_uuid) nv_gpu_utilization (0 to 1), nv_gpu_memory_total_bytes,
 * nv_gpu_memory_used_bytes, nv_gpu_power_usage and nv_gpu_power_limit (watts), and
 * nv_energy_consumption, joules since the server started. Triton reads the GPU's energy
 * counter through DCGM; nvidia-smi's query interface reports power, so the energy here is
 * power integrated over the intervals (trapezoids).
 *
 * The GPU series appear only once nvidia-smi has answered: on a machine without a GPU
 * nothing is run, and if nvidia-smi is missing or fails its first run, GPU metrics stop
 * with one info line. Main thread only.
 */
export class HostMetrics {
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private lastCpu: CpuTimes | undefined;
  private readonly cpuGauges: { utilization: Gauge; total: Gauge; used: Gauge } | undefined;
  private gpuGauges: { utilization: Gauge<'gpu_uuid'>; total: Gauge<'gpu_uuid'>; used: Gauge<'gpu_uuid'>; power: Gauge<'gpu_uuid'>; limit: Gauge<'gpu_uuid'>; energy: Counter<'gpu_uuid'> } | undefined;
  private gpu: boolean;
  private readonly lastPower = new Map<string, { watts: number; at: number }>();
  private readonly readText: (path: string) => Promise<string>;
  private readonly nvidiaSmi: (timeoutMs: number) => Promise<string>;

  constructor(
    private readonly registry: Registry,
    private readonly options: HostMetricsOptions,
  ) {
    this.readText = options.readText ?? ((path) => readFile(path, 'utf8'));
    this.nvidiaSmi = options.nvidiaSmi ?? queryNvidiaSmi;
    this.gpu = options.gpu;
    this.cpuGauges = options.cpu
      ? {
          utilization: new Gauge({ name: 'nv_cpu_utilization', help: 'CPU utilization rate [0.0 - 1.0]', registers: [registry] }),
          total: new Gauge({ name: 'nv_cpu_memory_total_bytes', help: 'CPU total memory (RAM), in bytes', registers: [registry] }),
          used: new Gauge({ name: 'nv_cpu_memory_used_bytes', help: 'CPU used memory (RAM), in bytes', registers: [registry] }),
        }
      : undefined;
  }

  /** Takes the first readings (the CPU baseline), then reads every interval until stop(). */
  async start(): Promise<void> {
    if (this.cpuGauges === undefined && !this.gpu) return;
    await this.poll();
    this.timer = setInterval(() => {
      // A read still running (a slow nvidia-smi) is not doubled up.
      if (this.polling === undefined) this.polling = this.poll().finally(() => (this.polling = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  /** One round of readings. Failures leave the previous values and are logged at debug. */
  async poll(): Promise<void> {
    await Promise.all([this.cpuGauges !== undefined ? this.pollCpu(this.cpuGauges) : undefined, this.gpu ? this.pollGpu() : undefined]);
  }

  private async pollCpu(gauges: NonNullable<HostMetrics['cpuGauges']>): Promise<void> {
    try {
      const [stat, meminfo] = await Promise.all([this.readText('/proc/stat'), this.readText('/proc/meminfo')]);
      const times = parseCpuTimes(stat);
      if (times !== undefined) {
        if (this.lastCpu !== undefined) gauges.utilization.set(cpuUtilization(times, this.lastCpu));
        this.lastCpu = times;
      }
      const memory = parseMemInfo(meminfo);
      if (memory !== undefined) {
        gauges.total.set(memory.totalBytes);
        gauges.used.set(memory.usedBytes);
      }
    } catch (err) {
      this.options.logger.debug({ err: (err as Error).message }, 'CPU metrics: /proc could not be read');
    }
  }

  private async pollGpu(): Promise<void> {
    let readings: GpuReading[];
    try {
      readings = parseNvidiaSmi(await this.nvidiaSmi(Math.max(1000, this.options.intervalMs)));
    } catch (err) {
      if (this.gpuGauges === undefined) {
        this.gpu = false;
        this.options.logger.info({ err: (err as Error).message }, 'GPU metrics off: nvidia-smi did not answer');
      } else {
        this.options.logger.debug({ err: (err as Error).message }, 'GPU metrics: nvidia-smi failed; keeping the last values');
      }
      return;
    }
    const gauges = (this.gpuGauges ??= this.createGpuMetrics());
    const now = performance.now();
    for (const gpu of readings) {
      const labels = { gpu_uuid: gpu.uuid };
      if (gpu.utilization !== undefined) gauges.utilization.set(labels, gpu.utilization);
      if (gpu.memoryTotalBytes !== undefined) gauges.total.set(labels, gpu.memoryTotalBytes);
      if (gpu.memoryUsedBytes !== undefined) gauges.used.set(labels, gpu.memoryUsedBytes);
      if (gpu.powerLimit !== undefined) gauges.limit.set(labels, gpu.powerLimit);
      if (gpu.powerUsage === undefined) continue;
      gauges.power.set(labels, gpu.powerUsage);
      const last = this.lastPower.get(gpu.uuid);
      gauges.energy.inc(labels, last === undefined ? 0 : ((last.watts + gpu.powerUsage) / 2) * ((now - last.at) / 1000));
      this.lastPower.set(gpu.uuid, { watts: gpu.powerUsage, at: now });
    }
  }

  private createGpuMetrics(): NonNullable<HostMetrics['gpuGauges']> {
    const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: GPU_LABELS, registers: [this.registry] });
    return {
      utilization: gauge('nv_gpu_utilization', 'GPU utilization rate [0.0 - 1.0)'),
      total: gauge('nv_gpu_memory_total_bytes', 'GPU total memory, in bytes'),
      used: gauge('nv_gpu_memory_used_bytes', 'GPU used memory, in bytes'),
      power: gauge('nv_gpu_power_usage', 'GPU power usage in watts'),
      limit: gauge('nv_gpu_power_limit', 'GPU power management limit in watts'),
      energy: new Counter({
        name: 'nv_energy_consumption',
        help: 'GPU energy consumption in joules since the Triton Server started (integrated from nvidia-smi power.draw)',
        labelNames: GPU_LABELS,
        registers: [this.registry],
      }),
    };
  }
}
