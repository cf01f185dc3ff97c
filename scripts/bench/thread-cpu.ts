/**
 * CPU time of a process's threads from /proc, split into the main thread, the JavaScript
 * worker threads (a server's model instances) and the rest. Worker threads are known by the
 * tags scripts/bench/thread-tag.cjs writes from inside each of them: Node gives its threads no
 * names, so /proc/<pid>/task/<tid>/comm is "node" for all of them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The preload that tags threads, to pass as `--import` to a measured Node process. */
export const THREAD_TAG_PRELOAD = fileURLToPath(new URL('./thread-tag.cjs', import.meta.url));

/** CPU seconds used so far by each group of a process's threads (those alive now). */
export interface ThreadCpu {
  readonly mainSec: number;
  readonly workersSec: number;
  readonly otherSec: number;
  readonly totalSec: number;
}

/** Linux reports /proc/<pid>/stat times in clock ticks; 100 per second on every common build. */
const CLOCK_TICKS = 100;

/**
 * One thread's CPU seconds: schedstat's first field (nanoseconds on CPU, user and system) where
 * the kernel has it, else utime + stime from stat (10 ms ticks). Null when the thread is gone.
 */
export function taskCpuSeconds(pid: number, tid: number): number | null {
  try {
    const schedstat = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
    return Number(schedstat.split(' ')[0]) / 1e9;
  } catch {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      return null;
    }
  }
}

/** Thread ids of the worker threads tagged in `tagsDir` (none when it does not exist). */
export function taggedWorkerTids(tagsDir: string | undefined): Set<number> {
  const tids = new Set<number>();
  if (tagsDir === undefined || !existsSync(tagsDir)) return tids;
  for (const file of readdirSync(tagsDir)) {
    try {
      const tag = JSON.parse(readFileSync(path.join(tagsDir, file), 'utf8')) as { tid: number; main: boolean };
      if (!tag.main) tids.add(tag.tid);
    } catch {
      // a tag being written right now; the next snapshot reads it
    }
  }
  return tids;
}

/**
 * Sums the CPU of a process's live threads by group; null off Linux or once the process is
 * gone. Threads that ended since an earlier snapshot take their time with them, so compare
 * snapshots taken while the set of threads is steady (a measured window is).
 */
export function threadCpu(pid: number | undefined, tagsDir?: string): ThreadCpu | null {
  if (pid === undefined) return null;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const workers = taggedWorkerTids(tagsDir);
  let mainSec = 0;
  let workersSec = 0;
  let otherSec = 0;
  for (const name of tasks) {
    const tid = Number(name);
    const sec = taskCpuSeconds(pid, tid);
    if (sec === null) continue;
    if (tid === pid) mainSec += sec;
    else if (workers.has(tid)) workersSec += sec;
    else otherSec += sec;
  }
  return { mainSec, workersSec, otherSec, totalSec: mainSec + workersSec + otherSec };
}
