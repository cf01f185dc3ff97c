/**
 * Summarises the per-thread V8 CPU profiles a bench run took with --cpu-prof into self time
 * per function and per file, in µs per request over the run's measured windows:
 *
 *   npx tsx scripts/bench/profile-summary.ts --run bench/runs/<run>/simple.json [--target nereid] [--level 16] [--top 25]
 *   npx tsx scripts/bench/profile-summary.ts --dir <profiles> [--requests N] [--top 25]   (whole profiles)
 *
 * Node writes one .cpuprofile per thread (CPU.<date>.<time>.<pid>.<threadId>.<n>.cpuprofile;
 * thread 0 is the main thread, the others are workers: a server's model instances). Samples
 * are stamped with the monotonic clock the bench records its window edges in, so only the
 * samples inside the measured windows count. "(idle)" is time the thread slept, "(program)"
 * native code V8 cannot attribute to a function, "(garbage collector)" GC on that thread.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isMain } from '../lib/model-repo.js';
import type { BenchRun } from './bench-types.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}
/** The parts of a .cpuprofile (Chrome DevTools' format) this reads. */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Window {
  readonly fromUs: number;
  readonly toUs: number;
}

/** Self time (µs) by node id inside the windows (all of the profile when there are none). */
export function selfTimes(profile: CpuProfile, windows: readonly Window[]): Map<number, number> {
  const self = new Map<number, number>();
  let t = profile.startTime;
  const inside = (ts: number) => windows.length === 0 || windows.some((w) => ts >= w.fromUs && ts < w.toUs);
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const weight = i + 1 < profile.timeDeltas.length ? profile.timeDeltas[i + 1]! : 0;
    if (weight <= 0 || !inside(t)) continue;
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + weight);
  }
  return self;
}

/** Where a frame's code lives: the repository's own file, a package, a Node module, or V8 itself. */
export function fileOf(frame: CallFrame): string {
  const url = frame.url;
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg !== null) return pkg[1]!;
  // The built server: dist/ holds src/'s tree (dist/scheduler/batch.js); the device bundle's
  // dist/ holds src/ and scripts/ themselves.
  const built = /\/dist\/((?:src|scripts)\/)?(.*)$/.exec(url);
  if (built !== null) return `${built[1] ?? 'src/'}${built[2]}`;
  const own = /\/((?:src|scripts)\/.*)$/.exec(url);
  return own !== null ? own[1]! : url;
}

function functionKey(frame: CallFrame): string {
  const file = fileOf(frame);
  if (frame.url === '') return frame.functionName || '(anonymous native)';
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

/** One thread group's totals: busy time and the time by function and by file, in µs. */
export interface ThreadSummary {
  readonly label: string;
  readonly threads: number;
  readonly busyUs: number;
  readonly idleUs: number;
  readonly byFunction: Map<string, number>;
  readonly byFile: Map<string, number>;
}

/** Adds one profile's samples to a summary. */
export function addProfile(summary: ThreadSummary, profile: CpuProfile, windows: readonly Window[]): ThreadSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  let busyUs = summary.busyUs;
  let idleUs = summary.idleUs;
  for (const [id, us] of selfTimes(profile, windows)) {
    const frame = nodes.get(id)!;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const fn = functionKey(frame);
    summary.byFunction.set(fn, (summary.byFunction.get(fn) ?? 0) + us);
    const file = fileOf(frame);
    summary.byFile.set(file, (summary.byFile.get(file) ?? 0) + us);
  }
  return { ...summary, threads: summary.threads + 1, busyUs, idleUs };
}

/** Node's profile file name: CPU.<date>.<time>.<pid>.<threadId>.<n>.cpuprofile. */
export function threadIdOf(file: string): number | null {
  const m = /^CPU\.\d+\.\d+\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(path.basename(file));
  return m === null ? null : Number(m[1]);
}

const MAIN = 'main thread';
const WORKERS = 'worker threads (instances)';

/** Reads every profile in `dir`, summarised as the main thread and the worker threads. */
export function summariseDir(dir: string, windows: readonly Window[]): ThreadSummary[] {
  const empty = (label: string): ThreadSummary => ({ label, threads: 0, busyUs: 0, idleUs: 0, byFunction: new Map(), byFile: new Map() });
  let main = empty(MAIN);
  let workers = empty(WORKERS);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    // Workers that ended before the windows (start-up builders) have no samples in them.
    if (windows.length > 0 && !windows.some((w) => profile.endTime > w.fromUs && profile.startTime < w.toUs)) continue;
    if (threadIdOf(file) === 0) main = addProfile(main, profile, windows);
    else workers = addProfile(workers, profile, windows);
  }
  return [main, workers].filter((s) => s.threads > 0);
}

function top(map: Map<string, number>, n: number): [string, number][] {
  return [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
}

/**
 * Markdown: per thread group, busy µs per request, then the top functions and files. A
 * profile's samples are wall time: on a busy machine a thread that is runnable but not running
 * still collects them. So where /proc's CPU per request for the group is known (`cpuUs`, by
 * label), each share of busy time is also given as CPU µs per request: share × that figure.
 */
export function formatSummary(summaries: readonly ThreadSummary[], requests: number | null, topN: number, title: string, cpuUs: Readonly<Record<string, number | null>> = {}): string {
  const per = (us: number) => (requests !== null && requests > 0 ? (us / requests).toFixed(1) : '—');
  const out = [`## ${title}`, ''];
  if (requests !== null) out.push(`${requests} requests in the measured windows.`, '');
  for (const s of summaries) {
    const pct = (us: number) => (s.busyUs > 0 ? ((100 * us) / s.busyUs).toFixed(1) : '0');
    const cpu = cpuUs[s.label] ?? null;
    const scaled = (us: number) => (cpu !== null && s.busyUs > 0 ? ((us / s.busyUs) * cpu).toFixed(1) : '—');
    const table = (what: string, map: Map<string, number>) => [
      `| self time, by ${what} | sampled µs per request | % of busy | CPU µs per request (share × /proc) |`,
      '| --- | ---: | ---: | ---: |',
      ...top(map, topN).map(([k, us]) => `| ${k.replace(/\|/g, '\\|')} | ${per(us)} | ${pct(us)} | ${scaled(us)} |`),
      '',
    ];
    out.push(
      `### ${s.label} (${s.threads} profile${s.threads === 1 ? '' : 's'}): sampled busy ${per(s.busyUs)} µs per request, idle ${per(s.idleUs)}` +
        (cpu !== null ? `; /proc CPU ${cpu.toFixed(1)} µs per request` : ''),
      '',
      ...table('file', s.byFile),
      ...table('function', s.byFunction),
    );
  }
  return out.join('\n');
}

const USAGE = `Usage: npx tsx scripts/bench/profile-summary.ts --run <run.json> [--target nereid] [--level N] [--top 25]
       npx tsx scripts/bench/profile-summary.ts --dir <profiles> [--requests N] [--top 25]`;

export function main(argv: readonly string[]): number {
  const { values } = parseArgs({
    args: [...argv],
    options: { run: { type: 'string' }, dir: { type: 'string' }, target: { type: 'string' }, level: { type: 'string' }, requests: { type: 'string' }, top: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const topN = Number(values.top ?? 25);
  if (values.help || (values.run === undefined && values.dir === undefined)) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (values.dir !== undefined) {
    const requests = values.requests === undefined ? null : Number(values.requests);
    console.log(formatSummary(summariseDir(values.dir, []), requests, topN, `${values.dir} (whole profiles)`));
    return 0;
  }
  const run = JSON.parse(readFileSync(values.run!, 'utf8')) as BenchRun;
  const rows = run.results.filter((r) => r.profile !== undefined && (values.target === undefined || r.target === values.target) && (values.level === undefined || r.level === Number(values.level)));
  if (rows.length === 0) {
    console.error(`${values.run}: no profiled rows${values.target ? ` for ${values.target}` : ''}${values.level ? ` at level ${values.level}` : ''} (run the bench with --cpu-prof DIR)`);
    return 1;
  }
  for (const row of rows) {
    const { dir, windows } = row.profile!;
    const requests = windows.reduce((s, w) => s + w.requests, 0);
    const cpu = row.cpu;
    const title = `${run.workload.name}, ${row.target} at c=${row.level}: ${row.inferPerSec.toFixed(1)} infer/s` +
      (cpu?.serverMainUs != null ? `; /proc: main ${cpu.serverMainUs.toFixed(0)} µs, instances ${cpu.serverInstancesUs!.toFixed(0)} µs, other ${cpu.serverOtherUs!.toFixed(0)} µs per request` : '');
    console.log(formatSummary(summariseDir(dir, windows), requests, topN, title, { [MAIN]: cpu?.serverMainUs ?? null, [WORKERS]: cpu?.serverInstancesUs ?? null }));
  }
  return 0;
}

if (isMain(import.meta.url)) process.exitCode = main(process.argv.slice(2));
