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
  readonly log: {
    readonly level: 'debug' | 'info' | 'warn' | 'error';
    readonly format: 'json' | 'pretty';
  };
}
