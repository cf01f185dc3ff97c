import { execFile } from 'node:child_process';

/** What Nereid asks nvidia-smi for each GPU, in this order. */
export const GPU_QUERY = ['uuid', 'utilization.gpu', 'memory.total', 'memory.used', 'power.draw', 'power.limit'] as const;

/** The command line: one CSV row per GPU, no header, no units. */
export const NVIDIA_SMI_ARGS = [`--query-gpu=${GPU_QUERY.join(',')}`, '--format=csv,noheader,nounits'] as const;

/** One GPU's figures; a figure the GPU does not report ("[N/A]", "[Not Supported]") is undefined. */
export interface GpuReading {
  readonly uuid: string;
  /** 0 to 1. */
  readonly utilization: number | undefined;
  readonly memoryTotalBytes: number | undefined;
  readonly memoryUsedBytes: number | undefined;
  /** Watts. */
  readonly powerUsage: number | undefined;
  readonly powerLimit: number | undefined;
}

const MiB = 1024 * 1024;

/**
 * Parses `nvidia-smi --query-gpu=<GPU_QUERY> --format=csv,noheader,nounits`: utilization in
 * percent (reported 0 to 1, as Triton's nv_gpu_utilization), memory in MiB (reported in
 * bytes), power in watts. Rows that do not have every column, or no UUID, are skipped.
 */
export function parseNvidiaSmi(csv: string): GpuReading[] {
  const readings: GpuReading[] = [];
  for (const line of csv.split('\n')) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== GPU_QUERY.length || !cells[0]!.startsWith('GPU-')) continue;
    const [uuid, util, total, used, draw, limit] = cells as [string, string, string, string, string, string];
    readings.push({
      uuid,
      utilization: scaled(util, 0.01),
      memoryTotalBytes: scaled(total, MiB),
      memoryUsedBytes: scaled(used, MiB),
      powerUsage: scaled(draw, 1),
      powerLimit: scaled(limit, 1),
    });
  }
  return readings;
}

function scaled(cell: string, factor: number): number | undefined {
  const value = Number(cell);
  return cell === '' || !Number.isFinite(value) ? undefined : value * factor;
}

/** Runs nvidia-smi's query once; rejects when it is missing, fails or takes over `timeoutMs`. */
export function queryNvidiaSmi(timeoutMs: number, command = 'nvidia-smi'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, NVIDIA_SMI_ARGS, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}
