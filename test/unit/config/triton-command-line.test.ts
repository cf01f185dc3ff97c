import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, type ConfigWarning } from '../../../src/config/load-config.js';
import { OPTIONS } from '../../../src/config/options.js';
import type { ServerConfig } from '../../../src/config/server-config.js';
import { TRITON_FLAGS } from '../../../src/config/triton-flags.js';
import { usage } from '../../../src/config/usage.js';

/**
 * Every flag tritonserver's parser defines (triton-inference-server/server,
 * src/command_line_parser.cc, as of 2025: SetupOptions, deprecated ones included).
 */
const TRITONSERVER_FLAGS = [
  'help', 'id', 'exit-timeout-secs',
  'model-store', 'model-repository', 'exit-on-error', 'disable-auto-complete-config', 'strict-readiness', 'model-control-mode',
  'repository-poll-secs', 'load-model', 'model-config-name', 'model-load-thread-count', 'model-load-retry-count', 'model-namespacing',
  'enable-peer-access',
  'allow-http', 'http-address', 'http-port', 'reuse-http-port', 'http-header-forward-pattern', 'http-thread-count', 'http-restricted-api',
  'allow-grpc', 'grpc-address', 'grpc-port', 'reuse-grpc-port', 'grpc-header-forward-pattern', 'grpc-infer-thread-count',
  'grpc-infer-allocation-pool-size', 'grpc-max-response-pool-size', 'grpc-use-ssl', 'grpc-use-ssl-mutual', 'grpc-server-cert',
  'grpc-server-key', 'grpc-root-cert', 'grpc-infer-response-compression-level', 'grpc-keepalive-time', 'grpc-keepalive-timeout',
  'grpc-keepalive-permit-without-calls', 'grpc-http2-max-pings-without-data', 'grpc-http2-min-recv-ping-interval-without-data',
  'grpc-http2-max-ping-strikes', 'grpc-max-connection-age', 'grpc-max-connection-age-grace', 'grpc-restricted-protocol',
  'log-verbose', 'log-info', 'log-warning', 'log-error', 'log-format', 'log-file',
  'allow-sagemaker', 'sagemaker-port', 'sagemaker-safe-port-range', 'sagemaker-thread-count',
  'allow-vertex-ai', 'vertex-ai-port', 'vertex-ai-thread-count', 'vertex-ai-default-model',
  'allow-metrics', 'allow-gpu-metrics', 'allow-cpu-metrics', 'metrics-address', 'metrics-port', 'metrics-interval-ms', 'metrics-config',
  'trace-config', 'cache-config', 'cache-directory', 'rate-limit', 'rate-limit-resource',
  'pinned-memory-pool-byte-size', 'cuda-memory-pool-byte-size', 'cuda-virtual-address-size', 'min-supported-compute-capability',
  'buffer-manager-thread-count', 'host-policy', 'model-load-gpu-limit', 'backend-directory', 'backend-config', 'repoagent-directory',
  'strict-model-config', 'response-cache-byte-size', 'trace-file', 'trace-level', 'trace-rate', 'trace-count', 'trace-log-frequency',
];

function start(argv: string[]): { config: ServerConfig; warnings: readonly ConfigWarning[] } {
  const command = loadConfig(argv, {});
  assert.equal(command.kind, 'run');
  return { config: command.config, warnings: command.warnings };
}

function refused(argv: string[], message: string): void {
  assert.throws(
    () => loadConfig(argv, {}),
    (err: unknown) => err instanceof ConfigError && err.message === message,
    `expected ConfigError: ${message}`,
  );
}

const flagsOf = (warnings: readonly ConfigWarning[]) => warnings.map((w) => w.flag);

describe('a tritonserver command line', () => {
  it('recognises every flag tritonserver defines', () => {
    const known = new Set([...OPTIONS.flatMap((o) => [o.name, ...(o.aliases ?? [])]), ...TRITON_FLAGS.keys(), 'help']);
    const missing = TRITONSERVER_FLAGS.filter((f) => !known.has(f));
    assert.deepEqual(missing, []);
    const text = usage();
    for (const flag of TRITONSERVER_FLAGS) assert.ok(text.includes(`--${flag}`), `--help lists --${flag}`);
  });

  it('starts from Triton\'s quick start, program name included, without a warning', () => {
    for (const program of ['tritonserver', '/opt/tritonserver/bin/tritonserver']) {
      const { config, warnings } = start([program, '--model-repository=/models']);
      assert.deepEqual(config.modelRepositories, ['/models']);
      assert.deepEqual(warnings, []);
    }
  });

  it('starts from KServe\'s kserve-tritonserver runtime: gRPC on 9000, HTTP on 8080, no warning', () => {
    const { config, warnings } = start(['tritonserver', '--model-store=/mnt/models', '--grpc-port=9000', '--http-port=8080', '--allow-grpc=true', '--allow-http=true']);
    assert.deepEqual(config.modelRepositories, ['/mnt/models']);
    assert.equal(config.grpc.port, 9000);
    assert.equal(config.grpc.enabled, true);
    assert.deepEqual(config.http, { enabled: true, address: '0.0.0.0', port: 8080 });
    assert.deepEqual(warnings, []);
  });

  it('serves HTTP on 8000 by default, as Triton; --allow-http=false turns it off; --http-thread-count is accepted with a warning', () => {
    assert.deepEqual(start(['--model-repository=/models']).config.http, { enabled: true, address: '0.0.0.0', port: 8000 });
    assert.equal(start(['--model-repository=/models', '--allow-http=false']).config.http.enabled, false);
    assert.equal(start(['--model-repository=/models', '--http-address=127.0.0.1']).config.http.address, '127.0.0.1');
    const { warnings } = start(['--model-repository=/models', '--http-thread-count=8']);
    assert.deepEqual(flagsOf(warnings), ['--http-thread-count']);
    assert.match(warnings[0]!.message, /^--http-thread-count changes nothing here: Node's event loop serves HTTP/);
    refused(['--model-repository=/models', '--http-port=80000'], "invalid value '80000' for --http-port: expected an integer from 0 to 65535");
  });

  it('starts from Triton\'s Helm chart with the server arguments its values suggest', () => {
    const { config, warnings } = start([
      'tritonserver', '--model-repository=/models', '--repository-poll-secs', '30', '--model-control-mode=POLL',
      '--strict-model-config=false', '--log-verbose=1', '--grpc-use-ssl=false',
    ]);
    assert.equal(config.modelControl.mode, 'poll', 'Triton reads the mode in any case');
    assert.equal(config.modelControl.pollSecs, 30);
    assert.equal(config.log.level, 'debug');
    assert.equal(config.autoCompleteConfig, true);
    assert.equal(config.grpc.tls, undefined);
    assert.deepEqual(flagsOf(warnings), ['--strict-model-config']);
  });

  it('accepts tuning flags for machinery Nereid lacks, one warning per flag however often it is given', () => {
    const { config, warnings } = start([
      '--model-repository=/models', '--pinned-memory-pool-byte-size=268435456', '--cuda-memory-pool-byte-size=0:67108864',
      '--cuda-memory-pool-byte-size=1:67108864', '--metrics-interval-ms=2000', '--grpc-infer-allocation-pool-size=16',
      '--backend-config=tensorflow,version=2', '--backend-config=onnxruntime,default-max-batch-size=8', '--cache-config=local,size=1048576',
      '--allow-gpu-metrics=true', '--allow-cpu-metrics=false', '--rate-limit=off', '--allow-sagemaker=false', '--model-namespacing=false',
      '--grpc-infer-response-compression-level=NONE', '--model-load-retry-count=0',
    ]);
    assert.equal(config.defaultMaxBatchSize, 8);
    assert.deepEqual(flagsOf(warnings), ['--pinned-memory-pool-byte-size', '--cuda-memory-pool-byte-size', '--grpc-infer-allocation-pool-size', '--backend-config']);
    // The metrics and cache flags are Nereid's own now, honoured without a warning.
    assert.deepEqual([config.metrics.intervalMs, config.metrics.gpu, config.metrics.cpu, config.cache?.sizeBytes], [2000, true, false, 1048576]);
    assert.equal(
      warnings.find((w) => w.flag === '--backend-config')!.message,
      '--backend-config tensorflow,version=2 changes nothing here: Nereid runs ONNX Runtime and reads only default-max-batch-size',
    );
  });

  it('stops start-up, saying why, for what Nereid cannot honour', () => {
    const repo = '--model-repository=/models';
    refused([repo, '--allow-sagemaker=true'], '--allow-sagemaker=true cannot be honoured: Nereid has no SageMaker endpoint');
    refused([repo, '--allow-vertex-ai'], '--allow-vertex-ai=true cannot be honoured: Nereid has no Vertex AI endpoint');
    refused([repo, '--rate-limit=execution_count'], '--rate-limit=execution_count cannot be honoured: Nereid has no rate limiter; an idle instance runs the next batch at once');
    refused(
      [repo, '--grpc-infer-response-compression-level=high'],
      "--grpc-infer-response-compression-level=high cannot be honoured: grpc-js, Nereid's gRPC library, cannot compress responses (compress at the proxy, e.g. Envoy's compressor filter)",
    );
    refused([repo, '--grpc-infer-response-compression-level=max'], "invalid value 'max' for --grpc-infer-response-compression-level: expected one of none, low, medium, high");
    refused(
      [repo, '--grpc-restricted-protocol=model-repository,admin-key=admin-value'],
      '--grpc-restricted-protocol=model-repository,admin-key=admin-value cannot be honoured: Nereid does not restrict protocols to callers sending a header, and serving them unrestricted would open what the flag closes',
    );
    refused([repo, '--model-namespacing=true'], '--model-namespacing=true cannot be honoured: models are looked up by name alone, so two repositories cannot hold models of the same name');
    refused([repo, '--trace-file=/tmp/trace.json'], '--trace-file=/tmp/trace.json cannot be honoured: Nereid exports OpenTelemetry spans, not Triton trace files; use --trace-config url=<OTLP endpoint>');
    refused([repo, '--reuse-grpc-port=1'], '--reuse-grpc-port=true cannot be honoured: Node 20 cannot share a listening port between processes (SO_REUSEPORT); run one server per port');
    refused([repo, '--model-config-name=h100'], "--model-config-name=h100 cannot be honoured: Nereid reads each model's config.pbtxt; custom configuration names (configs/<name>.pbtxt) are not supported");
    refused([repo, '--model-load-retry-count=2'], "--model-load-retry-count=2 cannot be honoured: Nereid does not retry a failed load (poll mode retries when the model's files change)");
    refused([repo, '--allow-http=maybe'], "invalid value 'maybe' for --allow-http: expected true or false");
    refused([repo, '--http-port'], '--http-port needs a value');
  });

  it('reads the deprecated trace flags as --trace-config entries', () => {
    const { config, warnings } = start(['--model-repository=/models', '--trace-level=TIMESTAMPS', '--trace-rate=1', '--trace-count=100']);
    assert.deepEqual([config.trace.level, config.trace.rate, config.trace.count], ['TIMESTAMPS', 1, 100]);
    assert.deepEqual(flagsOf(warnings), ['--trace-level', '--trace-rate', '--trace-count']);
    refused(['--model-repository=/models', '--trace-level=TENSORS'], "--trace-config: invalid value 'TENSORS' for level: expected OFF or TIMESTAMPS (TENSORS is not supported in OpenTelemetry mode)");
    assert.equal(start(['--model-repository=/models', '--strict-model-config=true']).config.autoCompleteConfig, false);
  });

  it('honours --id, --exit-on-error (true by default, as in Triton) and --allow-grpc', () => {
    const { config } = start(['--model-repository=/models', '--id=triton-a']);
    assert.equal(config.serverName, 'triton-a');
    assert.equal(config.exitOnError, true);
    assert.equal(start(['--model-repository=/models', '--exit-on-error=false']).config.exitOnError, false);
    assert.equal(start(['--model-repository=/models', '--allow-grpc=false']).config.grpc.enabled, false);
  });

  it('honours the logging flags: Triton\'s levels, timestamp formats and log file', () => {
    const level = (...flags: string[]) => start(['--model-repository=/models', ...flags]).config.log.level;
    assert.equal(level('--log-info=false'), 'warn');
    assert.equal(level('--log-info=false', '--log-warning=false'), 'error');
    assert.equal(level('--log-info=false', '--log-warning=false', '--log-error=false'), 'silent');
    assert.equal(level('--log-verbose=true'), 'debug');
    assert.equal(level('--log-verbose=false', '--log-level=warn'), 'warn');
    assert.equal(level('--log-level=error', '--log-info=true'), 'error', 'a flag that enables a level never lowers --log-level');
    const log = (...flags: string[]) => start(['--model-repository=/models', ...flags]).config.log;
    assert.deepEqual(log('--log-format=default'), { level: 'info', format: 'json', timestamps: 'default', file: undefined });
    assert.equal(log('--log-format', 'pretty', '--log-format', 'ISO8601').format, 'pretty');
    assert.equal(log('--log-format=json,default').timestamps, 'default');
    assert.equal(log('--log-file=/var/log/nereid.log').file, '/var/log/nereid.log');
    const fromTerminal = loadConfig(['--model-repository=/models', '--log-file=/tmp/n.log'], {}, true);
    assert.ok(fromTerminal.kind === 'run');
    assert.equal(fromTerminal.config.log.format, 'json', 'a log file gets JSON even from a terminal');
  });

  it('honours the keepalive and HTTP/2 ping flags and the connection age grace', () => {
    const { grpc } = start([
      '--model-repository=/models', '--grpc-keepalive-permit-without-calls=1', '--grpc-http2-max-pings-without-data=0',
      '--grpc-http2-min-recv-ping-interval-without-data=10000', '--grpc-http2-max-ping-strikes=5', '--grpc-max-connection-age=60000',
      '--grpc-max-connection-age-grace=5000',
    ]).config;
    assert.deepEqual(
      [grpc.keepalivePermitWithoutCalls, grpc.http2MaxPingsWithoutData, grpc.http2MinRecvPingIntervalWithoutDataMs, grpc.http2MaxPingStrikes, grpc.maxConnectionAgeMs, grpc.maxConnectionAgeGraceMs],
      [true, 0, 10_000, 5, 60_000, 5000],
    );
  });

  it('reads Triton\'s TLS flags: mutual implies TLS, both need files, certificate flags alone are ignored with a warning', () => {
    const files = ['--grpc-server-cert=/tls/tls.crt', '--grpc-server-key=/tls/tls.key'];
    const tls = (...flags: string[]) => start(['--model-repository=/models', ...flags]).config.grpc.tls;
    assert.deepEqual(tls('--grpc-use-ssl=true', ...files), { mutual: false, certFile: '/tls/tls.crt', keyFile: '/tls/tls.key', rootCertFile: undefined, refreshSecs: 10 });
    assert.deepEqual(tls('--grpc-use-ssl-mutual=true', ...files, '--grpc-root-cert=/tls/ca.crt', '--grpc-ssl-refresh-secs=1'), {
      mutual: true,
      certFile: '/tls/tls.crt',
      keyFile: '/tls/tls.key',
      rootCertFile: '/tls/ca.crt',
      refreshSecs: 1,
    });
    const plain = start(['--model-repository=/models', ...files]);
    assert.equal(plain.config.grpc.tls, undefined);
    assert.deepEqual(flagsOf(plain.warnings), ['--grpc-server-cert', '--grpc-server-key']);
    assert.deepEqual(flagsOf(start(['--model-repository=/models', '--grpc-use-ssl', ...files, '--grpc-root-cert=/ca']).warnings), ['--grpc-root-cert']);
    refused(['--model-repository=/models', '--grpc-use-ssl'], "--grpc-use-ssl needs --grpc-server-cert and --grpc-server-key (PEM files with the server's certificate and private key)");
    refused(['--model-repository=/models', '--grpc-use-ssl-mutual', ...files], '--grpc-use-ssl-mutual needs --grpc-root-cert (a PEM file with the CA certificates that client certificates must chain to)');
  });

  it('still refuses what tritonserver would not know either', () => {
    refused(['--model-repository=/models', '--grpc-prot=1'], 'unknown flag --grpc-prot; run with --help for the list');
    refused(['tritonserver', 'serve'], "unexpected argument 'serve'; flags start with --");
  });
});
