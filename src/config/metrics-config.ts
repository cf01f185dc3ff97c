import type { ValueReaders } from './value-readers.js';
import { ConfigError } from './config-error.js';

/** One quantile of the latency summaries and its allowed error (Triton's summary_quantiles). */
export interface SummaryQuantile {
  readonly quantile: number;
  readonly error: number;
}

/** The Prometheus metrics endpoint and what it exports (Triton's --allow-*-metrics, --metrics-*). */
export interface MetricsConfig {
  readonly enabled: boolean;
  readonly address: string;
  readonly port: number;
  /** nv_cpu_utilization and nv_cpu_memory_*_bytes from /proc. */
  readonly cpu: boolean;
  /** nv_gpu_* and nv_energy_consumption from nvidia-smi, where a GPU is present. */
  readonly gpu: boolean;
  /** How often the CPU and GPU figures are read (Triton's default 2000 ms). */
  readonly intervalMs: number;
  /** The cumulative nv_inference_*_duration_us counters (Triton's counter_latencies). */
  readonly counterLatencies: boolean;
  /** The nv_inference_*_summary_us quantile series (Triton's summary_latencies). */
  readonly summaryLatencies: boolean;
  readonly summaryQuantiles: readonly SummaryQuantile[];
}

/** Triton's default quantiles and errors (metric_model_reporter.h). */
export const DEFAULT_QUANTILES: readonly SummaryQuantile[] = [
  { quantile: 0.5, error: 0.05 },
  { quantile: 0.9, error: 0.01 },
  { quantile: 0.95, error: 0.001 },
  { quantile: 0.99, error: 0.001 },
  { quantile: 0.999, error: 0.000001 },
];

/** Reads the metrics flags; throws ConfigError naming a bad one. */
export function readMetricsConfig(read: ValueReaders): MetricsConfig {
  const enabled = read.bool('allow-metrics', true);
  const settings = readMetricsSettings(read.list('metrics-config'), read.label('metrics-config'));
  return {
    enabled,
    address: read.str('metrics-address', '0.0.0.0'),
    port: read.int('metrics-port', 8002, 0, 65535),
    // As in Triton, --allow-metrics=false turns the host and GPU metrics off too.
    cpu: enabled && read.bool('allow-cpu-metrics', true),
    gpu: enabled && read.bool('allow-gpu-metrics', true),
    intervalMs: read.int('metrics-interval-ms', 2000, 1, 2 ** 31 - 1),
    counterLatencies: settings.counterLatencies ?? true,
    summaryLatencies: settings.summaryLatencies ?? false,
    summaryQuantiles: settings.quantiles ?? DEFAULT_QUANTILES,
  };
}

interface MetricsSettings {
  counterLatencies?: boolean;
  summaryLatencies?: boolean;
  quantiles?: readonly SummaryQuantile[];
}

/**
 * Triton's `--metrics-config <setting>=<value>` entries: counter_latencies and
 * summary_latencies (true or false) and summary_quantiles="<q>:<error>,...". Triton
 * ignores settings it does not know; here they stop start-up, naming the entry.
 */
export function readMetricsSettings(entries: readonly string[], flag: string): MetricsSettings {
  const settings: MetricsSettings = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? '' : entry.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    if (key === 'counter_latencies' || key === 'summary_latencies') {
      if (!/^(true|false)$/.test(value)) throw new ConfigError(`invalid value '${entry}' for ${flag}: ${key} takes true or false`);
      settings[key === 'counter_latencies' ? 'counterLatencies' : 'summaryLatencies'] = value === 'true';
    } else if (key === 'summary_quantiles') {
      settings.quantiles = value.split(',').map((pair) => {
        const [q, e] = pair.split(':').map(Number);
        if (pair.split(':').length !== 2 || !(q! > 0 && q! < 1) || !(e! >= 0 && e! < 1)) {
          throw new ConfigError(`invalid value '${entry}' for ${flag}: summary_quantiles takes <quantile>:<error> pairs, e.g. 0.5:0.05,0.99:0.001`);
        }
        return { quantile: q!, error: e! };
      });
    } else {
      throw new ConfigError(`invalid value '${entry}' for ${flag}: the settings are counter_latencies, summary_latencies and summary_quantiles`);
    }
  }
  return settings;
}
