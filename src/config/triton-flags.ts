/**
 * tritonserver's flags that have no option of Nereid's own (the full list is Triton's
 * src/command_line_parser.cc), so that a command line copied from Triton's docs, a Helm chart
 * or KServe's runtime starts instead of crash-looping. Each flag decides, for the value given,
 * between three outcomes:
 *
 * - it matches what Nereid does anyway (`--rate-limit=off`, `--allow-sagemaker=false`): accepted
 *   silently;
 * - it tunes machinery Nereid does not have (thread counts, memory pools, cache libraries):
 *   accepted with one warning saying so;
 * - it asks for behaviour Nereid cannot give (another endpoint, a rate limiter, restricted
 *   protocols): start-up stops with a message that says why.
 *
 * A few deprecated flags are spelled differently here and are rewritten onto Nereid's options.
 */

/** What one occurrence of a Triton-only flag does. */
export type TritonOutcome =
  | { readonly kind: 'accept' }
  | { readonly kind: 'warn'; readonly message: string }
  | { readonly kind: 'refuse'; readonly message: string }
  /** Rewritten onto a Nereid option (its value appended for lists), with Triton's deprecation note. */
  | { readonly kind: 'rewrite'; readonly option: string; readonly value: string; readonly message: string };

export interface TritonFlag {
  readonly name: string;
  /** bool flags may stand alone (`--allow-http` = true); the others need a value. */
  readonly kind: 'bool' | 'value';
  /** One line for --help and the README: what the flag does here. */
  readonly effect: string;
  /** Decides for one value; `value` is already checked against `kind`. */
  readonly decide: (value: string, flag: string) => TritonOutcome;
}

const ACCEPT: TritonOutcome = { kind: 'accept' };

/** Triton's bool spellings (ParseOption<bool>), plus Nereid's yes/no. */
export function tritonBool(raw: string): boolean | undefined {
  if (/^(true|on|1|yes)$/i.test(raw)) return true;
  if (/^(false|off|0|no)$/i.test(raw)) return false;
  return undefined;
}

/** Any value: one warning that the flag changes nothing here, and why. */
function ignored(name: string, kind: TritonFlag['kind'], why: string): TritonFlag {
  return { name, kind, effect: `ignored with a warning: ${why}`, decide: (_, flag) => ({ kind: 'warn', message: `${flag} changes nothing here: ${why}` }) };
}

/** Any value stops start-up, saying why. */
function refused(name: string, why: string): TritonFlag {
  return { name, kind: 'value', effect: `stops start-up: ${why}`, decide: (value, flag) => ({ kind: 'refuse', message: `${flag}=${value} cannot be honoured: ${why}` }) };
}

/** A bool that Nereid honours only as false (Nereid lacks the feature); true stops start-up. */
function onlyFalse(name: string, why: string): TritonFlag {
  return {
    name,
    kind: 'bool',
    effect: `false is what Nereid does; true stops start-up: ${why}`,
    decide: (value, flag) => (tritonBool(value) === false ? ACCEPT : { kind: 'refuse', message: `${flag}=true cannot be honoured: ${why}` }),
  };
}

/** A bool whose true asks for something Nereid does not export; a warning, since serving is unchanged. */
function falseOrWarn(name: string, why: string): TritonFlag {
  return {
    name,
    kind: 'bool',
    effect: `false is what Nereid does; true is accepted with a warning: ${why}`,
    decide: (value, flag) => (tritonBool(value) === false ? ACCEPT : { kind: 'warn', message: `${flag}=true changes nothing here: ${why}` }),
  };
}

/** A value flag where only `accepted` (case-insensitive) matches Nereid; others stop start-up. */
function onlyValue(name: string, accepted: string, known: readonly string[], why: string): TritonFlag {
  return {
    name,
    kind: 'value',
    effect: `${accepted} is what Nereid does; ${known.filter((k) => k !== accepted).join(', ')} stop start-up: ${why}`,
    decide: (value, flag) => {
      const lower = value.toLowerCase();
      if (lower === accepted) return ACCEPT;
      if (!known.includes(lower)) return { kind: 'refuse', message: `invalid value '${value}' for ${flag}: expected one of ${known.join(', ')}` };
      return { kind: 'refuse', message: `${flag}=${value} cannot be honoured: ${why}` };
    },
  };
}

/** A deprecated Triton flag rewritten onto a --trace-config entry. */
function traceEntry(name: string, key: string): TritonFlag {
  return {
    name,
    kind: 'value',
    effect: `same as --trace-config ${key}=<value> (deprecated in Triton too)`,
    decide: (value, flag) => ({
      kind: 'rewrite',
      option: 'trace-config',
      value: `${key}=${value}`,
      message: `${flag} is deprecated (as in Triton); read as --trace-config ${key}=${value}`,
    }),
  };
}

const SAGEMAKER = 'Nereid has no SageMaker endpoint';
const VERTEX = 'Nereid has no Vertex AI endpoint';
const NO_THREADS = 'Node\'s event loop serves gRPC (and HTTP), so there are no handler threads or request pools to size';
const NO_CACHE_LIBRARIES = 'the local response cache is built in; no cache libraries are loaded';
const NO_RATE_LIMITER = 'Nereid has no rate limiter; an idle instance runs the next batch at once';
const NO_LIBRARIES = 'Nereid loads no shared-library backends, caches or repository agents';
const CPU_MEMORY = 'ONNX Runtime allocates its own memory; Nereid keeps no pinned or CUDA memory pools';

/** Every tritonserver flag without a Nereid option of the same name, by name. */
export const TRITON_FLAGS: ReadonlyMap<string, TritonFlag> = new Map(
  [
    // Model repository
    refused('model-config-name', 'Nereid reads each model\'s config.pbtxt; custom configuration names (configs/<name>.pbtxt) are not supported'),
    ignored('model-load-thread-count', 'value', 'models load one after another, each on worker threads of its own'),
    {
      name: 'model-load-retry-count',
      kind: 'value',
      effect: '0 is what Nereid does; more stops start-up: a failed load is not retried',
      decide: (value: string, flag: string) =>
        /^0+$/.test(value) ? ACCEPT : { kind: 'refuse', message: `${flag}=${value} cannot be honoured: Nereid does not retry a failed load (poll mode retries when the model's files change)` },
    },
    onlyFalse('model-namespacing', 'models are looked up by name alone, so two repositories cannot hold models of the same name'),
    ignored('enable-peer-access', 'bool', 'instances never copy tensors between GPUs'),
    {
      name: 'strict-model-config',
      kind: 'bool',
      effect: 'true is read as --disable-auto-complete-config (deprecated in Triton too)',
      decide: (value: string, flag: string) =>
        tritonBool(value) === true
          ? { kind: 'rewrite', option: 'disable-auto-complete-config', value: 'true', message: `${flag} is deprecated (as in Triton); read as --disable-auto-complete-config` }
          : { kind: 'warn', message: `${flag} is deprecated (as in Triton); false is the default, configs are auto-completed` },
    },
    // HTTP
    onlyFalse('reuse-http-port', 'Node 20 cannot share a listening port between processes (SO_REUSEPORT); run one server per port'),
    ignored('http-header-forward-pattern', 'value', 'request parameters are not passed to ONNX Runtime, so forwarded headers would reach nothing'),
    refused('http-restricted-api', 'Nereid does not restrict APIs to callers sending a header, and serving them unrestricted would open what the flag closes'),
    // gRPC
    onlyFalse('reuse-grpc-port', 'Node 20 cannot share a listening port between processes (SO_REUSEPORT); run one server per port'),
    ignored('grpc-header-forward-pattern', 'value', 'request parameters are not passed to ONNX Runtime, so forwarded headers would reach nothing'),
    ignored('grpc-infer-thread-count', 'value', NO_THREADS),
    ignored('grpc-infer-allocation-pool-size', 'value', NO_THREADS),
    ignored('grpc-max-response-pool-size', 'value', NO_THREADS),
    onlyValue(
      'grpc-infer-response-compression-level',
      'none',
      ['none', 'low', 'medium', 'high'],
      'grpc-js, Nereid\'s gRPC library, cannot compress responses (compress at the proxy, e.g. Envoy\'s compressor filter)',
    ),
    refused('grpc-restricted-protocol', 'Nereid does not restrict protocols to callers sending a header, and serving them unrestricted would open what the flag closes'),
    // SageMaker and Vertex AI
    onlyFalse('allow-sagemaker', SAGEMAKER),
    ignored('sagemaker-port', 'value', SAGEMAKER),
    ignored('sagemaker-safe-port-range', 'value', SAGEMAKER),
    ignored('sagemaker-thread-count', 'value', SAGEMAKER),
    onlyFalse('allow-vertex-ai', VERTEX),
    ignored('vertex-ai-port', 'value', VERTEX),
    ignored('vertex-ai-thread-count', 'value', VERTEX),
    ignored('vertex-ai-default-model', 'value', VERTEX),
    // Tracing (deprecated in Triton)
    refused('trace-file', 'Nereid exports OpenTelemetry spans, not Triton trace files; use --trace-config url=<OTLP endpoint>'),
    traceEntry('trace-level', 'level'),
    traceEntry('trace-rate', 'rate'),
    traceEntry('trace-count', 'count'),
    ignored('trace-log-frequency', 'value', 'it applies to Triton trace files, which Nereid does not write'),
    // Response cache
    ignored('cache-directory', 'value', NO_CACHE_LIBRARIES),
    {
      name: 'response-cache-byte-size',
      kind: 'value',
      effect: 'same as --cache-config local,size=<value> (deprecated in Triton too); 0, its default, means no cache',
      decide: (value: string, flag: string) => /^0+$/.test(value) ? ACCEPT : ({
        kind: 'rewrite',
        option: 'cache-config',
        value: `local,size=${value}`,
        message: `${flag} is deprecated (as in Triton); read as --cache-config local,size=${value}`,
      }),
    },
    // Rate limiter
    onlyValue('rate-limit', 'off', ['off', 'execution_count'], NO_RATE_LIMITER),
    ignored('rate-limit-resource', 'value', NO_RATE_LIMITER),
    // Memory and devices
    ignored('pinned-memory-pool-byte-size', 'value', CPU_MEMORY),
    ignored('cuda-memory-pool-byte-size', 'value', CPU_MEMORY),
    ignored('cuda-virtual-address-size', 'value', CPU_MEMORY),
    ignored('min-supported-compute-capability', 'value', 'ONNX Runtime\'s CUDA provider decides which GPUs it can use'),
    ignored('buffer-manager-thread-count', 'value', 'tensors are copied on the main thread and handed to instances by transfer'),
    ignored('host-policy', 'value', 'instances are not pinned to NUMA nodes or CPU cores'),
    ignored('model-load-gpu-limit', 'value', 'GPU memory is not checked before a load; a load that does not fit fails with ONNX Runtime\'s error'),
    // Backends and repository agents
    ignored('backend-directory', 'value', NO_LIBRARIES),
    ignored('repoagent-directory', 'value', NO_LIBRARIES),
  ].map((flag) => [flag.name, flag as TritonFlag]),
);
