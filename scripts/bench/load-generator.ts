/**
 * Drives the load-generating threads against one target at one load level and measures in
 * windows, as perf_analyzer does: a warm-up, then windows until the last three agree on
 * throughput within a tolerance (or a maximum count). Results cover the last three windows.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../src/instance/start-worker.js';
import type { HttpLoadWorkerJob } from './http-load-worker.js';
import type { FromLoadWorker, LoadWorkerJob } from './load-worker.js';
import { isStable } from './stats.js';

export interface LoadOptions {
  readonly target: string;
  readonly requests: readonly Uint8Array[];
  readonly mode: 'concurrency' | 'request-rate';
  readonly level: number;
  readonly clientWorkers: number;
  readonly warmupMs: number;
  readonly windowMs: number;
  readonly stability: number;
  readonly maxWindows: number;
  readonly decodeEvery: number;
  /** perf_analyzer's --streaming: one ModelStreamInfer call per outstanding request (closed loop). */
  readonly streaming?: boolean;
  /** With streaming: sequences of this many requests per slot (perf_analyzer's --sequence-length). */
  readonly sequenceLength?: number;
  /** perf_analyzer's -i http: `requests` are HTTP infer bodies with binary tensor data, sent to this route. */
  readonly http?: { readonly path: string; readonly headerLengths: readonly number[] };
}

export interface Measurement<Snapshot> {
  /** Requests per second of every window, in order. */
  readonly windowThroughputs: readonly number[];
  readonly stable: boolean;
  /** Latencies (µs) of the last three windows. */
  readonly latenciesUs: Float64Array;
  /** Requests per second over the last three windows. */
  readonly requestsPerSec: number;
  readonly errors: number;
  readonly firstError: string;
  /** Client process CPU over the last three windows, % of one core. */
  readonly clientCpuPct: number;
  /** Mean response decode time of the sampled responses (µs), or null. */
  readonly clientRecvUs: number | null;
  /** Snapshots taken at the start and at the end of the last three windows. */
  readonly snapshots: readonly [Snapshot, Snapshot];
}

interface WindowData {
  latencies: Float64Array[];
  completed: number;
  errors: number;
  firstError: string;
  recvUs: number;
  recvSamples: number;
  seconds: number;
  cpuUs: number;
}

/** Splits `total` into `parts` shares that differ by at most one, dropping empty ones. */
function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** One HTTP load worker's job: the same loop settings, the route and each body's JSON header length. */
function httpJob(options: LoadOptions, concurrency: number, workerCount: number): HttpLoadWorkerJob {
  const rate = options.mode === 'request-rate' ? options.level / workerCount : 0;
  return { target: options.target, path: options.http!.path, requests: options.requests, headerLengths: options.http!.headerLengths, concurrency, rate, decodeEvery: options.decodeEvery };
}

export async function measure<Snapshot>(options: LoadOptions, snapshot: () => Promise<Snapshot>): Promise<Measurement<Snapshot>> {
  const workerCount = options.mode === 'concurrency' ? Math.min(options.clientWorkers, options.level) : options.clientWorkers;
  const split = options.mode === 'concurrency' ? shares(options.level, workerCount) : new Array<number>(workerCount).fill(0);
  const workers: Worker[] = split.map((concurrency, index) =>
    startWorker(new URL(`./${options.http !== undefined ? 'http-load-worker' : 'load-worker'}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url), {
      workerData: options.http !== undefined ? httpJob(options, concurrency, workerCount) : {
        target: options.target,
        requests: options.requests,
        concurrency,
        rate: options.mode === 'request-rate' ? options.level / workerCount : 0,
        decodeEvery: options.decodeEvery,
        ...(options.streaming === true ? { streaming: true, workerIndex: index, ...(options.sequenceLength !== undefined ? { sequenceLength: options.sequenceLength } : {}) } : {}),
      } satisfies LoadWorkerJob,
    }),
  );
  const ask = async (message: 'collect' | 'stop'): Promise<FromLoadWorker[]> =>
    Promise.all(
      workers.map(
        (worker) =>
          new Promise<FromLoadWorker>((resolve, reject) => {
            worker.once('message', resolve);
            worker.once('error', reject);
            worker.postMessage({ type: message });
          }),
      ),
    );
  const collect = async (started: number, cpuStart: NodeJS.CpuUsage): Promise<WindowData> => {
    const replies = (await ask('collect')) as Extract<FromLoadWorker, { type: 'window' }>[];
    const cpu = process.cpuUsage(cpuStart);
    return {
      latencies: replies.map((r) => r.latencies),
      completed: replies.reduce((s, r) => s + r.completed, 0),
      errors: replies.reduce((s, r) => s + r.errors, 0),
      firstError: replies.find((r) => r.firstError !== '')?.firstError ?? '',
      recvUs: replies.reduce((s, r) => s + r.recvUs, 0),
      recvSamples: replies.reduce((s, r) => s + r.recvSamples, 0),
      seconds: (performance.now() - started) / 1000,
      cpuUs: cpu.user + cpu.system,
    };
  };

  try {
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('online', resolve))));
    for (const worker of workers) worker.postMessage({ type: 'start' });
    await sleep(options.warmupMs);
    await collect(performance.now(), process.cpuUsage());
    const windows: WindowData[] = [];
    const snapshots: Snapshot[] = [await snapshot()];
    let stable = false;
    while (windows.length < options.maxWindows && !stable) {
      const started = performance.now();
      const cpuStart = process.cpuUsage();
      await sleep(options.windowMs);
      windows.push(await collect(started, cpuStart));
      snapshots.push(await snapshot());
      stable = isStable(windows.map((w) => w.completed / w.seconds), options.stability);
    }
    await ask('stop');
    const last = windows.slice(-3);
    const seconds = last.reduce((s, w) => s + w.seconds, 0);
    const latencies = last.flatMap((w) => w.latencies);
    const merged = new Float64Array(latencies.reduce((s, l) => s + l.length, 0));
    let offset = 0;
    for (const part of latencies) {
      merged.set(part, offset);
      offset += part.length;
    }
    const recvSamples = last.reduce((s, w) => s + w.recvSamples, 0);
    return {
      windowThroughputs: windows.map((w) => w.completed / w.seconds),
      stable,
      latenciesUs: merged,
      requestsPerSec: last.reduce((s, w) => s + w.completed, 0) / seconds,
      errors: windows.reduce((s, w) => s + w.errors, 0),
      firstError: windows.find((w) => w.firstError !== '')?.firstError ?? '',
      clientCpuPct: (last.reduce((s, w) => s + w.cpuUs, 0) / (seconds * 1e6)) * 100,
      clientRecvUs: recvSamples > 0 ? last.reduce((s, w) => s + w.recvUs, 0) / recvSamples : null,
      snapshots: [snapshots.at(-1 - last.length)!, snapshots.at(-1)!],
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
