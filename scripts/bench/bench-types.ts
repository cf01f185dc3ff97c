/**
 * The benchmark's result format (bench/results/*.json), shared by the runner
 * (scripts/bench/run.ts) and the report (scripts/bench/report.ts). Times are microseconds
 * unless a name says otherwise.
 */

export const BENCH_SCHEMA = 'nereid-bench/1';

/** Where the figures were measured. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
  /** git commit of the code measured ('' when unknown), with '-dirty' for uncommitted changes. */
  readonly commit: string;
  /** The CPU's int8 features (core/cpu-features.ts `describeCpu`); absent in runs made before it was recorded. */
  readonly cpuInt8?: string;
}

export interface WorkloadInfo {
  readonly name: string;
  readonly model: string;
  readonly inputs: readonly { readonly name: string; readonly datatype: string; readonly shape: readonly number[] }[];
  /** Items per request (the first dim of a batching model's inputs). */
  readonly batchSize: number;
  readonly requestBytes: number;
}

export interface BenchSettings {
  readonly mode: 'concurrency' | 'request-rate';
  /** Concurrency levels, or request rates (req/s) in request-rate mode. */
  readonly levels: readonly number[];
  readonly warmupMs: number;
  readonly windowMs: number;
  /** Stop when the last 3 windows' throughputs lie within this fraction of their mean. */
  readonly stability: number;
  readonly maxWindows: number;
  /** Times the whole set of targets is measured, alternating (A B A B). */
  readonly rounds: number;
  readonly clientWorkers: number;
  readonly seed: number;
}

/** Latency distribution of one measurement, from request send to response received. */
export interface LatencySummary {
  readonly count: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p95Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
}

/** Server-side split per request, from the server's own statistics; null = not available. */
export interface ServerSplit {
  readonly queueUs: number;
  readonly computeInputUs: number;
  readonly computeInferUs: number;
  readonly computeOutputUs: number;
}

/** One target at one load level, over the stable windows of every round. */
export interface ResultRow {
  readonly target: string;
  /** Concurrency, or offered request rate. */
  readonly level: number;
  /** Items per second (requests x batch size). */
  readonly inferPerSec: number;
  readonly requestsPerSec: number;
  readonly latency: LatencySummary;
  /** Client serialization cost per request, measured on the request sent; null when not measured. */
  readonly clientSendUs: number | null;
  /** Client deserialization cost per response, sampled; null when not measured. */
  readonly clientRecvUs: number | null;
  readonly server: ServerSplit | null;
  /** Why `server` is null, shown in the report. */
  readonly serverNote?: string;
  /** CPU used by the load generator (all its threads), in % of one core. */
  readonly clientCpuPct: number;
  /** CPU used by the server process (all its threads), in % of one core; null when unknown. */
  readonly serverCpuPct: number | null;
  /** CPU time per request, server threads apart and the client; absent in runs made before it was measured. */
  readonly cpu?: CpuPerRequest;
  /** Mean items per executed batch on the server (ModelStatistics inference_count / execution_count); null when unknown. */
  readonly executedBatch?: number | null;
  /** With --cpu-prof: where the server's profiles are and the measured windows, to cut them to. */
  readonly profile?: ProfileWindows;
  readonly windows: number;
  /** False when a round hit maxWindows without 3 stable windows. */
  readonly stable: boolean;
  readonly errors: number;
}

/**
 * CPU time per request (µs) over the measured windows, from /proc/<pid>/task/<tid>/schedstat
 * (nanoseconds on CPU; utime+stime from .../stat where schedstat is missing). Null where the
 * process is not ours to read (--url without --server-pid).
 */
export interface CpuPerRequest {
  /** The server's main thread: gRPC, HTTP/2, decoding, scheduling, encoding. */
  readonly serverMainUs: number | null;
  /** The server's JavaScript worker threads: the model instances (ONNX Runtime runs on them). */
  readonly serverInstancesUs: number | null;
  /** The server's other threads: V8 GC and compiler helpers, libuv's pool, ONNX Runtime's intra-op pool. */
  readonly serverOtherUs: number | null;
  /** All of the server's threads. */
  readonly serverTotalUs: number | null;
  /** The load generator's process, all threads (it encodes nothing per request: requests are pre-encoded). */
  readonly clientUs: number;
}

/** Monotonic-clock (process.hrtime, the clock V8's profiles use) windows a profile is cut to. */
export interface ProfileWindows {
  /** Directory holding the target's .cpuprofile files, one per thread. */
  readonly dir: string;
  readonly windows: readonly { readonly fromUs: number; readonly toUs: number; readonly requests: number }[];
}

/** ONNX Runtime in-process on the same model and thread budget: the compute limit. */
export interface InProcessResult {
  readonly sessions: number;
  readonly threadsPerSession: number;
  readonly sweep: readonly InProcessPoint[];
  readonly batch1: { readonly itemsPerSec: number; readonly latency: LatencySummary; readonly cpuPerItemUs?: number };
  readonly best: InProcessPoint;
}

/** One batch size of the in-process sweep. */
export interface InProcessPoint {
  readonly batch: number;
  readonly itemsPerSec: number;
  readonly latency: LatencySummary;
  /** CPU time per item (µs), all of the baseline process's threads; absent in older runs. */
  readonly cpuPerItemUs?: number;
}

/** A ratio the issue tracker asks for, computed from this run. */
export interface TargetCheck {
  readonly name: string;
  readonly value: number | null;
  readonly goal: string;
  readonly met: boolean | null;
  readonly note: string;
}

/**
 * What one request costs at one load level (issue 13): the server's CPU per request less the
 * echo's for the same bytes less ONNX Runtime's in-process CPU for the same items, and the
 * shared-CPU limit 1 / (1/echo + 1/in-process best) that binds when client, transport and
 * compute share the cores.
 */
export interface CostRow {
  readonly target: string;
  readonly level: number;
  readonly serverUs: number | null;
  readonly mainUs: number | null;
  readonly instancesUs: number | null;
  readonly echoUs: number | null;
  /** In-process CPU per item at `inProcessBatch`, times the items per request. */
  readonly inProcessUs: number | null;
  /** The in-process batch size whose CPU per item is used: the nearest to the server's executed batches. */
  readonly inProcessBatch: number | null;
  readonly overheadUs: number | null;
  /** 1 / (1/echo + 1/in-process best), items per second. */
  readonly sharedLimitPerSec: number | null;
  /** Throughput / sharedLimitPerSec. */
  readonly limitRatio: number | null;
  /** The throughput one event loop can reach: 1 / main-thread CPU per request, in items per second. */
  readonly mainThreadCeilingPerSec: number | null;
}

export interface BenchRun {
  readonly schema: typeof BENCH_SCHEMA;
  readonly startedAt: string;
  readonly durationSec: number;
  readonly machine: MachineInfo;
  readonly workload: WorkloadInfo;
  readonly settings: BenchSettings;
  readonly targets: readonly string[];
  readonly results: readonly ResultRow[];
  readonly inProcess: InProcessResult | null;
  readonly checks: readonly TargetCheck[];
  /** Per nereid target and level: overhead and limits (absent in runs made before issue 13). */
  readonly cost?: readonly CostRow[];
  /** Sizes of the model's response outputs, which the echo target returns too ("the same bytes"). */
  readonly responseOutputs?: readonly ResponseOutput[];
  /** Runs with --precisions: one nereid-<precision> target each, on one server. */
  readonly precision?: PrecisionRunInfo;
}

/** One output of the model's response: what echo sends back in its place. */
export interface ResponseOutput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly bytes: number;
}

/** How a precision run's variants were made and what the server measured at load. */
export interface PrecisionRunInfo {
  readonly int8Mode: 'dynamic' | 'static';
  /** The int8_format the model was served with (auto: chosen by the CPU); absent in older runs. */
  readonly int8Format?: string;
  /** True when the tolerance was lifted so that failing variants serve anyway (to time them). */
  readonly tolerancesLifted: boolean;
  /** The model's `precision.*` ModelConfig parameters (figures against fp32, status, reasons). */
  readonly figures: Readonly<Record<string, string>>;
}
