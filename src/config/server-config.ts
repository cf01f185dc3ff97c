import type { CacheConfig } from './cache-config.js';
import type { LimitsConfig } from './limits-config.js';
import type { MetricsConfig } from './metrics-config.js';

/**
 * The server's configuration: parsed from flags and NEREID_* environment variables once
 * at start-up, validated, then frozen. Per-model settings live in each config.pbtxt.
 */
export interface ServerConfig {
  readonly modelRepositories: readonly string[];
  readonly serverName: string;
  readonly grpc: GrpcConfig;
  readonly http: HttpConfig;
  /** How models are loaded and unloaded (Triton's model control modes). */
  readonly modelControl: ModelControlConfig;
  /** Client shared memory (Triton's system shared memory extension). */
  readonly sharedMemory: {
    /** Register/unregister allowed (Triton's --allow-client-shm). */
    readonly allowClient: boolean;
  };
  /** Exit at start-up if any model fails to load (else only when none loads). */
  readonly exitOnError: boolean;
  /** ServerReady only when every model is ready (Triton's --strict-readiness). */
  readonly strictReadiness: boolean;
  readonly autoCompleteConfig: boolean;
  /** max_batch_size auto-complete gives batchable models (Triton's default-max-batch-size). */
  readonly defaultMaxBatchSize: number;
  /** Seconds shutdown waits for requests in flight. */
  readonly exitTimeoutSecs: number;
  /** Bounds on requests, queues and instances (limits-config.ts). */
  readonly limits: LimitsConfig;
  /** OpenTelemetry tracing: Triton's --trace-config on top of the standard OTEL_* variables. */
  readonly trace: TraceConfig;
  /** Prometheus metrics endpoint, host and GPU metrics, latency summaries (metrics-config.ts). */
  readonly metrics: MetricsConfig;
  /** The response cache (Triton's --cache-config local,size=N); undefined = none. */
  readonly cache: CacheConfig | undefined;
  /** Where ONNX Runtime profiles asked for over TraceSetting are written (--profile-dir). */
  readonly profileDir: string;
  readonly log: LogConfig;
}

/** The HTTP/REST endpoint (Triton's --allow-http, --http-address, --http-port). */
export interface HttpConfig {
  /** Serve HTTP at all (Triton's --allow-http). */
  readonly enabled: boolean;
  readonly address: string;
  readonly port: number;
}

/** The gRPC endpoint (Triton's --grpc-* flags, with gRPC core's defaults). */
export interface GrpcConfig {
  /** Serve gRPC at all (Triton's --allow-grpc). */
  readonly enabled: boolean;
  readonly address: string;
  readonly port: number;
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  /** Keepalive pings on connections without calls, sent and accepted. */
  readonly keepalivePermitWithoutCalls: boolean;
  /** Keepalive pings sent before data must flow again; 0 = no limit. */
  readonly http2MaxPingsWithoutData: number;
  /** Least interval between a client's pings while calls are open; sooner is a strike. */
  readonly http2MinRecvPingIntervalWithoutDataMs: number;
  /** Strikes before GOAWAY too_many_pings; 0 = never. */
  readonly http2MaxPingStrikes: number;
  readonly maxConnectionAgeMs: number;
  /** How long calls may run past the maximum age; undefined = as long as they need. */
  readonly maxConnectionAgeGraceMs: number | undefined;
  readonly receiveWindowBytes: number;
  /** TLS (Triton's --grpc-use-ssl[-mutual]); undefined = plain text. */
  readonly tls: GrpcTlsConfig | undefined;
}

/** Certificate files for the gRPC endpoint, re-read every refreshSecs while serving. */
export interface GrpcTlsConfig {
  /** Require a client certificate that chains to rootCertFile. */
  readonly mutual: boolean;
  readonly certFile: string;
  readonly keyFile: string;
  /** CA certificates for client certificates (mutual TLS only). */
  readonly rootCertFile: string | undefined;
  /** Seconds between reads of the files; 0 = read once at start-up. */
  readonly refreshSecs: number;
}

/** Logging: pino's level (Triton's booleans folded in), encoding, timestamps and destination. */
export interface LogConfig {
  readonly level: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  readonly format: 'json' | 'pretty';
  /** Triton's log_format: ISO 8601 strings, or (Triton's "default") milliseconds since the epoch. */
  readonly timestamps: 'ISO8601' | 'default';
  /** Append lines to this file instead of stdout (Triton's --log-file). */
  readonly file: string | undefined;
}

/**
 * Tracing settings, every value explicit: the OpenTelemetry SDK is handed these and never
 * reads OTEL_* variables itself (trace-config.ts and otel-environment.ts read them).
 */
export interface TraceConfig {
  readonly level: 'OFF' | 'TIMESTAMPS';
  /** Trace every rate-th request without an incoming trace context (0 = only those with one). */
  readonly rate: number;
  /** Traces to take; -1 = unlimited. */
  readonly count: number;
  /** The variable that switched tracing off for good (OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER=none); undefined when on. */
  readonly disabledBy: string | undefined;
  /** OTEL_TRACES_SAMPLER: which requests the OpenTelemetry sampler lets through before rate and count apply. */
  readonly sampler: TraceSampler;
  /** Continue a caller's W3C trace context (OTEL_PROPAGATORS). */
  readonly propagate: boolean;
  /** Where and how spans are sent. */
  readonly exporter: {
    /** OTLP endpoint: the full traces URL for HTTP; for gRPC the scheme says TLS or not and any path is unused. */
    readonly url: string;
    /** OTLP transport and encoding: HTTP with protobuf (OpenTelemetry's default) or JSON, or gRPC. */
    readonly protocol: 'http/protobuf' | 'http/json' | 'grpc';
    /** Extra HTTP headers (gRPC metadata) on every export (e.g. an API key). Never logged or reported. */
    readonly headers: Readonly<Record<string, string>>;
    /** How long one export may take, ms. */
    readonly timeoutMillis: number;
    readonly compression: 'none' | 'gzip';
    /** PEM files for an https endpoint (HTTP or gRPC): the CA to trust, the client certificate and its key. */
    readonly certificate: string | undefined;
    readonly clientCertificate: string | undefined;
    readonly clientKey: string | undefined;
  };
  readonly resource: Readonly<Record<string, string>>;
  /** The batch span processor's limits (OpenTelemetry's BSP). */
  readonly batch: {
    readonly maxQueueSize: number;
    readonly scheduledDelayMillis: number;
    readonly exportTimeoutMillis: number;
    readonly maxExportBatchSize: number;
  };
  /** Span limits (OTEL_SPAN_*_LIMIT, OTEL_ATTRIBUTE_*_LIMIT); Infinity = no limit. */
  readonly limits: {
    readonly attributeCountLimit: number;
    readonly attributeValueLengthLimit: number;
    readonly linkCountLimit: number;
    readonly eventCountLimit: number;
    readonly attributePerEventCountLimit: number;
    readonly attributePerLinkCountLimit: number;
  };
}

/**
 * An OpenTelemetry sampler as OTEL_TRACES_SAMPLER names it. `parentBased`: a caller's
 * sampled flag decides for its request. `ratio`: the share of the other requests sampled by
 * trace id (always_on = 1, always_off = 0).
 */
export interface TraceSampler {
  readonly name: string;
  readonly parentBased: boolean;
  readonly ratio: number;
}

/** Triton's model control: which models load at start-up and what may change them later. */
export interface ModelControlConfig {
  readonly mode: 'none' | 'poll' | 'explicit';
  /** Explicit mode: models loaded at start-up; ['*'] loads every model. */
  readonly startupModels: readonly string[];
  /** Seconds between repository scans; 0 when not polling. */
  readonly pollSecs: number;
  /** Most bytes of file: overrides in one load request. */
  readonly overrideMaxBytes: number;
}
