/**
 * Parsers for the /proc files behind Triton's CPU metrics (core/src/metrics.cc), with its
 * definitions: utilization from the aggregate `cpu` line of /proc/stat between two reads,
 * busy = user + nice + system + irq + softirq + steal and idle = idle + iowait (guest time
 * is already inside user and nice); memory from /proc/meminfo, used = MemTotal -
 * MemAvailable. Pure functions, so they are tested on recorded files.
 */

/** Cumulative CPU time of the whole machine, in clock ticks. */
export interface CpuTimes {
  readonly busy: number;
  readonly idle: number;
}

/** The aggregate line of /proc/stat; undefined when the text has none. */
export function parseCpuTimes(procStat: string): CpuTimes | undefined {
  const line = procStat.split('\n', 1)[0] ?? '';
  if (!line.startsWith('cpu ')) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const fields = [user, nice, system, idle, iowait, irq, softirq, steal];
  if (fields.some((f) => f === undefined || !Number.isFinite(f))) return undefined;
  return { busy: user! + nice! + system! + irq! + softirq! + steal!, idle: idle! + iowait! };
}

/** Busy share of the CPU time between two reads, 0 to 1 (0 when no time passed). */
export function cpuUtilization(now: CpuTimes, before: CpuTimes): number {
  // Counters can go back (a CPU taken offline): a negative difference counts as none, as in Triton.
  const busy = Math.max(0, now.busy - before.busy);
  const idle = Math.max(0, now.idle - before.idle);
  return busy + idle === 0 ? 0 : busy / (busy + idle);
}

/** The machine's memory in bytes. */
export interface MemoryReading {
  readonly totalBytes: number;
  readonly usedBytes: number;
}

/** MemTotal and MemAvailable of /proc/meminfo; undefined when either is missing or inconsistent. */
export function parseMemInfo(meminfo: string): MemoryReading | undefined {
  const kib = (key: string) => {
    const match = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(meminfo);
    return match === null ? undefined : Number(match[1]) * 1024;
  };
  const total = kib('MemTotal');
  const available = kib('MemAvailable');
  if (total === undefined || available === undefined || available > total) return undefined;
  return { totalBytes: total, usedBytes: total - available };
}
