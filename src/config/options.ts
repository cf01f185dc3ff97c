/** One command-line flag; its environment variable is NEREID_ + the name in UPPER_SNAKE. */
export interface OptionSpec {
  readonly name: string;
  readonly kind: 'string' | 'int' | 'bool' | 'list';
  readonly description: string;
  /** Shown in --help and the README; undefined = required or computed. */
  readonly defaultText?: string;
  readonly aliases?: readonly string[];
  /** For list options: what separates values in the environment variable. */
  readonly envSeparator?: string;
}

/**
 * Every flag the server takes. Names follow Triton's where Triton has the same setting,
 * so existing command lines keep working.
 */
export const OPTIONS: readonly OptionSpec[] = [
  { name: 'model-repository', kind: 'list', aliases: ['model-store'], envSeparator: ',', description: 'Model repository directory (Triton layout); repeat for several. Required.' },
  { name: 'grpc-address', kind: 'string', defaultText: '0.0.0.0', description: 'Address the gRPC endpoint binds.' },
  { name: 'grpc-port', kind: 'int', defaultText: '8001', description: 'gRPC port; 0 picks a free one.' },
  { name: 'grpc-keepalive-time', kind: 'int', defaultText: '7200000', description: 'Milliseconds between keepalive pings on idle connections (Triton default).' },
  { name: 'grpc-keepalive-timeout', kind: 'int', defaultText: '20000', description: 'Milliseconds to wait for a keepalive ping acknowledgement.' },
  { name: 'grpc-max-connection-age', kind: 'int', defaultText: '0', description: 'Close client connections after this many ms (0 = never), so service meshes rebalance long-lived clients.' },
  { name: 'grpc-receive-window', kind: 'int', defaultText: '4194304', description: 'HTTP/2 receive window per stream and connection, in bytes; 0 keeps HTTP/2\'s 64 KiB. Large requests need a wide window.' },
  { name: 'server-name', kind: 'string', defaultText: 'nereid', description: 'Name reported by ServerMetadata.' },
  { name: 'exit-on-error', kind: 'bool', defaultText: 'false', description: 'Exit at start-up if any model fails to load. Without it, Nereid exits only when no model loads.' },
  { name: 'strict-readiness', kind: 'bool', defaultText: 'true', description: 'ServerReady (and health service "") only when every model is ready, as in Triton.' },
  { name: 'disable-auto-complete-config', kind: 'bool', defaultText: 'false', description: 'Do not complete model configs from the ONNX graph.' },
  { name: 'backend-config', kind: 'list', envSeparator: ';', description: 'Backend setting as <backend>,<key>=<value>; supported: onnxruntime,default-max-batch-size=<n> (default 4).' },
  { name: 'model-control-mode', kind: 'string', defaultText: 'none', description: 'none: load every model at start-up and refuse load/unload requests; poll: the same, then apply repository changes every --repository-poll-secs; explicit: load only --load-model at start-up, then RepositoryModelLoad/Unload decide (as in Triton).' },
  { name: 'load-model', kind: 'list', envSeparator: ',', description: 'Model to load at start-up in explicit mode; repeat for several, or * (alone) for every model. Needs --model-control-mode=explicit.' },
  { name: 'repository-poll-secs', kind: 'int', defaultText: '15', description: 'Seconds between repository scans in poll mode; 0 turns polling off.' },
  { name: 'model-override-max-bytes', kind: 'int', defaultText: '1073741824', description: 'Most bytes the file: overrides of one RepositoryModelLoad may hold, all files together (they are written to a private temporary directory).' },
  { name: 'allow-client-shm', kind: 'bool', defaultText: 'false', description: 'Let clients register system shared memory regions (/dev/shm) for inputs and outputs, as Triton\'s --allow-client-shm. Off by default: a registered region gives the server read and write access to that shared memory object.' },
  { name: 'exit-timeout-secs', kind: 'int', defaultText: '30', description: 'Seconds shutdown waits for requests in flight before cancelling them.' },
  { name: 'trace-config', kind: 'list', envSeparator: ';', description: 'Tracing setting(s), Triton style: level=OFF|TIMESTAMPS, rate=N (every Nth request), count=N (-1 = unlimited), mode=opentelemetry, url=<OTLP/HTTP endpoint>, protocol=http/protobuf|http/json, resource=key=value, bsp_max_queue_size=N, bsp_schedule_delay=ms, bsp_max_export_batch_size=N; several per flag joined by commas. OTEL_* variables are read too.' },
  { name: 'allow-metrics', kind: 'bool', defaultText: 'true', description: 'Serve Prometheus metrics on --metrics-port.' },
  { name: 'metrics-address', kind: 'string', defaultText: '0.0.0.0', description: 'Address the metrics endpoint binds.' },
  { name: 'metrics-port', kind: 'int', defaultText: '8002', description: 'Port of the metrics endpoint (GET /metrics); 0 picks a free one.' },
  { name: 'log-level', kind: 'string', defaultText: 'info', description: 'debug, info, warn or error.' },
  { name: 'log-verbose', kind: 'int', defaultText: '0', description: 'Triton-style verbosity; any value > 0 means --log-level debug.' },
  { name: 'log-format', kind: 'string', defaultText: 'auto', description: 'json, pretty, or auto (pretty on a terminal, JSON otherwise).' },
];

/** NEREID_GRPC_PORT for grpc-port. List options take several values separated by `envSeparator`. */
export function envName(option: OptionSpec): string {
  return `NEREID_${option.name.toUpperCase().replace(/-/g, '_')}`;
}
