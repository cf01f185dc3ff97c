/**
 * The processes the benchmark measures: Nereid itself (built, from dist/), the echo
 * transport baseline, and the in-process ONNX Runtime baseline. Each runs in its own
 * process, so the load generator never shares an event loop with a server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { status } from '@grpc/grpc-js';
import { ProtoClient } from '../lib/grpc-client.js';
import type { InProcessResult, ResponseOutput, ServerSplit } from './bench-types.js';
import type { InProcessJob } from './inprocess.js';
import { THREAD_TAG_PRELOAD } from './thread-cpu.js';

const ROOT = new URL('../../', import.meta.url);

/** A running server process with the address clients use. */
export interface ServerProcess {
  readonly name: string;
  readonly address: string;
  /** host:port of its HTTP/REST endpoint, where it has one (Nereid, the HTTP echo). */
  readonly httpAddress?: string;
  /** Process id, when this run started the server (or --server-pid named it). */
  readonly pid?: number;
  /** Where thread-tag.cjs tags the server's worker threads, when this run started it. */
  readonly tagsDir?: string;
  /** Where the server writes its .cpuprofile files (--cpu-prof), one per thread, when it stops. */
  readonly profileDir?: string;
  stop(): Promise<void>;
}

/** How a server process is started besides its own arguments. */
export interface ProcessOptions {
  /** A folder for thread-tag.cjs: the server's threads are then told apart in the CPU columns. */
  readonly tagsDir?: string;
  /** Start it with `--cpu-prof --cpu-prof-dir=<dir>`: one profile per thread, written at exit. */
  readonly profileDir?: string;
}

function nodeArgs(options: ProcessOptions): string[] {
  return [
    ...(options.tagsDir !== undefined ? ['--require', THREAD_TAG_PRELOAD] : []),
    ...(options.profileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : []),
  ];
}

async function startProcess(name: string, args: string[], ready: (entry: Record<string, unknown>) => number | undefined, options: ProcessOptions = {}): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs(options), ...args], {
    cwd: fileURLToPath(ROOT),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(options.tagsDir !== undefined ? { NEREID_THREAD_TAGS: options.tagsDir } : {}) },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  /** The last error the server logged, to say why it did not start. */
  let lastError = '';
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (typeof entry['level'] === 'number' && entry['level'] >= 50) lastError = line;
        const found = ready(entry);
        if (found !== undefined) resolve(found);
      } catch {
        // not a JSON line
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready: ${stderr}${lastError}`)));
  });
  return {
    name,
    address: `127.0.0.1:${port}`,
    ...(child.pid !== undefined ? { pid: child.pid } : {}),
    ...(options.tagsDir !== undefined ? { tagsDir: options.tagsDir } : {}),
    ...(options.profileDir !== undefined ? { profileDir: options.profileDir } : {}),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Which Nereid to start: the build in dist/, the sources through tsx, or a main.js at a path (the device bundle's). */
export type ServerEntry = 'dist' | 'source' | { readonly main: string };

function serverMain(entry: ServerEntry): string[] {
  if (entry === 'dist') return ['dist/main.js'];
  if (entry === 'source') return ['--import', 'tsx', 'src/main.ts'];
  return [entry.main];
}

/** The flags every benchmarked server gets: every port on loopback and chosen by the system, JSON logs. */
function serverFlags(repository: string): string[] {
  return ['--model-repository', repository, '--grpc-address', '127.0.0.1', '--grpc-port', '0', '--http-address', '127.0.0.1', '--http-port', '0', '--metrics-address', '127.0.0.1', '--metrics-port', '0', '--log-format', 'json'];
}

/**
 * Starts `processes` Nereid processes behind one loopback port (scripts/bench/cluster-serve.ts,
 * Node's cluster module); `pids` are theirs, `pid` the primary's (which only hands off connections).
 */
export async function startCluster(processes: number, repository: string, entry: ServerEntry, options: ProcessOptions = {}): Promise<ServerProcess & { readonly pids: readonly number[] }> {
  const pids: number[] = [];
  const launcher = new URL(`./cluster-serve${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  const main = serverMain(entry).at(-1)!;
  const server = await startProcess(
    `cluster-${processes}`,
    [...(launcher.pathname.endsWith('.ts') || main.endsWith('.ts') ? ['--import', 'tsx'] : []), fileURLToPath(launcher), String(processes), main, ...serverFlags(repository)],
    (line) => {
      if (line['msg'] === 'cluster worker') pids.push(line['pid'] as number);
      return line['msg'] === 'server is ready' ? (line['port'] as number) : undefined;
    },
    // The workers inherit the primary's flags (the thread-tag preload, --cpu-prof) and environment.
    options,
  );
  return { ...server, pids };
}

/**
 * Starts Nereid on a free loopback port and resolves once it is ready: the build in dist/
 * (what `npm run bench` measures, after building), or the sources through tsx (tests).
 */
export async function startNereid(name: string, repository: string, entry: ServerEntry, extraArgs: readonly string[] = [], options: ProcessOptions = {}): Promise<ServerProcess> {
  let port: number | undefined;
  let httpPort: number | undefined;
  const main = serverMain(entry);
  const server = await startProcess(
    name,
    // Every port on loopback and chosen by the system: several servers run side by side.
    [...main, ...serverFlags(repository), ...extraArgs],
    (entry) => {
      if (entry['msg'] === 'gRPC endpoint listening') port = entry['port'] as number;
      if (entry['msg'] === 'HTTP endpoint listening') httpPort = entry['port'] as number;
      return entry['msg'] === 'server is ready' ? port : undefined;
    },
    options,
  );
  return httpPort === undefined ? server : { ...server, httpAddress: `127.0.0.1:${httpPort}` };
}

/**
 * Starts the echo server (scripts/bench/echo-server.ts). With `outputs` it answers with
 * outputs of those names and sizes (the model's real response) instead of the request's inputs.
 */
export function startEcho(outputs: readonly ResponseOutput[] | undefined, options: ProcessOptions = {}): Promise<ServerProcess> {
  return startProcess(
    'echo',
    ['--import', 'tsx', 'scripts/bench/echo-server.ts', ...(outputs !== undefined ? [JSON.stringify(outputs)] : [])],
    (entry) => (entry['msg'] === 'listening' ? (entry['port'] as number) : undefined),
    options,
  );
}

/**
 * Starts the HTTP echo server (scripts/bench/http-echo-server.ts), the HTTP transport
 * baseline, answering the infer route with `outputs` as binary data (or the request's inputs).
 */
export async function startHttpEcho(outputs: readonly ResponseOutput[] | undefined, options: ProcessOptions = {}): Promise<ServerProcess> {
  const server = await startProcess(
    'echo-http',
    ['--import', 'tsx', 'scripts/bench/http-echo-server.ts', ...(outputs !== undefined ? [JSON.stringify(outputs)] : [])],
    (entry) => (entry['msg'] === 'listening' ? (entry['port'] as number) : undefined),
    options,
  );
  return { ...server, httpAddress: server.address };
}

/** Runs the in-process ONNX Runtime baseline in its own process. */
export async function runInProcess(job: InProcessJob): Promise<InProcessResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/inprocess.ts', JSON.stringify(job)], {
    cwd: fileURLToPath(ROOT),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`in-process baseline failed (${code}): ${err}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as InProcessResult;
}

/** Cumulative counters from ModelStatistics, or null when the server has no such RPC. */
export interface StatsSnapshot {
  readonly requests: number;
  readonly queueNs: number;
  readonly computeInputNs: number;
  readonly computeInferNs: number;
  readonly computeOutputNs: number;
  /** Items executed (inference_count) and batches executed (execution_count), for the mean batch size. */
  readonly inferences: number;
  readonly executions: number;
}

/** Reads a model's cumulative statistics (successful requests and phase times). */
export async function statsSnapshot(client: ProtoClient, model: string): Promise<StatsSnapshot | null> {
  try {
    const reply = await client.call<{ model_stats: { inference_stats: Record<string, { count: number; ns: number }>; inference_count?: number; execution_count?: number }[] }>('ModelStatistics', { name: model });
    const stats = reply.model_stats[0]?.inference_stats;
    if (stats === undefined) return null;
    const ns = (key: string) => stats[key]?.ns ?? 0;
    return {
      requests: stats['success']?.count ?? 0,
      queueNs: ns('queue'),
      computeInputNs: ns('compute_input'),
      computeInferNs: ns('compute_infer'),
      computeOutputNs: ns('compute_output'),
      inferences: Number(reply.model_stats[0]?.inference_count ?? 0),
      executions: Number(reply.model_stats[0]?.execution_count ?? 0),
    };
  } catch (err) {
    if ((err as { code?: number }).code === status.UNIMPLEMENTED) return null;
    throw err;
  }
}

/** Mean items per executed batch between two snapshots; null without statistics or executions. */
export function executedBatch(from: StatsSnapshot | null, to: StatsSnapshot | null): number | null {
  if (from === null || to === null || to.executions <= from.executions) return null;
  return (to.inferences - from.inferences) / (to.executions - from.executions);
}

/** Per-request server phases between two snapshots. */
export function serverSplit(from: StatsSnapshot | null, to: StatsSnapshot | null): ServerSplit | null {
  if (from === null || to === null || to.requests <= from.requests) return null;
  const n = to.requests - from.requests;
  const per = (a: number, b: number) => (b - a) / n / 1000;
  return {
    queueUs: per(from.queueNs, to.queueNs),
    computeInputUs: per(from.computeInputNs, to.computeInputNs),
    computeInferUs: per(from.computeInferNs, to.computeInferNs),
    computeOutputUs: per(from.computeOutputNs, to.computeOutputNs),
  };
}

/** CPU seconds (user + system, all threads) a process has used so far; null off Linux or when it is gone. */
export function processCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Linux reports process times in clock ticks; 100 per second on every common build. */
const CLOCK_TICKS = 100;

/** An OTLP/HTTP endpoint on loopback that accepts span exports and drops them. */
export async function startTraceSink(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    request.resume();
    // An empty ExportTraceServiceResponse in the encoding the exporter sent.
    request.on('end', () =>
      request.headers['content-type'] === 'application/json'
        ? response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
        : response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
