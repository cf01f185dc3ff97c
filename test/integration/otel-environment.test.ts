import assert from 'node:assert/strict';
import { Metadata } from '@grpc/grpc-js';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { NereidServer } from '../../src/server.js';
import { createLogging } from '../../src/telemetry/logger.js';
import { ProtoClient } from '../../scripts/lib/grpc-client.js';
import { EXAMPLE_REPOSITORY } from '../helpers/fixtures.js';
import { startOtlpSink } from '../helpers/otlp-sink.js';
import { int32Bytes, simpleRequest } from '../helpers/tensors.js';

const simple = simpleRequest({ raw_input_contents: [int32Bytes(new Array(16).fill(3)), int32Bytes(new Array(16).fill(4))] });

/** Trace ids either side of a 0.5 ratio for TraceIdRatioBased (it folds the id into 32 bits). */
const INSIDE = '00000000000000000000000000000001';
const OUTSIDE = 'ffffffff000000000000000000000000';

/** The real server with its real OTLP exporter, configured from flags and these OTEL_* variables only. */
async function serverWith(env: NodeJS.ProcessEnv, traceConfig = 'level=TIMESTAMPS') {
  const argv = ['--model-repository', EXAMPLE_REPOSITORY, '--grpc-address', '127.0.0.1', '--grpc-port', '0', '--allow-http', 'false', '--allow-metrics', 'false', '--exit-timeout-secs', '5', '--trace-config', traceConfig];
  const command = loadConfig(argv, env);
  assert.equal(command.kind, 'run');
  const { logger, settings } = createLogging({ level: 'silent', format: 'json' });
  const server = await NereidServer.start(command.config, { logger, logControl: settings });
  const client = new ProtoClient(`127.0.0.1:${server.port}`);
  return {
    server,
    client,
    async stop() {
      client.close();
      await server.stop();
    },
  };
}

function traceparent(traceId: string, sampled: boolean): { metadata: Metadata } {
  const metadata = new Metadata();
  metadata.set('traceparent', `00-${traceId}-b7ad6b7169242424-${sampled ? '01' : '00'}`);
  return { metadata };
}

describe('OTLP export configured by the standard OTEL_* variables', () => {
  it('sends to OTEL_EXPORTER_OTLP_ENDPOINT with its protocol, headers and compression, on the OTEL_BSP_* schedule, with the OTEL_* resource', async () => {
    const sink = await startOtlpSink();
    const t = await serverWith({
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s3cret%3D',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
      OTEL_BSP_SCHEDULE_DELAY: '10',
      OTEL_BSP_EXPORT_TIMEOUT: '5000',
      OTEL_SERVICE_NAME: 'nereid-ci',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=ci',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
    });
    try {
      await t.client.call('ModelInfer', simple);
      // A 10 ms schedule delivers while the server runs; the 5 s default would wait for shutdown.
      await sink.received(1);
      const post = sink.posts[0]!;
      assert.equal(post.path, '/v1/traces');
      assert.equal(post.headers['content-type'], 'application/json');
      assert.equal(post.headers['content-encoding'], 'gzip');
      assert.equal(post.headers['x-api-key'], 's3cret=');
      const [span] = sink.jsonSpans();
      assert.equal(span?.resource['service.name'], 'nereid-ci');
      assert.equal(span?.resource['deployment.environment'], 'ci');
      // With OTEL_TRACES_SAMPLER set and no rate given, the sampler alone decides: the first request was traced.
      assert.ok(sink.jsonSpans().some((s) => s.name === 'inference.GRPCInferenceService/ModelInfer'));
    } finally {
      await t.stop();
      await sink.close();
    }
  });

  it('OTEL_TRACES_SAMPLER=traceidratio with OTEL_TRACES_SAMPLER_ARG samples by trace id, whatever the caller sampled', async () => {
    const sink = await startOtlpSink();
    const t = await serverWith({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${sink.url}/v1/traces`, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' });
    try {
      await t.client.call('ModelInfer', simple, traceparent(INSIDE, false));
      await t.client.call('ModelInfer', simple, traceparent(OUTSIDE, true));
    } finally {
      await t.stop(); // flushes the batch span processor
      await sink.close();
    }
    const traces = new Set(sink.jsonSpans().filter((s) => s.name.endsWith('/ModelInfer')).map((s) => s.traceId));
    assert.deepEqual([...traces], [INSIDE]);
  });

  it('with OTEL_SDK_DISABLED=true serves requests and exports nothing', async () => {
    const sink = await startOtlpSink();
    const t = await serverWith({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SDK_DISABLED: 'true' }, 'level=TIMESTAMPS,rate=1');
    try {
      await t.client.call('ModelInfer', simple, traceparent(INSIDE, true));
    } finally {
      await t.stop();
      await sink.close();
    }
    assert.equal(sink.posts.length, 0);
  });
});
