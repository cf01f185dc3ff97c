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
  { name: 'allow-grpc', kind: 'bool', defaultText: 'true', description: 'Serve the gRPC endpoint (as in Triton). With --allow-http=false too, only the metrics endpoint listens.' },
  { name: 'allow-http', kind: 'bool', defaultText: 'true', description: 'Serve the HTTP/REST endpoint (KServe v2 REST with Triton\'s extensions), as Triton does by default.' },
  { name: 'http-address', kind: 'string', defaultText: '0.0.0.0', description: 'Address the HTTP endpoint binds.' },
  { name: 'http-port', kind: 'int', defaultText: '8000', description: 'HTTP port; 0 picks a free one.' },
  { name: 'http-thread-count', kind: 'int', description: 'Accepted for Triton command lines; changes nothing (with a warning): Node\'s event loop serves HTTP as it serves gRPC, and models run on their instances\' worker threads.' },
  { name: 'grpc-address', kind: 'string', defaultText: '0.0.0.0', description: 'Address the gRPC endpoint binds.' },
  { name: 'grpc-port', kind: 'int', defaultText: '8001', description: 'gRPC port; 0 picks a free one.' },
  { name: 'grpc-keepalive-time', kind: 'int', defaultText: '7200000', description: 'Milliseconds between keepalive pings on idle connections (Triton default).' },
  { name: 'grpc-keepalive-timeout', kind: 'int', defaultText: '20000', description: 'Milliseconds to wait for a keepalive ping acknowledgement.' },
  { name: 'grpc-keepalive-permit-without-calls', kind: 'bool', defaultText: 'false', description: 'Send keepalive pings on connections with no call in flight, and let clients do so (as in Triton and gRPC core).' },
  { name: 'grpc-http2-max-pings-without-data', kind: 'int', defaultText: '2', description: 'Keepalive pings the server sends on a connection before it must send data again; 0 = no limit.' },
  { name: 'grpc-http2-min-recv-ping-interval-without-data', kind: 'int', defaultText: '300000', description: 'Milliseconds a client must leave between pings while calls are open; a ping sooner is a strike (2 hours apply while the connection is idle, unless pings without calls are permitted).' },
  { name: 'grpc-http2-max-ping-strikes', kind: 'int', defaultText: '2', description: 'Strikes a connection may take before GOAWAY ENHANCE_YOUR_CALM "too_many_pings" closes it; 0 = never.' },
  { name: 'grpc-max-connection-age', kind: 'int', defaultText: '0', description: 'Close client connections after this many ms (0 = never), so service meshes rebalance long-lived clients.' },
  { name: 'grpc-max-connection-age-grace', kind: 'int', defaultText: 'unlimited', description: 'Milliseconds calls still open on a connection past its maximum age may take before it is closed anyway.' },
  { name: 'grpc-use-ssl', kind: 'bool', defaultText: 'false', description: 'Serve gRPC over TLS with --grpc-server-cert and --grpc-server-key. Certificate files are re-read while serving (see --grpc-ssl-refresh-secs).' },
  { name: 'grpc-use-ssl-mutual', kind: 'bool', defaultText: 'false', description: 'Serve gRPC over mutual TLS: clients must present a certificate signed by --grpc-root-cert. Implies --grpc-use-ssl.' },
  { name: 'grpc-server-cert', kind: 'string', description: 'PEM file with the server certificate (chain), for --grpc-use-ssl.' },
  { name: 'grpc-server-key', kind: 'string', description: 'PEM file with the server private key, for --grpc-use-ssl.' },
  { name: 'grpc-root-cert', kind: 'string', description: 'PEM file with the CA certificates that client certificates must chain to, for --grpc-use-ssl-mutual.' },
  { name: 'grpc-ssl-refresh-secs', kind: 'int', defaultText: '10', description: 'Seconds between reads of the certificate files; a changed, valid set serves new connections, while open connections keep theirs. 0 reads them once.' },
  { name: 'grpc-receive-window', kind: 'int', defaultText: '4194304', description: 'HTTP/2 receive window per stream and connection, in bytes; 0 keeps HTTP/2\'s 64 KiB. Large requests need a wide window.' },
  { name: 'grpc-max-receive-message-bytes', kind: 'int', defaultText: '67108864', description: 'Largest request message accepted, in bytes (64 MiB); a longer one is refused with RESOURCE_EXHAUSTED from its length prefix, before it is read. A request in flight holds up to this much (twice while its frames are joined).' },
  { name: 'max-request-inputs', kind: 'int', defaultText: '1024', description: 'Most inputs in one inference request, and likewise requested outputs, raw_input_contents entries and entries of one parameters map; checked before decoding (an empty input is 2 bytes on the wire and hundreds in memory).' },
  { name: 'max-tensor-elements', kind: 'int', defaultText: '16777216', description: 'Most elements of one input (its shape\'s product), checked before decoding.' },
  { name: 'max-typed-elements', kind: 'int', defaultText: '1048576', description: 'Most elements in the typed contents of one input, checked before decoding. Decoded, each takes about 32 bytes of memory whatever its size on the wire; large tensors belong in raw_input_contents.' },
  { name: 'max-bytes-element-bytes', kind: 'int', defaultText: '16777216', description: 'Longest BYTES element accepted, in bytes (16 MiB), raw or typed.' },
  { name: 'max-request-name-bytes', kind: 'int', defaultText: '1024', description: 'Longest model name, version, request id, tensor name, datatype or parameter key accepted in an inference request, in UTF-8 bytes.' },
  { name: 'max-queue-size', kind: 'int', defaultText: '1024', description: 'Requests one model queues (per priority level) before refusing more at once with UNAVAILABLE "Exceeds maximum queue size", for models whose config sets no max_queue_size (a config\'s own wins); 0 = unbounded, as in Triton.' },
  { name: 'max-queue-bytes', kind: 'int', defaultText: '268435456', description: 'Bytes of request messages one model queues (256 MiB) before refusing more the same way; 0 = unbounded. An empty queue always takes a request.' },
  { name: 'max-instances-per-model', kind: 'int', defaultText: '0', description: 'Most instances one model may start, its instance groups together (GPU groups count per GPU); a config asking for more is refused with that reason. 0 = 4 per CPU core, at least 16.' },
  { name: 'server-name', kind: 'string', defaultText: 'nereid', aliases: ['id'], description: 'Name reported by ServerMetadata (Triton\'s --id).' },
  { name: 'exit-on-error', kind: 'bool', defaultText: 'true', description: 'Exit at start-up if any model fails to load, as in Triton. With false, Nereid serves the models that loaded and exits only when none does.' },
  { name: 'strict-readiness', kind: 'bool', defaultText: 'true', description: 'ServerReady (and health service "") only when every model is ready, as in Triton.' },
  { name: 'disable-auto-complete-config', kind: 'bool', defaultText: 'false', description: 'Do not complete model configs from the ONNX graph.' },
  { name: 'backend-config', kind: 'list', envSeparator: ';', description: 'Backend setting as [<backend>,]<key>=<value>, as in Triton: onnxruntime,default-max-batch-size=<n> (default 4) is read; other settings are accepted with a warning.' },
  { name: 'model-control-mode', kind: 'string', defaultText: 'none', description: 'none: load every model at start-up and refuse load/unload requests; poll: the same, then apply repository changes every --repository-poll-secs; explicit: load only --load-model at start-up, then RepositoryModelLoad/Unload decide (as in Triton).' },
  { name: 'load-model', kind: 'list', envSeparator: ',', description: 'Model to load at start-up in explicit mode; repeat for several, or * (alone) for every model. Needs --model-control-mode=explicit.' },
  { name: 'repository-poll-secs', kind: 'int', defaultText: '15', description: 'Seconds between repository scans in poll mode; 0 turns polling off.' },
  { name: 'model-override-max-bytes', kind: 'int', defaultText: '1073741824', description: 'Most bytes the file: overrides of one RepositoryModelLoad may hold, all files together (they are written to a private temporary directory). The request itself is bounded by --grpc-max-receive-message-bytes too.' },
  { name: 'allow-client-shm', kind: 'bool', defaultText: 'false', description: 'Let clients register system shared memory regions (/dev/shm) for inputs and outputs, as Triton\'s --allow-client-shm. Off by default: a registered region gives the server read and write access to that shared memory object.' },
  { name: 'exit-timeout-secs', kind: 'int', defaultText: '30', description: 'Seconds shutdown waits for requests in flight before cancelling them.' },
  { name: 'trace-config', kind: 'list', envSeparator: ';', description: 'Tracing setting(s), Triton style: level=OFF|TIMESTAMPS, rate=N (every Nth request), count=N (-1 = unlimited), mode=opentelemetry, url=<OTLP endpoint>, protocol=http/protobuf|http/json|grpc, resource=key=value, bsp_max_queue_size=N, bsp_schedule_delay=ms, bsp_max_export_batch_size=N; several per flag joined by commas. OTEL_* variables are read too.' },
  { name: 'profile-dir', kind: 'string', defaultText: '<OS temp dir>/nereid-profiles', description: 'Directory where ONNX Runtime profiles asked for with TraceSetting (nereid_profile_executions) are written: a Chrome/Perfetto trace JSON and a summary per profile.' },
  { name: 'allow-metrics', kind: 'bool', defaultText: 'true', description: 'Serve Prometheus metrics on --metrics-port.' },
  { name: 'metrics-address', kind: 'string', defaultText: '0.0.0.0', description: 'Address the metrics endpoint binds.' },
  { name: 'metrics-port', kind: 'int', defaultText: '8002', description: 'Port of the metrics endpoint (GET /metrics); 0 picks a free one.' },
  { name: 'allow-cpu-metrics', kind: 'bool', defaultText: 'true', description: 'Export nv_cpu_utilization, nv_cpu_memory_total_bytes and nv_cpu_memory_used_bytes, read from /proc/stat and /proc/meminfo every --metrics-interval-ms (as in Triton).' },
  { name: 'allow-gpu-metrics', kind: 'bool', defaultText: 'true', description: 'Export nv_gpu_utilization, nv_gpu_memory_total_bytes, nv_gpu_memory_used_bytes, nv_gpu_power_usage, nv_gpu_power_limit and nv_energy_consumption per GPU (label gpu_uuid), read with nvidia-smi every --metrics-interval-ms; nothing where no GPU or no nvidia-smi is present.' },
  { name: 'metrics-interval-ms', kind: 'int', defaultText: '2000', description: 'Milliseconds between reads of the CPU and GPU metrics (Triton\'s default).' },
  { name: 'metrics-config', kind: 'list', envSeparator: ';', description: 'Metric setting, Triton style: summary_latencies=true adds the nv_inference_*_summary_us quantile series (60 s window); summary_quantiles=<q>:<error>,... picks their quantiles (default 0.5:0.05,0.9:0.01,0.95:0.001,0.99:0.001,0.999:0.000001); counter_latencies=false drops the nv_inference_*_duration_us counters and the per-model nv_cache_*_per_model ones.' },
  { name: 'cache-config', kind: 'list', envSeparator: ';', description: 'The response cache, Triton style: local,size=<bytes> keeps up to that many bytes of computed responses in this process, least recently used evicted first, for models whose config says response_cache { enable: true }. No cache when absent.' },
  { name: 'log-level', kind: 'string', defaultText: 'info', description: 'debug, info, warn or error.' },
  { name: 'log-verbose', kind: 'int', defaultText: '0', description: 'Triton-style verbosity (true = 1, false = 0); any value > 0 means --log-level debug.' },
  { name: 'log-info', kind: 'bool', defaultText: 'true', description: 'Log info lines (Triton\'s flag); false raises the level to warn.' },
  { name: 'log-warning', kind: 'bool', defaultText: 'true', description: 'Log warnings (Triton\'s flag); with --log-info=false, false raises the level to error.' },
  { name: 'log-error', kind: 'bool', defaultText: 'true', description: 'Log errors (Triton\'s flag); all three false silences the log.' },
  { name: 'log-format', kind: 'list', defaultText: 'auto,ISO8601', envSeparator: ',', description: 'How lines are written: json, pretty, or auto (pretty on a terminal, JSON otherwise); and Triton\'s timestamp formats: ISO8601 (time as an ISO 8601 string) or default (milliseconds since the epoch). Give one of each, repeated or comma-separated.' },
  { name: 'log-file', kind: 'string', description: 'Append log lines to this file instead of stdout (Triton\'s flag).' },
];

/** NEREID_GRPC_PORT for grpc-port. List options take several values separated by `envSeparator`. */
export function envName(option: OptionSpec): string {
  return `NEREID_${option.name.toUpperCase().replace(/-/g, '_')}`;
}
