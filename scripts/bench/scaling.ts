/**
 * Scaling past one event loop: throughput and main-thread CPU per request with the server in
 * 1, 2, 4 ... processes, to see whether the ceiling 1 / (main-thread CPU per request) moves.
 *
 *   npx tsx scripts/bench/scaling.ts --workload simple --processes 1,2 --concurrency 16 [options]
 *
 * --mode cluster (default): N processes behind one port (scripts/bench/cluster-serve.ts, Node's
 *   cluster module, the primary handing each connection to the next process); the load uses
 *   at least N connections (one per load-generating thread) so that every process gets some.
 * --mode ports: N independent servers on N ports, the load split evenly between them.
 * Every process loads the model and its own instances. Writes scaling.json under --out and
 * prints a table: processes, infer/s, p50, server CPU per request (main threads / all
 * threads), client CPU per request, each main thread's busy share, and the ceiling N / main.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isMain } from '../lib/model-repo.js';
import { ModelInferRequest } from '../../src/generated/grpc_service.js';
import { measure, type Measurement } from './load-generator.js';
import { machineInfo } from './machine.js';
import { singleModelRepository } from './run.js';
import { summarize } from './stats.js';
import { startCluster, startNereid, type ServerEntry, type ServerProcess } from './targets.js';
import { threadCpu, type ThreadCpu } from './thread-cpu.js';
import { WORKLOADS, randomTensor, resolveInputs, seededRandom } from './workloads.js';

export interface ScalingRow {
  readonly mode: 'cluster' | 'ports';
  readonly processes: number;
  readonly concurrency: number;
  readonly connections: number;
  readonly inferPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Main-thread CPU per request, all processes' main threads together over all requests. */
  readonly mainUsPerRequest: number;
  /** All server threads (instances, helpers) per request. */
  readonly serverUsPerRequest: number;
  readonly clientUsPerRequest: number;
  /** Each process's main thread: CPU seconds per second (1 = a whole core). */
  readonly mainBusy: readonly number[];
  /** processes × 1 / main-thread CPU per request: what the event loops could serve if nothing else bound. */
  readonly ceilingPerSec: number;
  /** Each process's resident memory at the end of the windows (MiB): what one more process costs. */
  readonly rssMiB: readonly number[];
  readonly errors: number;
}

/** A process's resident set size in MiB (VmRSS), NaN when it cannot be read. */
function rssMiB(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line === undefined ? NaN : Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return NaN;
  }
}

interface Snap {
  readonly at: number;
  readonly threads: readonly (ThreadCpu | null)[];
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** 16 seeded requests, pre-encoded as the bench's are. */
function encode(model: string, inputs: ReturnType<typeof resolveInputs>): Uint8Array[] {
  const random = seededRandom(1);
  return Array.from({ length: 16 }, () =>
    ModelInferRequest.encode(
      ModelInferRequest.fromPartial({
        modelName: model,
        inputs: inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape.map(BigInt) })),
        rawInputContents: inputs.map((i) => randomTensor(i, random)),
      }),
    ).finish().slice(),
  );
}

export interface ScalingOptions {
  readonly workload: string;
  readonly processes: readonly number[];
  readonly concurrency: number;
  readonly clientWorkers: number;
  readonly mode: 'cluster' | 'ports';
  readonly warmupMs: number;
  readonly windowMs: number;
  readonly maxWindows: number;
  readonly repository: string | undefined;
  readonly entry: ServerEntry;
  readonly log: (line: string) => void;
}

export async function runScaling(options: ScalingOptions): Promise<ScalingRow[]> {
  const workload = WORKLOADS[options.workload];
  if (workload === undefined) throw new Error(`unknown workload '${options.workload}'`);
  const scratch = mkdtempSync(path.join(tmpdir(), 'nereid-scaling-'));
  const rows: ScalingRow[] = [];
  try {
    // Only the workload's model, as the bench serves it: each process's memory is then that model's.
    const repository = await singleModelRepository(options.repository ?? (await workload.repository(path.join(scratch, 'repo'))), workload.model, scratch, 'as-configured');
    const inputs = resolveInputs(workload, new Map(), undefined);
    const batch = inputs[0]?.shape[0] ?? 1;
    const requests = encode(workload.model, inputs);
    for (const n of options.processes) {
      const tagsDir = path.join(scratch, `threads-${options.mode}-${n}`);
      let servers: ServerProcess[];
      let pids: number[];
      if (options.mode === 'cluster') {
        const c = await startCluster(n, repository, options.entry, { tagsDir });
        servers = [c];
        pids = [...c.pids];
      } else {
        servers = [];
        for (let i = 0; i < n; i++) servers.push(await startNereid(`nereid-${i}`, repository, options.entry, [], { tagsDir }));
        pids = servers.map((s) => s.pid!);
      }
      try {
        const snapshot = async (): Promise<Snap> => ({ at: performance.now(), threads: pids.map((pid) => threadCpu(pid, tagsDir)) });
        const settings = (level: number, workers: number) => ({
          requests, mode: 'concurrency' as const, level, clientWorkers: workers, warmupMs: options.warmupMs, windowMs: options.windowMs,
          stability: 0.1, maxWindows: options.maxWindows, decodeEvery: 16,
        });
        // One load per address: the cluster's one port, or each server's own.
        const loads = options.mode === 'cluster'
          ? [{ target: servers[0]!.address, level: options.concurrency, workers: Math.max(options.clientWorkers, n) }]
          : servers.map((s, i) => ({ target: s.address, level: Math.floor(options.concurrency / n) + (i < options.concurrency % n ? 1 : 0), workers: Math.max(1, Math.round(options.clientWorkers / n)) }));
        // Each load takes its own snapshots; CPU is read from the first load's (they overlap).
        const measured: Measurement<Snap>[] = await Promise.all(loads.map((l, i) => measure({ target: l.target, ...settings(l.level, l.workers) }, i === 0 ? snapshot : async () => ({ at: performance.now(), threads: [] }))));
        const first = measured[0]!;
        const [from, to] = first.snapshots;
        const seconds = (to.at - from.at) / 1000;
        const rps = sum(measured.map((m) => m.requestsPerSec));
        const delta = (pick: (t: ThreadCpu) => number) => pids.map((_, i) => (to.threads[i] && from.threads[i] ? pick(to.threads[i]!) - pick(from.threads[i]!) : NaN));
        const mainSec = delta((t) => t.mainSec);
        const totalSec = delta((t) => t.totalSec);
        const requestsInWindow = rps * seconds;
        const mainUs = (sum(mainSec) / requestsInWindow) * 1e6;
        const latencies = summarize(Float64Array.from(measured.flatMap((m) => [...m.latenciesUs])));
        const row: ScalingRow = {
          mode: options.mode,
          processes: n,
          concurrency: options.concurrency,
          connections: sum(loads.map((l) => Math.min(l.workers, l.level))),
          inferPerSec: rps * batch,
          p50Ms: latencies.p50Us / 1000,
          p99Ms: latencies.p99Us / 1000,
          mainUsPerRequest: mainUs,
          serverUsPerRequest: (sum(totalSec) / requestsInWindow) * 1e6,
          clientUsPerRequest: (sum(measured.map((m) => m.clientCpuPct)) / measured.length / 100 / rps) * 1e6,
          mainBusy: mainSec.map((s) => s / seconds),
          ceilingPerSec: (n * 1e6) / mainUs,
          rssMiB: pids.map(rssMiB),
          errors: sum(measured.map((m) => m.errors)),
        };
        rows.push(row);
        options.log(formatRow(row));
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
    }
    return rows;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export const HEADER = 'mode | processes | c | connections | infer/s | p50 ms | p99 ms | main µs/req | server µs/req | client µs/req | main threads busy | ceiling N/main infer/s | RSS MiB each | errors';

export function formatRow(r: ScalingRow): string {
  return [r.mode, r.processes, r.concurrency, r.connections, r.inferPerSec.toFixed(1), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), r.mainUsPerRequest.toFixed(0), r.serverUsPerRequest.toFixed(0), r.clientUsPerRequest.toFixed(0),
    r.mainBusy.map((b) => b.toFixed(2)).join(' '), r.ceilingPerSec.toFixed(0), r.rssMiB.map((m) => m.toFixed(0)).join(' '), r.errors].join(' | ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workload: { type: 'string', default: 'simple' }, processes: { type: 'string', default: '1,2' }, concurrency: { type: 'string', default: '16' },
      'client-workers': { type: 'string', default: '2' }, mode: { type: 'string', default: 'cluster' }, 'warmup-ms': { type: 'string', default: '1000' },
      'window-ms': { type: 'string', default: '2000' }, 'max-windows': { type: 'string', default: '5' }, repository: { type: 'string' },
      'server-main': { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write('npx tsx scripts/bench/scaling.ts [--workload simple] [--processes 1,2,4] [--concurrency 16] [--client-workers 2] [--mode cluster|ports]\n  [--warmup-ms 1000] [--window-ms 2000] [--max-windows 5] [--repository DIR] [--server-main path/to/main.js] [--out DIR]\n');
    return;
  }
  const mode = values.mode === 'ports' ? 'ports' : 'cluster';
  process.stdout.write(`scaling ${values.workload} on ${availableParallelism()} CPUs, ${mode}\n${HEADER}\n`);
  const rows = await runScaling({
    workload: values.workload!,
    processes: values.processes!.split(',').map(Number),
    concurrency: Number(values.concurrency),
    clientWorkers: Number(values['client-workers']),
    mode,
    warmupMs: Number(values['warmup-ms']),
    windowMs: Number(values['window-ms']),
    maxWindows: Number(values['max-windows']),
    repository: values.repository,
    entry: values['server-main'] !== undefined ? { main: path.resolve(values['server-main']) } : 'dist',
    log: (line) => process.stdout.write(`${line}\n`),
  });
  if (values.out !== undefined) {
    mkdirSync(values.out, { recursive: true });
    writeFileSync(path.join(values.out, `scaling-${values.workload}-${mode}.json`), `${JSON.stringify({ machine: machineInfo(), workload: values.workload, rows }, null, 2)}\n`);
  }
}

if (isMain(import.meta.url)) {
  main().catch((err: Error) => {
    process.stderr.write(`scaling failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
