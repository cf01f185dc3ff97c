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
  readonly windows: number;
  /** False when a round hit maxWindows without 3 stable windows. */
  readonly stable: boolean;
  readonly errors: number;
}

/** ONNX Runtime in-process on the same model and thread budget: the compute limit. */
export interface InProcessResult {
  readonly sessions: number;
  readonly threadsPerSession: number;
  readonly sweep: readonly { readonly batch: number; readonly itemsPerSec: number; readonly latency: LatencySummary }[];
  readonly batch1: { readonly itemsPerSec: number; readonly latency: LatencySummary };
  readonly best: { readonly batch: number; readonly itemsPerSec: number; readonly latency: LatencySummary };
}

/** A ratio the issue tracker asks for, computed from this run. */
export interface TargetCheck {
  readonly name: string;
  readonly value: number | null;
  readonly goal: string;
  readonly met: boolean | null;
  readonly note: string;
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
  /** Runs with --precisions: one nereid-<precision> target each, on one server. */
  readonly precision?: PrecisionRunInfo;
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
