import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { EXAMPLE_REPOSITORY, SIMPLE_METADATA } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe('server, model metadata and health RPCs', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY], { flags: ['--server-name', 'nereid-test'] });
  });
  after(async () => {
    await t.stop();
  });

  it('ServerLive and ServerReady', async () => {
    assert.deepEqual(await t.client.call('ServerLive', {}), { live: true });
    assert.deepEqual(await t.client.call('ServerReady', {}), { ready: true });
  });

  it('ServerMetadata reports the name, version and implemented extensions', async () => {
    const metadata = await t.client.call<{ name: string; version: string; extensions: string[] }>('ServerMetadata', {});
    assert.equal(metadata.name, 'nereid-test');
    assert.match(metadata.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(metadata.extensions, ['sequence', 'sequence(string_id)', 'model_repository', 'model_repository(unload_dependents)', 'model_configuration', 'system_shared_memory', 'statistics', 'schedule_policy', 'trace', 'logging', 'binary_tensor_data']);
  });

  it('ModelReady: true for a loaded model, false (not an error) for unknown ones', async () => {
    assert.deepEqual(await t.client.call('ModelReady', { name: 'simple' }), { ready: true });
    assert.deepEqual(await t.client.call('ModelReady', { name: 'simple', version: '1' }), { ready: true });
    assert.deepEqual(await t.client.call('ModelReady', { name: 'simple', version: '2' }), { ready: false });
    assert.deepEqual(await t.client.call('ModelReady', { name: 'no_such_model' }), { ready: false });
  });

  it('ModelMetadata prepends -1 for the batch dimension and reports the platform', async () => {
    const metadata = await t.client.call('ModelMetadata', { name: 'simple' });
    assert.deepEqual(metadata, SIMPLE_METADATA);
    const identity = await t.client.call<{ platform: string; inputs: { datatype: string; shape: number[] }[] }>('ModelMetadata', {
      name: 'simple_identity',
      version: '1',
    });
    assert.equal(identity.platform, 'identity');
    assert.deepEqual(identity.inputs[0], { name: 'INPUT0', datatype: 'BYTES', shape: [-1, -1] });
  });

  it('ModelConfig returns the normalized config', async () => {
    const { config } = await t.client.call<{ config: Record<string, any> }>('ModelConfig', { name: 'simple' });
    assert.equal(config['name'], 'simple');
    assert.equal(config['platform'], 'onnxruntime_onnx');
    assert.equal(config['backend'], 'onnxruntime');
    assert.equal(config['max_batch_size'], 8);
    assert.equal(config['default_model_filename'], 'model.onnx');
    assert.deepEqual(config['version_policy'], { latest: { num_versions: 1 }, policy_choice: 'latest' });
    assert.deepEqual(
      config['input'].map((i: any) => [i.name, i.data_type, i.dims]),
      [
        ['INPUT0', 'TYPE_INT32', [16]],
        ['INPUT1', 'TYPE_INT32', [16]],
      ],
    );
    assert.deepEqual(
      config['instance_group'].map((g: any) => [g.name, g.kind, g.count]),
      [['simple_0', 'KIND_CPU', 2]],
    );
  });

  it('grpc.health.v1 Check: overall and per model; unknown service is NOT_FOUND', async () => {
    assert.deepEqual(await t.client.healthCheck(''), { status: 'SERVING' });
    assert.deepEqual(await t.client.healthCheck('simple_string'), { status: 'SERVING' });
    await assertGrpcError(t.client.healthCheck('nope'), status.NOT_FOUND, "unknown service 'nope'");
  });

  it('grpc.health.v1 Watch streams the current status', async () => {
    const call = (t.client.health as any).Watch({ service: 'simple' });
    const first = await new Promise((resolve, reject) => {
      call.once('data', resolve);
      call.once('error', reject);
    });
    assert.deepEqual(first, { status: 'SERVING' });
    call.cancel();
  });

  it('ModelStreamInfer is served: a request gets its response with its id, and half-closing ends the stream with OK', async () => {
    const stream = (t.client.inference as any).ModelStreamInfer();
    const ones = Buffer.from(Int32Array.from({ length: 16 }, () => 1).buffer);
    const responses: any[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (response: unknown) => responses.push(response));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    stream.write({
      model_name: 'simple',
      id: 'one',
      inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16] })),
      raw_input_contents: [ones, ones],
    });
    stream.end();
    await ended;
    assert.equal(responses.length, 1);
    assert.equal(responses[0].error_message, '');
    assert.equal(responses[0].infer_response.id, 'one');
    assert.deepEqual(responses[0].infer_response.parameters.triton_final_response, { bool_param: true, parameter_choice: 'bool_param' });
  });

  it('serves gRPC reflection for the inference and health services', async () => {
    const grpc = await import('@grpc/grpc-js');
    const { loadSync } = await import('@grpc/proto-loader');
    const { fileURLToPath } = await import('node:url');
    // The reflection proto ships with @grpc/reflection.
    const protoPath = fileURLToPath(import.meta.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'));
    const pkg = grpc.loadPackageDefinition(loadSync(protoPath, { keepCase: true })) as any;
    const client = new pkg.grpc.reflection.v1.ServerReflection(t.client.target, grpc.credentials.createInsecure());
    const stream = client.ServerReflectionInfo();
    const answer: any = await new Promise((resolve, reject) => {
      stream.once('data', resolve);
      stream.once('error', reject);
      stream.write({ list_services: '' });
    });
    stream.end();
    client.close();
    const names = answer.list_services_response.service.map((s: { name: string }) => s.name);
    assert.ok(names.includes('inference.GRPCInferenceService'), names.join(','));
    assert.ok(names.includes('grpc.health.v1.Health'), names.join(','));
  });
});
