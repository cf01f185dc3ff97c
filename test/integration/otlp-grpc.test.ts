import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { NereidServer } from '../../src/server.js';
import { createLogging } from '../../src/telemetry/logger.js';
import { ProtoClient } from '../../scripts/lib/grpc-client.js';
import { EXAMPLE_REPOSITORY } from '../helpers/fixtures.js';
import { startOtlpGrpcSink } from '../helpers/otlp-grpc-sink.js';
import { int32Bytes, simpleRequest } from '../helpers/tensors.js';
import { waitUntil } from '../helpers/wait-until.js';

const simple = simpleRequest({ raw_input_contents: [int32Bytes(new Array(16).fill(3)), int32Bytes(new Array(16).fill(4))] });

/** The real server with its real exporter, configured from these flags and variables only; one request traced. */
async function exportOneRequest(env: NodeJS.ProcessEnv, traceConfig: string): Promise<void> {
  const argv = ['--model-repository', EXAMPLE_REPOSITORY, '--grpc-address', '127.0.0.1', '--grpc-port', '0', '--allow-http', 'false', '--allow-metrics', 'false', '--exit-timeout-secs', '5', '--trace-config', traceConfig];
  const command = loadConfig(argv, env);
  assert.equal(command.kind, 'run');
  const { logger, settings } = createLogging({ level: 'silent', format: 'json' });
  const server = await NereidServer.start(command.config, { logger, logControl: settings });
  const client = new ProtoClient(`127.0.0.1:${server.port}`);
  try {
    await client.call('ModelInfer', simple);
  } finally {
    client.close();
    await server.stop(); // flushes the batch span processor
  }
}

describe('OTLP over gRPC', () => {
  it('OTEL_EXPORTER_OTLP_PROTOCOL=grpc sends to the collector\'s TraceService at OTEL_EXPORTER_OTLP_ENDPOINT, with headers as metadata and the resource (gzip-compressed)', async () => {
    const sink = await startOtlpGrpcSink();
    try {
      await exportOneRequest(
        {
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
          OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s3cret%3D',
          OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
          OTEL_SERVICE_NAME: 'nereid-grpc',
        },
        'level=TIMESTAMPS,rate=1',
      );
      await waitUntil(() => sink.exports.length > 0, 'an export reached the receiver');
      const names = sink.exports.flatMap((e) => e.spanNames);
      for (const name of ['inference.GRPCInferenceService/ModelInfer', 'queue', 'compute']) assert.ok(names.includes(name), `span ${name} exported`);
      const [first] = sink.exports;
      assert.deepEqual(first!.metadata.get('x-api-key'), ['s3cret=']);
      assert.equal(first!.resource['service.name'], 'nereid-grpc');
    } finally {
      await sink.close();
    }
  });

  it('--trace-config protocol=grpc,url=... does the same without variables', async () => {
    const sink = await startOtlpGrpcSink();
    try {
      await exportOneRequest({}, `level=TIMESTAMPS,rate=1,protocol=grpc,url=${sink.url}`);
      await waitUntil(() => sink.exports.length > 0, 'an export reached the receiver');
      assert.ok(sink.exports.flatMap((e) => e.spanNames).includes('inference.GRPCInferenceService/ModelInfer'));
    } finally {
      await sink.close();
    }
  });
});
