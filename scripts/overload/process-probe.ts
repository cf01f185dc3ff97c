/**
 * Samples a server process from /proc (Linux): its resident memory and the CPU time of its
 * main thread (the thread whose id is the process id), where Nereid's transport, queue and
 * batching run. Other threads (ONNX Runtime workers) are left out on purpose: a busy main
 * thread after the load stops means the event loop is still catching up.
 */
import { readFileSync } from 'node:fs';

/** Linux reports thread times in clock ticks; 100 per second on every common build. */
const CLOCK_TICKS = 100;

export interface ProcessSample {
  /** ms since the epoch. */
  readonly at: number;
  readonly rssBytes: number;
  /** CPU seconds (user + system) the main thread has used so far. */
  readonly mainThreadCpuS: number;
}

/** One sample, or undefined when the process is gone or /proc cannot be read. */
export function sampleProcess(pid: number): ProcessSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    if (!Number.isFinite(rssKb) || !Number.isFinite(cpu)) return undefined;
    return { at: performance.timeOrigin + performance.now(), rssBytes: rssKb * 1024, mainThreadCpuS: cpu };
  } catch {
    return undefined;
  }
}

/**
 * How long after `from` the main thread stayed busy: the end of the last window of
 * `windowMs` in which it used at least `busyShare` of a core, minus `from` (0 when it was
 * never that busy after `from`). `stillBusy` when the last window was busy.
 */
export function busyAfter(samples: readonly ProcessSample[], from: number, windowMs = 500, busyShare = 0.25): { seconds: number; stillBusy: boolean } {
  let lastBusyEnd = from;
  let stillBusy = false;
  let startIndex = samples.findIndex((s) => s.at >= from);
  if (startIndex < 0) return { seconds: 0, stillBusy: false };
  for (let i = startIndex + 1; i < samples.length; i++) {
    const end = samples[i]!;
    while (startIndex < i - 1 && end.at - samples[startIndex + 1]!.at >= windowMs) startIndex++;
    const begin = samples[startIndex]!;
    const span = end.at - begin.at;
    if (span < windowMs * 0.8) continue;
    const busy = (end.mainThreadCpuS - begin.mainThreadCpuS) / (span / 1000) >= busyShare;
    if (busy) lastBusyEnd = end.at;
    stillBusy = busy;
  }
  return { seconds: (lastBusyEnd - from) / 1000, stillBusy };
}
