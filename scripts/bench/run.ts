/**
 * npm run bench -- --workload simple|ocr-cls|ocr-rec [options]
 *
 * perf_analyzer-style load against Nereid, with baselines measured in the same run and
 * alternated (A B A B) so drift hits all of them alike: `echo` (the same gRPC stubs with no
 * validation, scheduling or ONNX: the transport limit) and `inprocess` (ONNX Runtime on
 * the same model and thread budget: the compute limit). Prints a table with
 * nereid/echo and nereid/in-process ratios and writes JSON + perf_analyzer CSV.
 * `--help` lists the options.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeDevices } from '../../src/backend/device-probe.js';
import { INT8_FORMATS } from '../../src/core/int8-format.js';
import { ModelInferRequest } from '../../src/generated/grpc_service.js';
import { loadModelDefinition } from '../../src/repository/model-definition.js';
import { formatModelConfigText, parseModelConfigText } from '../../src/repository/config-text.js';
import { scanRepositories } from '../../src/repository/model-source.js';
import { ProtoClient } from '../lib/grpc-client.js';
import { BENCH_SCHEMA, type BenchRun, type BenchSettings, type CpuPerRequest, type InProcessPoint, type InProcessResult, type PrecisionRunInfo, type ResultRow } from './bench-types.js';
import { csvFileName, toPerfAnalyzerCsv } from './csv.js';
import { computeChecks } from './checks.js';
import { measure, type Measurement } from './load-generator.js';
import { shmRequests } from './shared-memory.js';
import { machineInfo } from './machine.js';
import { summarize } from './stats.js';
import { executedBatch, processCpuSeconds, runInProcess, serverSplit, startEcho, startHttpEcho, startNereid, startTraceSink, statsSnapshot, type ProcessOptions, type ServerEntry, type ServerProcess, type StatsSnapshot } from './targets.js';
import { computeCost, costChecks, formatCost } from './cost.js';
import { responseOutputs } from './response-outputs.js';
import { threadCpu, type ThreadCpu } from './thread-cpu.js';
import { WORKLOADS, randomTensor, resolveInputs, seededRandom, type InputSpec } from './workloads.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DISTINCT_REQUESTS = 16;

export interface BenchOptions {
  readonly workload: string;
  readonly settings: BenchSettings;
  readonly shapes: ReadonlyMap<string, number[]>;
  readonly batchSize: number | undefined;
  readonly targets: readonly string[];
  readonly url: string | undefined;
  /** A model repository to use instead of the workload's own (the device check brings one). */
  readonly repository: string | undefined;
  readonly out: string;
  /** File name stem of the run's JSON and CSV files. */
  readonly name: string;
  readonly inProcessMs: number;
  /** Request parameter `precision` sent with every request (fp32, fp16, int8); none when undefined. */
  readonly precision: string | undefined;
  /** Measure each of these precisions on one server, as targets nereid-<precision>. */
  readonly precisions: readonly string[] | undefined;
  /** For --precisions on the OCR workloads: how int8 is made, and whether failing variants serve anyway. */
  readonly int8Mode: 'dynamic' | 'static';
  /** For --precisions: the model's int8_format (auto, or a format to force). */
  readonly int8Format: string;
  readonly liftTolerances: boolean;
  readonly quiet: boolean;
  /** Which Nereid to start: the build (default) or the sources (tests). */
  readonly nereidEntry: ServerEntry;
  /** perf_analyzer's --shared-memory: `system` adds target nereid-shm (tensors through /dev/shm). */
  readonly sharedMemory: 'none' | 'system';
  /** Start the servers under `node --cpu-prof`, one folder per target under this one. */
  readonly cpuProf: string | undefined;
  /** With --url: the server's process id, so that its CPU is read from /proc. */
  readonly serverPid: number | undefined;
  /** With --url: the folder that server's thread-tag.cjs preload writes to (its instance threads). */
  readonly threadTags: string | undefined;
  /** perf_analyzer's -i: grpc, http, or both; http measures targets nereid-http and echo-http. */
  readonly protocols: readonly Protocol[];
  /** With --url and --protocol http: the running server's HTTP endpoint (host:port). */
  readonly httpUrl: string | undefined;
}

/** The protocols --protocol takes, as perf_analyzer's -i. */
export type Protocol = 'grpc' | 'http';

/** A target measured over HTTP/REST: its endpoint, the infer route, and what the bodies cost to encode. */
interface HttpTarget {
  readonly address: string;
  readonly path: string;
  readonly headerLengths: readonly number[];
  readonly sendUs: number;
}

/** Targets measured over ModelStreamInfer (one stream per outstanding request) rather than ModelInfer. */
const STREAMING_TARGETS = new Set(['nereid-stream']);

const HELP = `npm run bench -- --workload <simple|ocr-cls|ocr-rec|mlp> [options]
  --concurrency 1:64:x2    levels: start:end:xfactor, start:end:step, or a list 1,4,16 (default 1:16:x2)
  --request-rate N         open loop at N req/s (also a range or list); replaces --concurrency
  --shape name:d0,d1,...   override an input's shape (repeatable)
  --batch-size N           items per request (the first dim)
  --seed N                 random input data seed (default 1)
  --client-workers N       load-generating threads (default 1)
  --warmup-ms N --window-ms N --stability F --max-windows N   (defaults 1000, 2000, 0.1, 8)
  --rounds N               alternations of all targets (default 2)
  --targets a,b,c          any of nereid, nereid-fifo (the same model without dynamic batching),
                           nereid-traced (every request traced and exported over OTLP/HTTP),
                           nereid-shm (inputs and outputs in system shared memory),
                           nereid-stream (the nereid server over ModelStreamInfer),
                           nereid-http, echo-http (the nereid server over HTTP/REST, and the HTTP echo),
                           echo, inprocess (default nereid,echo,inprocess)
  --protocol P             as perf_analyzer's -i: grpc (default), http, or grpc,http (both in one run).
                           http measures nereid and echo over HTTP/REST as nereid-http and echo-http:
                           binary tensor data (Inference-Header-Content-Length, binary_data_output=true)
                           on keep-alive node:http connections; the other targets stay on gRPC
  --shared-memory M        none (default) or system: as perf_analyzer's flag, adds target nereid-shm
  --streaming              as perf_analyzer's flag: adds target nereid-stream, the same server over
                           ModelStreamInfer (one stream per outstanding request). Workload sequence
                           (64 sequences of 20 on the implicit-state accumulator) always streams
  --url host:port          measure a running Nereid instead of starting one
  --http-url host:port     with --url and --protocol http: that server's HTTP endpoint
  --server-pid N           with --url: the server's pid, for the CPU columns (read from /proc)
  --thread-tags DIR        with --url: where that server's thread-tag.cjs preload tagged its threads
                           (node --require scripts/bench/thread-tag.cjs, NEREID_THREAD_TAGS=DIR)
  --cpu-prof DIR           start the servers under node --cpu-prof (one .cpuprofile per thread, in
                           DIR/<target>); the run's JSON keeps the measured windows to cut them to:
                           npx tsx scripts/bench/profile-summary.ts --run <json>
  --repository DIR         model repository holding the workload's model (default: built from npm packages)
  --inprocess-ms N         measuring time per batch size for the in-process baseline
  --precision P            send request parameter precision=P (fp32, fp16, int8) with every request
  --precisions a,b,c       serve the model with these precision variants and measure each as target
                           nereid-<precision> on the one server (workload mlp always has them)
  --int8-mode M            dynamic (default) or static int8 for --precisions on the OCR workloads
  --int8-format F          auto (default: by the CPU), u8s8, u8s8_reduce_range or u8u8 for --precisions
  --lift-tolerances        serve variants that fail their accuracy check anyway, to time them
  --out DIR                where JSON and CSV go (default bench/runs/<time>-<workload>)
  --name NAME              file name stem of the JSON and CSV (default: the workload)`;

/** Expands "1:64:x2", "4:16:4" or "1,2,8" into levels. */
export function parseLevels(spec: string): number[] {
  if (spec.includes(',')) {
    const list = spec.split(',').map(Number);
    if (list.some((v) => !(v > 0))) throw new Error(`bad level list '${spec}'`);
    return list;
  }
  const [start, end, step] = spec.split(':').map((part, i) => (i === 2 && part.startsWith('x') ? part : Number(part)));
  const factor = typeof step === 'string' ? Number(step.slice(1)) : undefined;
  const increment = factor === undefined ? (step ?? 1) : 0;
  const valid =
    typeof start === 'number' && start > 0 && (end === undefined || (typeof end === 'number' && end >= start)) &&
    (factor === undefined ? typeof increment === 'number' && increment > 0 : factor > 1);
  if (!valid) throw new Error(`bad level list '${spec}': use start:end:xfactor, start:end:step or a list`);
  if (end === undefined) return [start];
  const levels: number[] = [];
  for (let v = start; v <= (end as number); v = factor !== undefined ? v * factor : v + (increment as number)) levels.push(v);
  return levels;
}

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    if (arg === '--lift-tolerances' || arg === '--streaming') {
      flags.add(arg.slice(2));
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value`);
    values.set(arg.slice(2), [...(values.get(arg.slice(2)) ?? []), value]);
    i++;
  }
  const get = (name: string) => values.get(name)?.at(-1);
  const num = (name: string, fallback: number) => {
    const raw = get(name);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} needs a non-negative number, got '${raw}'`);
    return value;
  };
  const workload = get('workload');
  if (workload === undefined || WORKLOADS[workload] === undefined) throw new Error(`--workload must be one of ${Object.keys(WORKLOADS).join(', ')}`);
  const rate = get('request-rate');
  const shapes = new Map<string, number[]>();
  for (const spec of values.get('shape') ?? []) {
    const [name, dims] = spec.split(':');
    if (name === undefined || dims === undefined) throw new Error(`--shape wants name:d0,d1,..., got '${spec}'`);
    shapes.set(name, dims.split(',').map(Number));
  }
  const targets = (get('targets') ?? 'nereid,echo,inprocess').split(',');
  const sharedMemory = get('shared-memory') ?? 'none';
  if (sharedMemory !== 'none' && sharedMemory !== 'system') throw new Error(`--shared-memory must be none or system, not '${sharedMemory}'`);
  if (sharedMemory === 'system' && !targets.includes('nereid-shm')) targets.splice(targets.includes('nereid') ? targets.indexOf('nereid') + 1 : 0, 0, 'nereid-shm');
  if (flags.has('streaming') && !targets.includes('nereid-stream')) targets.splice(targets.includes('nereid') ? targets.indexOf('nereid') + 1 : 0, 0, 'nereid-stream');
  const protocols = parseProtocols(get('protocol'));
  if (protocols.includes('http')) {
    // Each of nereid and echo gets its HTTP twin next to it; with http alone, the twin replaces it.
    for (const base of ['nereid', 'echo']) {
      const at = targets.indexOf(base);
      if (at >= 0 && !targets.includes(`${base}-http`)) targets.splice(at + 1, 0, `${base}-http`);
      if (at >= 0 && !protocols.includes('grpc')) targets.splice(at, 1);
    }
  }
  for (const t of targets) if (!['nereid', 'nereid-fifo', 'nereid-traced', 'nereid-shm', 'nereid-stream', 'nereid-http', 'echo', 'echo-http', 'inprocess'].includes(t)) throw new Error(`unknown target '${t}'`);
  if (get('url') !== undefined && targets.includes('nereid-http') && get('http-url') === undefined) throw new Error('--url with target nereid-http needs --http-url (the server\'s HTTP endpoint)');
  const windowMs = num('window-ms', 2000);
  const batchSize = get('batch-size') === undefined ? undefined : num('batch-size', 1);
  return {
    workload,
    settings: {
      mode: rate === undefined ? 'concurrency' : 'request-rate',
      levels: parseLevels(rate ?? get('concurrency') ?? '1:16:x2'),
      warmupMs: num('warmup-ms', 1000),
      windowMs,
      stability: num('stability', 0.1),
      maxWindows: Math.max(3, num('max-windows', 8)),
      rounds: Math.max(1, num('rounds', 2)),
      clientWorkers: Math.max(1, num('client-workers', 1)),
      seed: num('seed', 1),
    },
    shapes,
    batchSize,
    targets,
    url: get('url'),
    repository: get('repository'),
    out: get('out') ?? path.join(ROOT, 'bench', 'runs', `${new Date().toISOString().replace(/[:.]/g, '-')}-${workload}`),
    name: get('name') ?? workload,
    inProcessMs: num('inprocess-ms', windowMs * 2),
    precision: get('precision'),
    precisions: get('precisions')?.split(',').map((p) => p.trim()),
    int8Mode: get('int8-mode') === 'static' ? 'static' : 'dynamic',
    int8Format: int8Format(get('int8-format')),
    liftTolerances: flags.has('lift-tolerances'),
    quiet: false,
    nereidEntry: 'dist',
    sharedMemory: targets.includes('nereid-shm') ? 'system' : 'none',
    cpuProf: get('cpu-prof') === undefined ? undefined : path.resolve(get('cpu-prof')!),
    serverPid: get('server-pid') === undefined ? undefined : num('server-pid', 0),
    threadTags: get('thread-tags'),
    protocols,
    httpUrl: get('http-url'),
  };
}

/** The --protocol value: grpc, http or both (comma-separated), as perf_analyzer's -i. */
function parseProtocols(value: string | undefined): Protocol[] {
  const list = (value ?? 'grpc').split(',').map((p) => p.trim());
  if (list.length === 0 || list.some((p) => p !== 'grpc' && p !== 'http')) throw new Error(`--protocol must be grpc, http or grpc,http, not '${value}'`);
  return [...new Set(list)] as Protocol[];
}

/** Encodes DISTINCT_REQUESTS requests with seeded random data, and times one encode. */
/** The --int8-format value: auto or one of the formats. */
function int8Format(value: string | undefined): string {
  const allowed = ['auto', ...INT8_FORMATS];
  if (value === undefined) return 'auto';
  if (!allowed.includes(value)) throw new Error(`--int8-format must be one of ${allowed.join(', ')}, not '${value}'`);
  return value;
}

function encodeRequests(model: string, inputs: readonly InputSpec[], seed: number, precision: string | undefined): { requests: Uint8Array[]; sendUs: number } {
  const random = seededRandom(seed);
  const requests: Uint8Array[] = [];
  let encodeMs = 0;
  for (let i = 0; i < DISTINCT_REQUESTS; i++) {
    const message = ModelInferRequest.fromPartial({
      modelName: model,
      ...(precision !== undefined ? { parameters: { precision: { parameterChoice: { $case: 'stringParam', value: precision } } } } : {}),
      inputs: inputs.map((input) => ({ name: input.name, datatype: input.datatype, shape: input.shape.map(BigInt) })),
      rawInputContents: inputs.map((input) => randomTensor(input, random)),
    });
    const t0 = performance.now();
    const bytes = ModelInferRequest.encode(message).finish();
    encodeMs += performance.now() - t0;
    requests.push(bytes.slice());
  }
  return { requests, sendUs: (encodeMs / DISTINCT_REQUESTS) * 1000 };
}

/**
 * The same DISTINCT_REQUESTS requests (same seed, same data) as HTTP infer bodies with
 * Triton's binary tensor data extension: a JSON header naming each input's binary_data_size
 * and asking for binary outputs (binary_data_output), then the tensors; and one encode's time.
 */
function encodeHttpRequests(inputs: readonly InputSpec[], seed: number, precision: string | undefined): { requests: Uint8Array[]; headerLengths: number[]; sendUs: number } {
  const random = seededRandom(seed);
  const requests: Uint8Array[] = [];
  const headerLengths: number[] = [];
  let encodeMs = 0;
  for (let i = 0; i < DISTINCT_REQUESTS; i++) {
    const tensors = inputs.map((input) => randomTensor(input, random));
    const t0 = performance.now();
    const header = Buffer.from(
      JSON.stringify({
        inputs: inputs.map((input, k) => ({ name: input.name, datatype: input.datatype, shape: input.shape, parameters: { binary_data_size: tensors[k]!.byteLength } })),
        parameters: { binary_data_output: true, ...(precision !== undefined ? { precision } : {}) },
      }),
    );
    const body = Buffer.concat([header, ...tensors]);
    encodeMs += performance.now() - t0;
    requests.push(body);
    headerLengths.push(header.length);
  }
  return { requests, headerLengths, sendUs: (encodeMs / DISTINCT_REQUESTS) * 1000 };
}

/**
 * A repository holding only the workload's model, so Nereid loads nothing else: its
 * version directories linked, its config as given, or (`fifo`) without dynamic batching.
 */
export async function singleModelRepository(repository: string, model: string, scratch: string, scheduling: 'as-configured' | 'fifo'): Promise<string> {
  // A folder per call: several targets may serve the same model side by side.
  const dir = mkdtempSync(path.join(scratch, `serve-${scheduling}-`));
  const modelDir = path.join(dir, model);
  mkdirSync(modelDir, { recursive: true });
  const { sources } = await scanRepositories([repository]);
  const source = sources.find((s) => s.name === model)!;
  // Versions and whatever else the model folder holds (calibration and validation samples).
  // Copied, not linked: the server refuses links that leave the repository (issue 16).
  for (const entry of readdirSync(source.dir)) if (entry !== 'config.pbtxt') cpSync(path.join(source.dir, entry), path.join(modelDir, entry), { recursive: true, dereference: true });
  const config = parseModelConfigText(source.configText ?? '');
  if (scheduling === 'fifo') config.schedulingChoice = undefined;
  writeFileSync(path.join(modelDir, 'config.pbtxt'), formatModelConfigText(config));
  return dir;
}

/** The `precision.*` parameters of a model's config: what the server measured at load. */
async function precisionFigures(address: string, model: string): Promise<Record<string, string>> {
  const client = new ProtoClient(address);
  try {
    const response = await client.call<{ config: { parameters: Record<string, { string_value: string }> } }>('ModelConfig', { name: model });
    return Object.fromEntries(
      Object.entries(response.config.parameters)
        .filter(([key]) => key.startsWith('precision.'))
        .map(([key, value]) => [key, value.string_value]),
    );
  } finally {
    client.close();
  }
}

/** Taken at window boundaries: the server's cumulative statistics and CPU time. */
interface Boundary {
  readonly stats: StatsSnapshot | null;
  readonly cpuSeconds: number | null;
  /** The server's threads, grouped (main, instance workers, other); null when not readable. */
  readonly threads: ThreadCpu | null;
  readonly at: number;
  /** process.hrtime in µs: the clock V8's CPU profiles are stamped with. */
  readonly monoUs: number;
}

interface Raw {
  target: string;
  level: number;
  /** The target's client encode time per request, when it differs from the run's (HTTP bodies). */
  sendUs: number | undefined;
  measurement: Measurement<Boundary>;
  /** Where the target's --cpu-prof profiles go, when profiled. */
  profileDir: string | undefined;
}

export async function runBench(options: BenchOptions): Promise<BenchRun> {
  const log = (line: string) => !options.quiet && process.stdout.write(`${line}\n`);
  const startedAt = new Date();
  const workload = WORKLOADS[options.workload]!;
  const inputs = resolveInputs(workload, options.shapes, options.batchSize);
  const batch = inputs[0]?.shape[0] ?? 1;
  const scratch = mkdtempSync(path.join(tmpdir(), 'nereid-bench-'));
  const servers: ServerProcess[] = [];
  const sinks: { close(): Promise<void> }[] = [];
  try {
    const precisionRepository = options.precisions !== undefined ? { int8Mode: options.int8Mode, int8Format: options.int8Format, liftTolerances: options.liftTolerances, batches: 4 } : undefined;
    const repository = options.repository ?? (await workload.repository(path.join(scratch, 'repo'), precisionRepository));
    const { sources } = await scanRepositories([repository]);
    const definition = await loadModelDefinition(sources.find((s) => s.name === workload.model)!, { autoComplete: true, defaultMaxBatchSize: 4, devices: probeDevices() });
    const cpuInstances = definition.instances.filter((i) => i.kind === 'cpu');
    const { requests, sendUs } = encodeRequests(workload.model, inputs, options.settings.seed, options.precision);
    log(`workload ${workload.name}: model ${workload.model}, inputs ${inputs.map((i) => `${i.name}[${i.shape}]`).join(' ')}, ${requests[0]!.byteLength} bytes/request`);
    // Each server we start tags its threads (main, instances) and, with --cpu-prof, profiles them.
    const processOptions = (name: string): ProcessOptions => ({
      tagsDir: path.join(scratch, `threads-${name}`),
      ...(options.cpuProf !== undefined ? { profileDir: path.join(options.cpuProf, name) } : {}),
    });
    const external = (name: string): ServerProcess => ({
      name,
      address: options.url!,
      ...(options.serverPid !== undefined ? { pid: options.serverPid } : {}),
      ...(options.threadTags !== undefined ? { tagsDir: options.threadTags } : {}),
      stop: async () => {},
    });
    // The echo answers with the model's real outputs, so it moves the same bytes both ways.
    const outputs = options.targets.includes('echo') ? await responseOutputs(definition.modelPath(definition.versions.at(-1)!), inputs) : undefined;
    if (outputs !== undefined) log(`response outputs: ${outputs.map((o) => `${o.name} ${o.datatype}[${o.shape}] ${o.bytes} B`).join(', ')}`);

    const grpcTargets: (ServerProcess & { requests?: Uint8Array[]; http?: HttpTarget })[] = [];
    let precisionInfo: PrecisionRunInfo | undefined;
    if (options.targets.includes('nereid')) {
      const nereid =
        options.url === undefined
          ? await startNereid('nereid', await singleModelRepository(repository, workload.model, scratch, 'as-configured'), options.nereidEntry, [], processOptions('nereid'))
          : external('nereid');
      servers.push(nereid);
      if (options.precisions === undefined) grpcTargets.push(nereid);
      else {
        // One server, one target per precision: the same requests but for the parameter.
        for (const p of options.precisions) {
          grpcTargets.push({ ...nereid, name: `nereid-${p}`, requests: encodeRequests(workload.model, inputs, options.settings.seed, p).requests });
        }
        precisionInfo = { int8Mode: workload.name === 'mlp' ? 'dynamic' : options.int8Mode, int8Format: options.int8Format, tolerancesLifted: options.liftTolerances, figures: await precisionFigures(nereid.address, workload.model) };
        log(`precision figures at load: ${JSON.stringify(precisionInfo.figures)}`);
      }
    }
    if (options.targets.includes('nereid-traced')) {
      // Every request traced and exported over OTLP/HTTP to a sink that accepts and drops it.
      const sink = await startTraceSink();
      sinks.push(sink);
      const traced = await startNereid('nereid-traced', await singleModelRepository(repository, workload.model, scratch, 'as-configured'), options.nereidEntry, [
        '--trace-config',
        `level=TIMESTAMPS,rate=1,url=${sink.url}`,
      ], processOptions('nereid-traced'));
      servers.push(traced);
      grpcTargets.push(traced);
    }
    if (options.targets.includes('nereid-shm')) {
      const shmServer =
        options.url === undefined
          ? await startNereid('nereid-shm', await singleModelRepository(repository, workload.model, scratch, 'as-configured'), options.nereidEntry, ['--allow-client-shm'], processOptions('nereid-shm'))
          : external('nereid-shm');
      const setup = await shmRequests(shmServer.address, requests, `bench${servers.length}`);
      servers.push({ ...shmServer, stop: async () => {
        await setup.close().catch(() => undefined);
        await shmServer.stop();
      } });
      grpcTargets.push({ ...shmServer, requests: setup.requests });
      log(`nereid-shm: ${setup.requests[0]!.byteLength} bytes/request (inputs and outputs in /dev/shm)`);
    }
    if (options.targets.includes('nereid-stream')) {
      // The nereid server itself (or a second one when nereid is not measured), over streams.
      const nereid = servers.find((server) => server.name === 'nereid');
      const stream = nereid ?? (options.url === undefined ? await startNereid('nereid-stream', await singleModelRepository(repository, workload.model, scratch, 'as-configured'), options.nereidEntry, [], processOptions('nereid-stream')) : external('nereid-stream'));
      if (nereid === undefined) servers.push(stream);
      grpcTargets.push({ ...stream, name: 'nereid-stream' });
    }
    if (options.targets.includes('nereid-fifo')) {
      const fifo = await startNereid('nereid-fifo', await singleModelRepository(repository, workload.model, scratch, 'fifo'), options.nereidEntry, [], processOptions('nereid-fifo'));
      servers.push(fifo);
      grpcTargets.push(fifo);
    }
    // Over HTTP/REST: the same requests as binary-data bodies, against the nereid server's HTTP port.
    const httpRequests = options.protocols.includes('http') || options.targets.some((t) => t.endsWith('-http')) ? encodeHttpRequests(inputs, options.settings.seed, options.precision) : undefined;
    const overHttp = (server: ServerProcess, name: string) => ({
      ...server,
      name,
      requests: httpRequests!.requests,
      http: { address: server.httpAddress!, path: `/v2/models/${encodeURIComponent(workload.model)}/infer`, headerLengths: httpRequests!.headerLengths, sendUs: httpRequests!.sendUs },
    });
    if (options.targets.includes('nereid-http')) {
      const nereid = servers.find((server) => server.name === 'nereid');
      const server =
        nereid ??
        (options.url === undefined
          ? await startNereid('nereid-http', await singleModelRepository(repository, workload.model, scratch, 'as-configured'), options.nereidEntry, [], processOptions('nereid-http'))
          : external('nereid-http'));
      if (nereid === undefined) servers.push(server);
      grpcTargets.push(overHttp(options.url !== undefined ? { ...server, httpAddress: options.httpUrl! } : server, 'nereid-http'));
    }
    if (options.targets.includes('echo')) {
      const echo = await startEcho(outputs, processOptions('echo'));
      servers.push(echo);
      grpcTargets.push(echo);
    }
    if (options.targets.includes('echo-http')) {
      const echo = await startHttpEcho(outputs, processOptions('echo-http'));
      servers.push(echo);
      grpcTargets.push(overHttp(echo, 'echo-http'));
    }
    if (httpRequests !== undefined) log(`over HTTP: ${httpRequests.requests[0]!.byteLength} bytes/request (JSON header ${httpRequests.headerLengths[0]} bytes, binary tensors after it)`);

    const raws: Raw[] = [];
    const inProcessRounds: InProcessResult[] = [];
    const batches = [1, 2, 4, 8, 16, 32, 64].filter((b) => b <= workload.maxBatch);
    for (let round = 1; round <= options.settings.rounds; round++) {
      for (const level of options.settings.levels) {
        for (const target of grpcTargets) {
          const client = new ProtoClient(target.address);
          const measurement = await measure(
            {
              target: target.http?.address ?? target.address,
              requests: target.requests ?? requests,
              ...(target.http !== undefined ? { http: target.http } : {}),
              mode: options.settings.mode,
              level,
              clientWorkers: options.settings.clientWorkers,
              warmupMs: options.settings.warmupMs,
              windowMs: options.settings.windowMs,
              stability: options.settings.stability,
              maxWindows: options.settings.maxWindows,
              decodeEvery: 16,
              ...(STREAMING_TARGETS.has(target.name) || workload.sequenceLength !== undefined ? { streaming: true } : {}),
              ...(workload.sequenceLength !== undefined ? { sequenceLength: workload.sequenceLength } : {}),
            },
            async () => ({
              stats: target.name.startsWith('nereid') ? await statsSnapshot(client, workload.model) : null,
              cpuSeconds: processCpuSeconds(target.pid),
              threads: threadCpu(target.pid, target.tagsDir),
              at: performance.now(),
              monoUs: Number(process.hrtime.bigint() / 1000n),
            }),
          );
          client.close();
          raws.push({ target: target.name, level, sendUs: target.http?.sendUs, measurement, profileDir: target.profileDir });
          log(
            `round ${round} ${options.settings.mode === 'concurrency' ? 'c' : 'rate'}=${level} ${target.name.padEnd(6)} ` +
              `${(measurement.requestsPerSec * batch).toFixed(1).padStart(9)} infer/s  p50 ${(summarize(measurement.latenciesUs).p50Us / 1000).toFixed(2)} ms` +
              `${measurement.stable ? '' : '  (unstable)'}${measurement.errors > 0 ? `  ${measurement.errors} errors: ${measurement.firstError}` : ''}`,
          );
        }
      }
      if (options.targets.includes('inprocess')) {
        const result = await runInProcess({
          modelPath: definition.modelPath(definition.versions.at(-1)!),
          inputs,
          sessions: Math.max(1, cpuInstances.length),
          threadsPerSession: cpuInstances[0]?.settings.intraOpThreads ?? 1,
          batches,
          warmupMs: Math.min(options.settings.warmupMs, 1000),
          durationMs: options.inProcessMs,
          seed: options.settings.seed,
        });
        inProcessRounds.push(result);
        log(`round ${round} inprocess batch 1 ${result.batch1.itemsPerSec.toFixed(1)} items/s, best batch ${result.best.batch} ${result.best.itemsPerSec.toFixed(1)} items/s`);
      }
    }

    const results = aggregate(raws, batch, sendUs);
    for (const row of results) if (row.cpu !== undefined) log(cpuLine(row));
    const inProcess = inProcessRounds.length > 0 ? averageInProcess(inProcessRounds) : null;
    const run: BenchRun = {
      schema: BENCH_SCHEMA,
      startedAt: startedAt.toISOString(),
      durationSec: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
      machine: machineInfo(),
      workload: { name: workload.name, model: workload.model, inputs, batchSize: batch, requestBytes: requests[0]!.byteLength },
      settings: options.settings,
      targets: [...grpcTargets.map((t) => t.name), ...(inProcess !== null ? ['inprocess'] : [])],
      results,
      inProcess,
      checks: [],
      ...(outputs !== undefined ? { responseOutputs: outputs } : {}),
      ...(precisionInfo !== undefined ? { precision: precisionInfo } : {}),
    };
    const cost = run.settings.mode === 'concurrency' ? computeCost(run) : [];
    const withCost = { ...run, cost };
    return { ...withCost, checks: [...computeChecks(withCost), ...costChecks(withCost, cost)] };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(sinks.map((s) => s.close()));
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Merges the rounds of each (target, level): latencies pooled, throughput averaged. */
function aggregate(raws: readonly Raw[], batch: number, sendUs: number): ResultRow[] {
  const rows: ResultRow[] = [];
  for (const key of new Set(raws.map((r) => `${r.target}\u0000${r.level}`))) {
    const group = raws.filter((r) => `${r.target}\u0000${r.level}` === key);
    const { target, level } = group[0]!;
    const latencies = new Float64Array(group.reduce((s, r) => s + r.measurement.latenciesUs.length, 0));
    let offset = 0;
    for (const r of group) {
      latencies.set(r.measurement.latenciesUs, offset);
      offset += r.measurement.latenciesUs.length;
    }
    const mean = (f: (m: Measurement<Boundary>) => number) => group.reduce((s, r) => s + f(r.measurement), 0) / group.length;
    const splits = group.map((r) => serverSplit(r.measurement.snapshots[0].stats, r.measurement.snapshots[1].stats));
    const cpu = group.map(({ measurement: { snapshots: [from, to] } }) =>
      from.cpuSeconds === null || to.cpuSeconds === null ? null : ((to.cpuSeconds - from.cpuSeconds) / ((to.at - from.at) / 1000)) * 100,
    );
    const recv = group.map((r) => r.measurement.clientRecvUs).filter((v): v is number => v !== null);
    const server = splits.every((s) => s !== null)
      ? {
          queueUs: splits.reduce((s, x) => s + x!.queueUs, 0) / splits.length,
          computeInputUs: splits.reduce((s, x) => s + x!.computeInputUs, 0) / splits.length,
          computeInferUs: splits.reduce((s, x) => s + x!.computeInferUs, 0) / splits.length,
          computeOutputUs: splits.reduce((s, x) => s + x!.computeOutputUs, 0) / splits.length,
        }
      : null;
    const requestsPerSec = mean((m) => m.requestsPerSec);
    const batches = group.map((r) => executedBatch(r.measurement.snapshots[0].stats, r.measurement.snapshots[1].stats));
    const profileDir = group[0]!.profileDir;
    rows.push({
      target,
      level,
      inferPerSec: requestsPerSec * batch,
      requestsPerSec,
      latency: summarize(latencies),
      clientSendUs: group[0]!.sendUs ?? sendUs,
      clientRecvUs: recv.length > 0 ? recv.reduce((a, b) => a + b, 0) / recv.length : null,
      server,
      ...(server === null
        ? { serverNote: target.startsWith('nereid') ? 'blank: the server returned no ModelStatistics for the measured windows' : `blank: ${target} keeps no statistics` }
        : {}),
      clientCpuPct: mean((m) => m.clientCpuPct),
      serverCpuPct: cpu.every((c) => c !== null) ? cpu.reduce((a, b) => a + b!, 0) / cpu.length : null,
      cpu: cpuPerRequest(group),
      ...(batches.every((b) => b !== null) && batches.length > 0 ? { executedBatch: batches.reduce((a, b) => a + b!, 0) / batches.length } : target.startsWith('nereid') ? { executedBatch: null } : {}),
      ...(profileDir !== undefined
        ? {
            profile: {
              dir: profileDir,
              windows: group.map(({ measurement: m }) => ({
                fromUs: m.snapshots[0].monoUs,
                toUs: m.snapshots[1].monoUs,
                requests: Math.round(m.requestsPerSec * ((m.snapshots[1].at - m.snapshots[0].at) / 1000)),
              })),
            },
          }
        : {}),
      windows: group.reduce((s, r) => s + r.measurement.windowThroughputs.length, 0),
      stable: group.every((r) => r.measurement.stable),
      errors: group.reduce((s, r) => s + r.measurement.errors, 0),
    });
  }
  return rows;
}

/**
 * CPU per request over a (target, level)'s rounds: each thread group's CPU rate over the
 * measured windows divided by the request rate, rounds pooled (total CPU over total requests).
 */
function cpuPerRequest(group: readonly Raw[]): CpuPerRequest {
  let requests = 0;
  let seconds = 0;
  let clientSec = 0;
  const server = { main: 0, workers: 0, other: 0, total: 0 };
  let serverKnown = true;
  for (const { measurement: m } of group) {
    const [from, to] = m.snapshots;
    const windowSec = (to.at - from.at) / 1000;
    requests += m.requestsPerSec * windowSec;
    seconds += windowSec;
    clientSec += (m.clientCpuPct / 100) * windowSec;
    if (from.threads === null || to.threads === null) serverKnown = false;
    else {
      server.main += to.threads.mainSec - from.threads.mainSec;
      server.workers += to.threads.workersSec - from.threads.workersSec;
      server.other += to.threads.otherSec - from.threads.otherSec;
      server.total += to.threads.totalSec - from.threads.totalSec;
    }
  }
  const per = (sec: number) => (requests > 0 ? (sec / requests) * 1e6 : 0);
  return {
    serverMainUs: serverKnown ? per(server.main) : null,
    serverInstancesUs: serverKnown ? per(server.workers) : null,
    serverOtherUs: serverKnown ? per(server.other) : null,
    serverTotalUs: serverKnown ? per(server.total) : null,
    clientUs: seconds > 0 ? per(clientSec) : 0,
  };
}

/** One row's CPU per request, as printed while the run goes. */
function cpuLine(row: ResultRow): string {
  const c = row.cpu!;
  const us = (v: number | null) => (v === null ? '—' : v.toFixed(0));
  return `cpu c=${row.level} ${row.target}: server ${us(c.serverTotalUs)} µs/request (main ${us(c.serverMainUs)}, instances ${us(c.serverInstancesUs)}, other ${us(c.serverOtherUs)}), client ${us(c.clientUs)}` +
    (row.executedBatch !== undefined && row.executedBatch !== null ? `, executed batch ${row.executedBatch.toFixed(2)}` : '');
}

function averageInProcess(rounds: readonly InProcessResult[]): InProcessResult {
  const first = rounds[0]!;
  const sweep = first.sweep.map((point, i): InProcessPoint => ({
    batch: point.batch,
    itemsPerSec: rounds.reduce((s, r) => s + r.sweep[i]!.itemsPerSec, 0) / rounds.length,
    ...(rounds.every((r) => r.sweep[i]!.cpuPerItemUs !== undefined) ? { cpuPerItemUs: rounds.reduce((s, r) => s + r.sweep[i]!.cpuPerItemUs!, 0) / rounds.length } : {}),
    // Latency summaries cannot be averaged exactly; keep the median round's.
    latency: [...rounds].sort((a, b) => a.sweep[i]!.latency.p50Us - b.sweep[i]!.latency.p50Us)[Math.floor(rounds.length / 2)]!.sweep[i]!.latency,
  }));
  const batch1 = sweep.find((s) => s.batch === 1) ?? sweep[0]!;
  const best = sweep.reduce((a, b) => (b.itemsPerSec > a.itemsPerSec ? b : a));
  return {
    sessions: first.sessions,
    threadsPerSession: first.threadsPerSession,
    sweep,
    batch1: { itemsPerSec: batch1.itemsPerSec, latency: batch1.latency, ...(batch1.cpuPerItemUs !== undefined ? { cpuPerItemUs: batch1.cpuPerItemUs } : {}) },
    best,
  };
}

/** Writes the run's JSON and one perf_analyzer CSV per target into `dir`; returns the JSON path. */
export function writeRun(run: BenchRun, dir: string, name = run.workload.name): string {
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, name);
  writeFileSync(`${base}.json`, `${JSON.stringify(run, null, 2)}\n`);
  for (const target of new Set(run.results.map((r) => r.target))) {
    writeFileSync(csvFileName(base, target), toPerfAnalyzerCsv(run.results.filter((r) => r.target === target), run.settings.mode));
  }
  return `${base}.json`;
}

/** The table printed at the end of a run. */
export function formatTable(run: BenchRun): string {
  const lines = [
    `${run.settings.mode === 'concurrency' ? 'Concurrency' : 'Request rate'} | target | infer/s | p50 ms | p90 ms | p99 ms | client CPU % | server CPU % | ` +
      'server CPU µs/req (main / instances / other) | client CPU µs/req | stable',
  ];
  const us = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(0));
  for (const level of run.settings.levels) {
    for (const row of run.results.filter((r) => r.level === level)) {
      const l = row.latency;
      lines.push(
        `${level} | ${row.target} | ${row.inferPerSec.toFixed(1)} | ${(l.p50Us / 1000).toFixed(2)} | ${(l.p90Us / 1000).toFixed(2)} | ` +
          `${(l.p99Us / 1000).toFixed(2)} | ${row.clientCpuPct.toFixed(0)} | ${row.serverCpuPct?.toFixed(0) ?? '—'} | ` +
          `${us(row.cpu?.serverTotalUs)} (${us(row.cpu?.serverMainUs)} / ${us(row.cpu?.serverInstancesUs)} / ${us(row.cpu?.serverOtherUs)}) | ${us(row.cpu?.clientUs)} | ${row.stable ? 'yes' : 'no'}`,
      );
    }
    const nereid = run.results.find((r) => r.level === level && r.target === 'nereid');
    const echo = run.results.find((r) => r.level === level && r.target === 'echo');
    const ratios: string[] = [];
    if (nereid !== undefined && echo !== undefined) ratios.push(`nereid/echo ${(nereid.inferPerSec / echo.inferPerSec).toFixed(2)}`);
    if (nereid !== undefined && run.inProcess !== null) ratios.push(`nereid/in-process-best ${(nereid.inferPerSec / run.inProcess.best.itemsPerSec).toFixed(2)}`);
    const shm = run.results.find((r) => r.level === level && r.target === 'nereid-shm');
    if (shm !== undefined && run.inProcess !== null) ratios.push(`nereid-shm/in-process-best ${(shm.inferPerSec / run.inProcess.best.itemsPerSec).toFixed(2)}`);
    if (shm !== undefined && nereid !== undefined) ratios.push(`nereid-shm/nereid ${(shm.inferPerSec / nereid.inferPerSec).toFixed(2)}`);
    const nereidHttp = run.results.find((r) => r.level === level && r.target === 'nereid-http');
    const echoHttp = run.results.find((r) => r.level === level && r.target === 'echo-http');
    if (nereidHttp !== undefined && echoHttp !== undefined) ratios.push(`nereid-http/echo-http ${(nereidHttp.inferPerSec / echoHttp.inferPerSec).toFixed(2)}`);
    if (nereidHttp !== undefined && nereid !== undefined) ratios.push(`nereid-http/nereid ${(nereidHttp.inferPerSec / nereid.inferPerSec).toFixed(2)}`);
    const stream = run.results.find((r) => r.level === level && r.target === 'nereid-stream');
    if (stream !== undefined && nereid !== undefined) ratios.push(`nereid-stream/nereid ${(stream.inferPerSec / nereid.inferPerSec).toFixed(2)}`);
    const fp32 = run.results.find((r) => r.level === level && r.target === 'nereid-fp32');
    for (const p of ['fp16', 'int8']) {
      const other = run.results.find((r) => r.level === level && r.target === `nereid-${p}`);
      if (fp32 !== undefined && other !== undefined) ratios.push(`${p}/fp32 ${(other.inferPerSec / fp32.inferPerSec).toFixed(2)}`);
    }
    if (ratios.length > 0) lines.push(`  ratios at ${level}: ${ratios.join(', ')}`);
  }
  if (run.inProcess !== null) {
    lines.push(
      `in-process (${run.inProcess.sessions} sessions x ${run.inProcess.threadsPerSession} threads): batch 1 ${run.inProcess.batch1.itemsPerSec.toFixed(1)} items/s ` +
        `(p50 ${(run.inProcess.batch1.latency.p50Us / 1000).toFixed(2)} ms), best batch ${run.inProcess.best.batch} ${run.inProcess.best.itemsPerSec.toFixed(1)} items/s`,
    );
    const cpu = run.inProcess.sweep.filter((p) => p.cpuPerItemUs !== undefined);
    if (cpu.length > 0) lines.push(`in-process CPU per item (µs): ${cpu.map((p) => `batch ${p.batch} ${p.cpuPerItemUs!.toFixed(0)}`).join(', ')}`);
  }
  lines.push(...formatCost(run));
  for (const check of run.checks) lines.push(`check: ${check.name}: ${check.value === null ? '—' : check.value.toFixed(2)} (goal ${check.goal}) ${check.met === null ? '—' : check.met ? 'pass' : 'miss'}${check.note ? ` — ${check.note}` : ''}`);
  const server = run.results.find((r) => r.serverNote !== undefined && r.target === 'nereid');
  if (server !== undefined) lines.push(`server-side columns: ${server.serverNote}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const run = await runBench(options);
  const file = writeRun(run, options.out, options.name);
  process.stdout.write(`\n${formatTable(run)}\n\nwrote ${file} (and per-target CSV); render with: npm run bench:report -- --input ${path.relative(ROOT, file)}\n`);
}

if (import.meta.url === new URL(`file://${path.resolve(process.argv[1] ?? '')}`).href) {
  main().catch((err: Error) => {
    process.stderr.write(`bench failed: ${err.message}\n`);
    process.exit(1);
  });
}
