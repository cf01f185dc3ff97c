import path from 'node:path';
import { tmpdir } from 'node:os';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';
import type { ServerConfig } from '../../../src/config/server-config.js';

const REPO = ['--model-repository', '/models'];

/** The ServerConfig of a run command line; fails the test for --help / --version. */
function run(argv: string[], env: NodeJS.ProcessEnv = {}, terminal = false): ServerConfig {
  const result = loadConfig(argv, env, terminal);
  assert.equal(result.kind, 'run');
  return result.config;
}

function rejects(argv: string[], message: string | RegExp, env: NodeJS.ProcessEnv = {}): void {
  assert.throws(
    () => loadConfig(argv, env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.equal(err.name, 'ConfigError');
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

describe('loadConfig', () => {
  it('reads the limit flags and their variables, and refuses values out of range naming the flag', () => {
    const config = run([
      ...REPO,
      '--grpc-max-receive-message-bytes', '1048576', '--max-request-inputs', '8', '--max-tensor-elements', '100',
      '--max-bytes-element-bytes', '0', '--max-request-name-bytes', '64', '--max-queue-size', '0', '--max-instances-per-model', '3', '--max-typed-elements', '10',
    ], { NEREID_MAX_QUEUE_BYTES: '4096' });
    assert.deepEqual(config.limits, {
      request: { maxMessageBytes: 1_048_576, maxInputs: 8, maxTensorElements: 100, maxTypedElements: 10, maxBytesElementBytes: 0, maxNameBytes: 64 },
      queue: { maxQueueSize: 0, maxQueueBytes: 4096 },
      maxInstancesPerModel: 3,
    });
    rejects([...REPO, '--grpc-max-receive-message-bytes', '100'], "invalid value '100' for --grpc-max-receive-message-bytes: expected an integer from 1024 to 2147483647");
    rejects([...REPO, '--max-request-inputs', '0'], "invalid value '0' for --max-request-inputs: expected an integer from 1 to 2147483647");
    rejects(REPO, "invalid value '-1' for NEREID_MAX_QUEUE_SIZE (--max-queue-size): expected an integer from 0 to 2147483647", { NEREID_MAX_QUEUE_SIZE: '-1' });
  });

  it('fills every default', () => {
    assert.deepEqual(run(REPO), {
      modelRepositories: ['/models'],
      serverName: 'nereid',
      grpc: {
        enabled: true,
        address: '0.0.0.0',
        port: 8001,
        keepaliveTimeMs: 7_200_000,
        keepaliveTimeoutMs: 20_000,
        keepalivePermitWithoutCalls: false,
        http2MaxPingsWithoutData: 2,
        http2MinRecvPingIntervalWithoutDataMs: 300_000,
        http2MaxPingStrikes: 2,
        maxConnectionAgeMs: 0,
        maxConnectionAgeGraceMs: undefined,
        receiveWindowBytes: 4 * 1024 * 1024,
        tls: undefined,
      },
      http: { enabled: true, address: '0.0.0.0', port: 8000 },
      modelControl: { mode: 'none', startupModels: [], pollSecs: 0, overrideMaxBytes: 1024 ** 3 },
      sharedMemory: { allowClient: false },
      exitOnError: true,
      strictReadiness: true,
      autoCompleteConfig: true,
      defaultMaxBatchSize: 4,
      exitTimeoutSecs: 30,
      limits: {
        request: { maxMessageBytes: 64 * 2 ** 20, maxInputs: 1024, maxTensorElements: 2 ** 24, maxTypedElements: 2 ** 20, maxBytesElementBytes: 2 ** 24, maxNameBytes: 1024 },
        queue: { maxQueueSize: 1024, maxQueueBytes: 256 * 2 ** 20 },
        maxInstancesPerModel: 0,
      },
      trace: {
        level: 'OFF',
        rate: 1000,
        count: -1,
        disabledBy: undefined,
        sampler: { name: 'parentbased_always_on', parentBased: true, ratio: 1 },
        propagate: true,
        exporter: {
          url: 'http://localhost:4318/v1/traces',
          protocol: 'http/protobuf',
          headers: {},
          timeoutMillis: 10_000,
          compression: 'none',
          certificate: undefined,
          clientCertificate: undefined,
          clientKey: undefined,
        },
        resource: { 'service.name': 'nereid' },
        batch: { maxQueueSize: 2048, scheduledDelayMillis: 5000, exportTimeoutMillis: 30_000, maxExportBatchSize: 512 },
        limits: { attributeCountLimit: 128, attributeValueLengthLimit: Infinity, linkCountLimit: 128, eventCountLimit: 128, attributePerEventCountLimit: 128, attributePerLinkCountLimit: 128 },
      },
      metrics: {
        enabled: true,
        address: '0.0.0.0',
        port: 8002,
        cpu: true,
        gpu: true,
        intervalMs: 2000,
        counterLatencies: true,
        summaryLatencies: false,
        summaryQuantiles: [
          { quantile: 0.5, error: 0.05 },
          { quantile: 0.9, error: 0.01 },
          { quantile: 0.95, error: 0.001 },
          { quantile: 0.99, error: 0.001 },
          { quantile: 0.999, error: 0.000001 },
        ],
      },
      cache: undefined,
      profileDir: path.join(tmpdir(), 'nereid-profiles'),
      log: { level: 'info', format: 'json', timestamps: 'ISO8601', file: undefined },
    });
  });

  it('reads --trace-config entries, Triton style, on top of OTEL_* variables', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_SERVICE_NAME: 'ocr', OTEL_RESOURCE_ATTRIBUTES: 'team=vision,region=eu' };
    const config = run([...REPO, '--trace-config', 'level=TIMESTAMPS,rate=1', '--trace-config', 'opentelemetry,resource=pod=a', '--trace-config=count=10,bsp_schedule_delay=200'], env);
    const { level, rate, count, exporter, resource, batch } = config.trace;
    assert.deepEqual({ level, rate, count, url: exporter.url, protocol: exporter.protocol, resource, batch }, {
      level: 'TIMESTAMPS',
      rate: 1,
      count: 10,
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      resource: { 'service.name': 'ocr', team: 'vision', region: 'eu', pod: 'a' },
      batch: { maxQueueSize: 2048, scheduledDelayMillis: 200, exportTimeoutMillis: 30_000, maxExportBatchSize: 512 },
    });
    assert.equal(run([...REPO, '--trace-config', 'url=http://x:1/t'], env).trace.exporter.url, 'http://x:1/t', 'an explicit url wins');
    rejects([...REPO, '--trace-config', 'level=TENSORS'], /^--trace-config: invalid value 'TENSORS' for level: expected OFF or TIMESTAMPS/);
    rejects([...REPO, '--trace-config', 'mode=triton'], "--trace-config: invalid value 'triton' for mode: Nereid supports mode=opentelemetry only");
    rejects([...REPO, '--trace-config', 'rate=often'], "--trace-config: invalid value 'often' for rate: expected an integer from 0 to 2147483647");
    rejects([...REPO, '--trace-config', 'colour=blue'], /^--trace-config: unknown key 'colour'/);
  });

  it('chooses the OTLP encoding from OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL or protocol=, protobuf by default', () => {
    assert.equal(run([...REPO], { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).trace.exporter.protocol, 'http/json');
    const both = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' };
    assert.equal(run([...REPO], both).trace.exporter.protocol, 'http/protobuf', 'the traces variable wins over the general one');
    assert.equal(run([...REPO, '--trace-config', 'protocol=http/json'], both).trace.exporter.protocol, 'http/json', 'the flag wins over the variables');
    rejects([...REPO], "invalid value 'xml' for OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: expected grpc, http/protobuf or http/json", { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'xml' });
    rejects([...REPO, '--trace-config', 'protocol=thrift'], "--trace-config: invalid value 'thrift' for protocol: expected grpc, http/protobuf or http/json");
    const general = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
    assert.equal(run([...REPO, '--trace-config', 'protocol=http/json'], general).trace.exporter.protocol, 'http/json', 'a variable the flag overrides is not read');
  });

  it('exports over OTLP/gRPC with protocol grpc: the endpoint is used as is, localhost:4317 by default', () => {
    const exporter = (flags: string[], env: NodeJS.ProcessEnv = {}) => run([...REPO, ...flags], env).trace.exporter;
    assert.deepEqual([exporter(['--trace-config', 'protocol=grpc']).protocol, exporter(['--trace-config', 'protocol=grpc']).url], ['grpc', 'http://localhost:4317']);
    assert.equal(exporter([], { OTEL_EXPORTER_OTLP_PROTOCOL: 'GRPC', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4317' }).url, 'https://collector:4317', 'no /v1/traces for gRPC');
    assert.equal(
      exporter([], { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4317' }).url,
      'http://t:4317',
      'the traces endpoint wins',
    );
    assert.equal(exporter(['--trace-config', 'protocol=grpc,url=http://x:4317'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }).url, 'http://x:4317', 'the flag wins');
    assert.equal(exporter([], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).url, 'http://c:4318/v1/traces', 'HTTP still appends /v1/traces');
  });

  it('returns help and version requests', () => {
    assert.deepEqual(loadConfig(['--help'], {}), { kind: 'help' });
    assert.deepEqual(loadConfig(['-h'], {}), { kind: 'help' });
    assert.deepEqual(loadConfig(['--version'], {}), { kind: 'version' });
    // Even next to flags that would fail.
    assert.deepEqual(loadConfig(['--bogus', '--help'], {}), { kind: 'help' });
  });

  describe('flags', () => {
    it('reads --name value and --name=value', () => {
      const config = run([...REPO, '--grpc-port', '9000', '--server-name=triton', '--grpc-address=127.0.0.1']);
      assert.equal(config.grpc.port, 9000);
      assert.equal(config.serverName, 'triton');
      assert.equal(config.grpc.address, '127.0.0.1');
    });

    it('keeps "=" inside a --name=value value', () => {
      assert.equal(run([...REPO, '--server-name=a=b']).serverName, 'a=b');
    });

    it('reads a bool flag alone as true, before another flag or at the end', () => {
      assert.equal(run(['--exit-on-error', ...REPO]).exitOnError, true);
      assert.equal(run([...REPO, '--exit-on-error']).exitOnError, true);
      assert.equal(run([...REPO, '--disable-auto-complete-config']).autoCompleteConfig, false);
    });

    it('reads bool values in several spellings', () => {
      for (const value of ['true', 'TRUE', '1', 'yes', 'on']) assert.equal(run([...REPO, '--exit-on-error', value]).exitOnError, true, value);
      for (const value of ['false', 'False', '0', 'no', 'off']) assert.equal(run([...REPO, '--strict-readiness', value]).strictReadiness, false, value);
      assert.equal(run([...REPO, '--strict-readiness=false']).strictReadiness, false);
    });

    it('repeats --model-repository and accepts its alias --model-store', () => {
      assert.deepEqual(run(['--model-repository', '/a', '--model-store=/b', '--model-repository=/c']).modelRepositories, ['/a', '/b', '/c']);
    });

    it('lets the last value of a single-valued flag win', () => {
      assert.equal(run([...REPO, '--grpc-port', '1', '--grpc-port', '2']).grpc.port, 2);
    });

    it('accepts port 0 and 65535', () => {
      assert.equal(run([...REPO, '--grpc-port', '0']).grpc.port, 0);
      assert.equal(run([...REPO, '--grpc-port', '65535']).grpc.port, 65535);
    });

    it('reads --backend-config onnxruntime,default-max-batch-size=<n>', () => {
      assert.equal(run([...REPO, '--backend-config', 'onnxruntime,default-max-batch-size=16']).defaultMaxBatchSize, 16);
      assert.equal(run([...REPO, '--backend-config=onnxruntime,default-max-batch-size=0']).defaultMaxBatchSize, 0);
    });

    it('picks the log format: auto is pretty on a terminal and json otherwise', () => {
      assert.equal(run(REPO, {}, true).log.format, 'pretty');
      assert.equal(run(REPO, {}, false).log.format, 'json');
      assert.equal(run([...REPO, '--log-format', 'json'], {}, true).log.format, 'json');
      assert.equal(run([...REPO, '--log-format', 'pretty'], {}, false).log.format, 'pretty');
    });

    it('reads --log-level, and --log-verbose > 0 means debug', () => {
      assert.equal(run([...REPO, '--log-level', 'warn']).log.level, 'warn');
      assert.equal(run([...REPO, '--log-verbose', '1']).log.level, 'debug');
      assert.equal(run([...REPO, '--log-verbose', '1', '--log-level', 'error']).log.level, 'debug');
      assert.equal(run([...REPO, '--log-verbose', '0', '--log-level', 'error']).log.level, 'error');
    });

    it('reads the numeric settings', () => {
      const config = run([
        ...REPO,
        '--grpc-keepalive-time=1000',
        '--grpc-keepalive-timeout=500',
        '--grpc-max-connection-age=60000',
        '--exit-timeout-secs=5',
      ]);
      assert.deepEqual(
        [config.grpc.keepaliveTimeMs, config.grpc.keepaliveTimeoutMs, config.grpc.maxConnectionAgeMs, config.exitTimeoutSecs],
        [1000, 500, 60000, 5],
      );
    });
  });

  describe('environment', () => {
    it('reads NEREID_* variables', () => {
      const config = run([], {
        NEREID_MODEL_REPOSITORY: '/a, /b ,,',
        NEREID_GRPC_PORT: '9100',
        NEREID_STRICT_READINESS: 'false',
        NEREID_LOG_FORMAT: 'pretty',
        NEREID_SERVER_NAME: 'envname',
      });
      assert.deepEqual(config.modelRepositories, ['/a', '/b']);
      assert.equal(config.grpc.port, 9100);
      assert.equal(config.strictReadiness, false);
      assert.equal(config.log.format, 'pretty');
      assert.equal(config.serverName, 'envname');
    });

    it('lets flags win over variables', () => {
      const config = run(['--grpc-port', '9200', '--model-repository', '/flag'], { NEREID_GRPC_PORT: '9100', NEREID_MODEL_REPOSITORY: '/env' });
      assert.equal(config.grpc.port, 9200);
      assert.deepEqual(config.modelRepositories, ['/flag']);
    });

    it('ignores empty variables and unrelated ones', () => {
      const config = run(REPO, { NEREID_GRPC_PORT: '', NEREID_NOT_A_FLAG: 'x', PATH: '/bin' });
      assert.equal(config.grpc.port, 8001);
    });

    it(
      'reads NEREID_BACKEND_CONFIG',
      () => {
        assert.equal(run(REPO, { NEREID_BACKEND_CONFIG: 'onnxruntime,default-max-batch-size=8' }).defaultMaxBatchSize, 8);
      },
    );

    it('names the variable, and its flag, when a variable has a bad value', () => {
      rejects(REPO, "invalid value 'abc' for NEREID_GRPC_PORT (--grpc-port): expected an integer from 0 to 65535", { NEREID_GRPC_PORT: 'abc' });
      rejects(REPO, "invalid value 'maybe' for NEREID_STRICT_READINESS (--strict-readiness): expected true or false", { NEREID_STRICT_READINESS: 'maybe' });
      rejects(REPO, /^NEREID_TRACE_CONFIG \(--trace-config\): invalid value 'LOUD' for level/, { NEREID_TRACE_CONFIG: 'level=LOUD' });
      assert.equal(run([...REPO, '--grpc-port', '9000'], { NEREID_GRPC_PORT: 'abc' }).grpc.port, 9000, 'a flag replaces the variable, bad value and all');
    });
  });

  describe('errors', () => {
    it('needs a model repository', () => {
      rejects([], '--model-repository is required (or NEREID_MODEL_REPOSITORY)');
      rejects(['--grpc-port', '1'], '--model-repository is required (or NEREID_MODEL_REPOSITORY)');
    });

    it('rejects an unknown flag', () => {
      rejects([...REPO, '--grpc-prot', '1'], 'unknown flag --grpc-prot; run with --help for the list');
      rejects([...REPO, '--grpc-prot=1'], 'unknown flag --grpc-prot; run with --help for the list');
    });

    it('rejects an argument that is not a flag', () => {
      rejects(['models'], "unexpected argument 'models'; flags start with --");
      rejects([...REPO, '-p', '1'], "unexpected argument '-p'; flags start with --");
    });

    it('rejects a flag without its value', () => {
      rejects([...REPO, '--grpc-port'], '--grpc-port needs a value');
      rejects(['--model-repository'], '--model-repository needs a value');
    });

    it(
      'does not take the next flag as the value of a flag that needs one',
      () => {
        rejects([...REPO, '--server-name', '--exit-on-error'], '--server-name needs a value');
      },
    );

    it('rejects a port that is not an integer or out of range', () => {
      for (const value of ['abc', '80.5', '65536', '-1', '', '1e3']) {
        rejects([...REPO, `--grpc-port=${value}`], `invalid value '${value}' for --grpc-port: expected an integer from 0 to 65535`);
      }
    });

    it('rejects keepalive values below 1', () => {
      rejects([...REPO, '--grpc-keepalive-time', '0'], "invalid value '0' for --grpc-keepalive-time: expected an integer from 1 to 2147483647");
    });

    it('rejects a bad boolean', () => {
      rejects([...REPO, '--exit-on-error', 'maybe'], "invalid value 'maybe' for --exit-on-error: expected true or false");
      rejects([...REPO, '--strict-readiness='], "invalid value '' for --strict-readiness: expected true or false");
    });

    it('rejects a bad --log-format and --log-level', () => {
      rejects([...REPO, '--log-format', 'xml'], "invalid value 'xml' for --log-format: expected one of auto, json, pretty, ISO8601, default");
      rejects([...REPO, '--log-level', 'trace'], "invalid value 'trace' for --log-level: expected one of debug, info, warn, error");
    });

    it('rejects a malformed --backend-config', () => {
      for (const value of ['onnxruntime', 'onnxruntime,', ',default-max-batch-size=4', 'onnxruntime,default-max-batch-size=']) {
        rejects([...REPO, '--backend-config', value], `invalid value '${value}' for --backend-config: expected [<backend>,]<setting>=<value>, e.g. onnxruntime,default-max-batch-size=8`);
      }
      rejects(
        [...REPO, '--backend-config', 'onnxruntime,default-max-batch-size=x'],
        "invalid value 'onnxruntime,default-max-batch-size=x' for --backend-config: default-max-batch-size must be a non-negative integer",
      );
    });
  });

  describe('model control and shared memory', () => {
    it('takes Triton\'s modes, startup models and poll interval', () => {
      assert.deepEqual(run([...REPO, '--model-control-mode', 'explicit', '--load-model', 'a', '--load-model=b']).modelControl.startupModels, ['a', 'b']);
      assert.deepEqual(run([...REPO, '--model-control-mode=explicit', '--load-model', '*']).modelControl.startupModels, ['*']);
      assert.equal(run([...REPO, '--model-control-mode', 'poll']).modelControl.pollSecs, 15);
      assert.equal(run([...REPO, '--model-control-mode', 'poll', '--repository-poll-secs', '1']).modelControl.pollSecs, 1);
      // As in Triton, the interval only matters in poll mode.
      assert.equal(run([...REPO, '--model-control-mode', 'explicit', '--repository-poll-secs', '1']).modelControl.pollSecs, 0);
      assert.equal(run([...REPO, '--allow-client-shm']).sharedMemory.allowClient, true);
      assert.equal(run([...REPO, '--allow-client-shm=false']).sharedMemory.allowClient, false);
    });

    it('reads NEREID_LOAD_MODEL as a comma-separated list', () => {
      const command = loadConfig([...REPO, '--model-control-mode', 'explicit'], { NEREID_LOAD_MODEL: 'a, b' });
      assert.ok(command.kind === 'run');
      assert.deepEqual(command.config.modelControl.startupModels, ['a', 'b']);
    });

    it('refuses what Triton refuses', () => {
      rejects([...REPO, '--load-model', 'a'], '--load-model requires --model-control-mode=explicit as well (as in Triton)');
      rejects([...REPO, '--model-control-mode', 'poll', '--load-model', 'a'], '--load-model requires --model-control-mode=explicit as well (as in Triton)');
      rejects([...REPO, '--model-control-mode', 'explicit', '--load-model', '*', '--load-model', 'a'], "--load-model: wildcard model name '*' must be the only startup model if specified at all");
      rejects([...REPO, '--model-control-mode', 'manual'], "invalid value 'manual' for --model-control-mode: expected one of none, poll, explicit");
      rejects([...REPO, '--repository-poll-secs', '-1'], "invalid value '-1' for --repository-poll-secs: expected an integer from 0 to 86400");
    });
  });

  it('returns a deeply frozen config', () => {
    const config = run([...REPO, '--model-repository', '/more']);
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.grpc));
    assert.ok(Object.isFrozen(config.log));
    assert.ok(Object.isFrozen(config.modelRepositories));
    assert.throws(() => {
      (config.grpc as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.modelRepositories as string[]).push('/x');
    }, TypeError);
  });
});
