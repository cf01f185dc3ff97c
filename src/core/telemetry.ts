import type { ErrorCode, InferError } from './errors.js';
import type { ExecutionProvider } from './execution.js';
import type { Variant } from './precision.js';

/**
 * Ports between the request path and telemetry (src/telemetry implements them). The
 * core and the scheduler report what happened; they never import OpenTelemetry,
 * prom-client or pino.
 */

/** A sampled request's trace, as the rest of the server sees it: ids for log lines. */
export interface RequestTrace {
  readonly traceId: string;
  readonly spanId: string;
}

/** What the transport knows when a call arrives. */
export interface IncomingCall {
  /** The transport: 'grpc' (the default) or 'http'. */
  readonly protocol?: 'grpc' | 'http';
  /** The RPC's name (ModelInfer); over HTTP, the method and route (`POST /v2/models/{model_name}/infer`). */
  readonly method: string;
  /** The model named by the request ('' for server-level RPCs). */
  readonly model: string;
  /** Reads a request header (gRPC metadata or an HTTP header), e.g. traceparent. */
  header(name: string): string | undefined;
  /** A related trace, linked from this call's span: each message of a stream links to the stream's. */
  readonly link?: RequestTrace | undefined;
}

/** How a call ended, for its server span. */
export interface CallOutcome {
  readonly code: ErrorCode | 'OK';
  /** The numeric gRPC status code sent (gRPC calls). */
  readonly grpcStatus?: number;
  /** The HTTP status code sent (HTTP calls). */
  readonly httpStatus?: number;
  readonly error?: InferError;
}

/** Starts and ends the server-side trace of a call. Main thread only. */
export interface RequestTelemetry {
  /** Returns the request's trace when it is sampled, else undefined (and costs nothing more). */
  startCall(call: IncomingCall): RequestTrace | undefined;
  endCall(trace: RequestTrace | undefined, outcome: CallOutcome): void;
}

/** One request's share of an execution. */
export interface ExecutedRequest {
  readonly id: string;
  readonly trace: RequestTrace | undefined;
  readonly receivedAt: number;
  readonly enqueuedAt: number;
  /** False when it was cancelled while its batch ran (its result was dropped). */
  readonly answered: boolean;
}

/** A finished model execution, with the instants of its phases (ms since the epoch). */
export interface ExecutionEvent {
  readonly model: string;
  readonly version: number;
  readonly instance: string;
  readonly executionProvider: ExecutionProvider;
  readonly deviceId: number;
  /** The model variant that ran (its precision, and fp16-io for FP16 inputs). */
  readonly variant: Variant;
  /** Items in the batch (sum of the requests' batch sizes). */
  readonly items: number;
  readonly requests: readonly ExecutedRequest[];
  readonly dispatchAt: number;
  readonly computeStart: number;
  readonly computeEnd: number;
  readonly end: number;
}

/** Receives every execution of a model version (tracing, histograms). Main thread only. */
export interface ExecutionObserver {
  onExecution(event: ExecutionEvent): void;
}

/** One response-cache lookup of a request (ms since the epoch). */
export interface CacheLookupEvent {
  readonly model: string;
  readonly version: number;
  readonly requestId: string;
  readonly trace: RequestTrace | undefined;
  readonly hit: boolean;
  readonly start: number;
  readonly end: number;
}

/** Receives every response-cache lookup (tracing gives each a span). Main thread only. */
export interface CacheObserver {
  onCacheLookup(event: CacheLookupEvent): void;
}

/** Trace settings as the TraceSetting RPC reads and writes them (Triton's keys). */
export interface TraceSettingValues {
  readonly level: 'OFF' | 'TIMESTAMPS';
  /** Trace every rate-th request. */
  readonly rate: number;
  /** Traces left to take; -1 = unlimited. */
  readonly count: number;
  readonly mode: 'opentelemetry';
}

/** A change to trace settings: a value sets it, null clears a per-model override. */
export type TraceSettingChange = { readonly [K in keyof TraceSettingValues]?: TraceSettingValues[K] | null };

/** Global and per-model trace settings (per-model values fall back to the global ones). */
export interface TraceControl {
  /** Effective settings for a model ('' = the global ones), plus exporter details to report. */
  settings(model: string): TraceSettingValues & { readonly exporter: Readonly<Record<string, string>> };
  update(model: string, change: TraceSettingChange): void;
}

/** Log settings with Triton's LogSettings keys. */
export interface LogSettingValues {
  readonly logInfo: boolean;
  readonly logWarning: boolean;
  readonly logError: boolean;
  readonly logVerboseLevel: number;
  readonly logFormat: 'default' | 'ISO8601';
}

export interface LogControl {
  settings(): LogSettingValues;
  update(change: Partial<LogSettingValues>): void;
}
