/**
 * The server's configuration: parsed from flags and NEREID_* environment variables once
 * at start-up, validated, then frozen. Per-model settings live in each config.pbtxt.
 */
export interface ServerConfig {
  readonly modelRepositories: readonly string[];
  readonly serverName: string;
  readonly grpc: {
    readonly address: string;
    readonly port: number;
    readonly keepaliveTimeMs: number;
    readonly keepaliveTimeoutMs: number;
    readonly maxConnectionAgeMs: number;
    readonly receiveWindowBytes: number;
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
  /** OpenTelemetry tracing (Triton's --trace-config, mode=opentelemetry). */
  readonly trace: {
    readonly level: 'OFF' | 'TIMESTAMPS';
    /** Trace every rate-th request without an incoming trace context (0 = only those with one). */
    readonly rate: number;
    /** Traces to take; -1 = unlimited. */
    readonly count: number;
    /** OTLP/HTTP endpoint. */
    readonly url: string;
    /** OTLP/HTTP payload encoding: protobuf (OpenTelemetry's default) or JSON. */
    readonly protocol: 'http/protobuf' | 'http/json';
    readonly resource: Readonly<Record<string, string>>;
    readonly batch: { readonly maxQueueSize?: number; readonly scheduledDelayMillis?: number; readonly maxExportBatchSize?: number };
  };
  /** Prometheus metrics endpoint. */
  readonly metrics: {
    readonly enabled: boolean;
    readonly address: string;
    readonly port: number;
  };
  readonly log: {
    readonly level: 'debug' | 'info' | 'warn' | 'error';
    readonly format: 'json' | 'pretty';
  };
}
