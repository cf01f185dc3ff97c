/**
 * The compute baseline: ONNX Runtime in-process on the same model with Nereid's thread
 * budget (as many sessions as Nereid has instances, each with the same intra-op threads,
 * each on its own worker thread, looping session.run). Measures items/s and run latency at
 * each batch size. Runs as its own process; reads a JSON job from argv, prints the result.
 */
import { isMainThread, parentPort, type Worker, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { startWorker } from '../../src/instance/start-worker.js';
import type { InProcessPoint, InProcessResult, LatencySummary } from './bench-types.js';
import { summarize } from './stats.js';

/** CPU seconds used by the whole process so far, every thread (getrusage RUSAGE_SELF). */
function processCpuSec(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
import { randomTensor, seededRandom, type InputSpec } from './workloads.js';

export interface InProcessJob {
  readonly modelPath: string;
  readonly inputs: readonly InputSpec[];
  readonly sessions: number;
  readonly threadsPerSession: number;
  readonly batches: readonly number[];
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly seed: number;
}

interface WorkerJob extends InProcessJob {
  readonly index: number;
}

/** One session's loop: per batch size, warm up, then run for durationMs recording latencies. */
async function sessionLoop(job: WorkerJob): Promise<void> {
  const session = await ort.InferenceSession.create(job.modelPath, { intraOpNumThreads: job.threadsPerSession, interOpNumThreads: 1 });
  const random = seededRandom(job.seed + job.index);
  for (const batch of job.batches) {
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of job.inputs) {
      const shape = [batch, ...input.shape.slice(1)];
      const bytes = randomTensor({ ...input, shape }, random);
      const data = input.datatype === 'FP32' ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) : new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      feeds[input.name] = new ort.Tensor(input.datatype === 'FP32' ? 'float32' : 'int32', data, shape);
    }
    parentPort!.postMessage({ type: 'ready' });
    await new Promise((resolve) => parentPort!.once('message', resolve));
    const latencies: number[] = [];
    const warmupEnd = performance.now() + job.warmupMs;
    while (performance.now() < warmupEnd) await session.run(feeds);
    const end = performance.now() + job.durationMs;
    let runs = 0;
    // The whole process's CPU over this loop (every session runs at once, ONNX Runtime's own
    // pool threads included): getrusage's process-wide figure, which keeps the time of threads
    // that have ended (a session that finished its last batch first ends its thread).
    const cpuStart = processCpuSec();
    const start = performance.now();
    while (performance.now() < end) {
      const t0 = performance.now();
      await session.run(feeds);
      latencies.push((performance.now() - t0) * 1000);
      runs++;
    }
    const seconds = (performance.now() - start) / 1000;
    const cpuRate = (processCpuSec() - cpuStart) / seconds;
    parentPort!.postMessage({ type: 'done', batch, items: runs * batch, seconds, latencies, cpuRate });
  }
  await session.release();
}

/** Runs the job on `sessions` worker threads, starting each batch size together. */
async function runJob(job: InProcessJob): Promise<InProcessResult> {
  const workers = Array.from({ length: job.sessions }, (_, index) => startWorker(new URL(import.meta.url), { workerData: { ...job, index } satisfies WorkerJob }));
  const next = (worker: Worker) => new Promise<any>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const sweep: InProcessPoint[] = [];
  for (const batch of job.batches) {
    await Promise.all(workers.map(next));
    const done = workers.map(next);
    for (const worker of workers) worker.postMessage('go');
    const results = (await Promise.all(done)) as { items: number; seconds: number; latencies: number[]; cpuRate: number | null }[];
    const itemsPerSec = results.reduce((sum, r) => sum + r.items / r.seconds, 0);
    const latency: LatencySummary = summarize(results.flatMap((r) => r.latencies));
    // Each session saw the process's CPU rate over its own (nearly the same) window.
    const rates = results.map((r) => r.cpuRate).filter((r): r is number => r !== null);
    const cpuPerItemUs = rates.length > 0 && itemsPerSec > 0 ? ((rates.reduce((a, b) => a + b, 0) / rates.length) / itemsPerSec) * 1e6 : undefined;
    sweep.push({ batch, itemsPerSec, latency, ...(cpuPerItemUs !== undefined ? { cpuPerItemUs } : {}) });
  }
  await Promise.all(workers.map((w) => w.terminate()));
  const batch1 = sweep.find((s) => s.batch === 1) ?? sweep[0]!;
  const best = sweep.reduce((a, b) => (b.itemsPerSec > a.itemsPerSec ? b : a));
  return {
    sessions: job.sessions,
    threadsPerSession: job.threadsPerSession,
    sweep,
    batch1: { itemsPerSec: batch1.itemsPerSec, latency: batch1.latency, ...(batch1.cpuPerItemUs !== undefined ? { cpuPerItemUs: batch1.cpuPerItemUs } : {}) },
    best,
  };
}

if (!isMainThread && (workerData as WorkerJob | undefined)?.modelPath !== undefined) {
  void sessionLoop(workerData as WorkerJob);
} else if (isMainThread && process.argv[2] !== undefined) {
  const job = JSON.parse(process.argv[2]) as InProcessJob;
  runJob(job).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (err: Error) => {
      process.stderr.write(`${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
}
