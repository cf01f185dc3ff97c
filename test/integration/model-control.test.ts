import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { EXAMPLE_REPOSITORY, scratchDirectory, testRepository } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { float32Bytes, int32Bytes, int64Bytes, readInt32 } from '../helpers/tensors.js';
import { waitUntil } from '../helpers/wait-until.js';

interface IndexRow {
  name: string;
  version: string;
  state: string;
  reason: string;
}

const SIMPLE_ONNX = readFileSync(path.join(EXAMPLE_REPOSITORY, 'simple', '1', 'model.onnx'));
const A = Array.from({ length: 16 }, (_, i) => i);
const B = A.map(() => 1);

function simpleRequest(model = 'simple') {
  return {
    model_name: model,
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16] },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16] },
    ],
    raw_input_contents: [int32Bytes(A), int32Bytes(B)],
  };
}

/** A repository of its own (the tests change it): simple, simple_string and slow. */
async function ownRepository(): Promise<string> {
  const dir = scratchDirectory('model-control');
  for (const name of ['simple', 'simple_string']) cpSync(path.join(EXAMPLE_REPOSITORY, name), path.join(dir, name), { recursive: true });
  cpSync(path.join(await testRepository(), 'slow'), path.join(dir, 'slow'), { recursive: true });
  return dir;
}

/** Polls an asynchronous condition (a server answer) until it holds. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function index(t: TestServer, ready = false): Promise<IndexRow[]> {
  return (await t.client.call<{ models: IndexRow[] }>('RepositoryIndex', { ready })).models;
}

async function healthy(t: TestServer): Promise<void> {
  assert.deepEqual(await t.client.call('ServerLive', {}), { live: true });
  const answer = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', simpleRequest());
  assert.deepEqual(readInt32(answer.raw_output_contents[0]!), A.map((a, i) => a + B[i]!));
}

describe('model control: explicit mode', () => {
  let t: TestServer;
  let repository: string;
  before(async () => {
    repository = await ownRepository();
    t = await startTestServer([repository], { flags: ['--model-control-mode', 'explicit', '--load-model', 'simple', '--model-override-max-bytes', '100000'] });
  });
  after(async () => {
    await t.stop();
  });

  it('loads only --load-model at start-up; the index lists every model, loaded or not', async () => {
    assert.deepEqual(await index(t), [
      { name: 'simple', version: '1', state: 'READY', reason: '' },
      { name: 'simple_string', version: '', state: '', reason: '' },
      { name: 'slow', version: '', state: '', reason: '' },
    ]);
    assert.deepEqual(await index(t, true), [{ name: 'simple', version: '1', state: 'READY', reason: '' }]);
    assert.deepEqual(await t.client.call('ServerReady', {}), { ready: true });
    await assertGrpcError(t.client.call('ModelInfer', simpleRequest('simple_string')), status.NOT_FOUND, "Request for unknown model: 'simple_string' is not found");
  });

  it('loads and unloads on request; statistics and health follow', async () => {
    await t.client.call('RepositoryModelLoad', { model_name: 'simple_string' });
    assert.deepEqual(await t.client.call('ModelReady', { name: 'simple_string' }), { ready: true });
    assert.deepEqual(await t.client.healthCheck('simple_string'), { status: 'SERVING' });
    await t.client.call('RepositoryModelUnload', { model_name: 'simple_string', parameters: { unload_dependents: { bool_param: true } } });
    assert.deepEqual(await t.client.call('ModelReady', { name: 'simple_string' }), { ready: false });
    assert.deepEqual(await t.client.healthCheck('simple_string'), { status: 'NOT_SERVING' });
    assert.deepEqual((await index(t)).find((r) => r.name === 'simple_string'), { name: 'simple_string', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' });
    await assertGrpcError(t.client.call('ModelStatistics', { name: 'simple_string' }), status.INVALID_ARGUMENT, "requested model 'simple_string' is not available");
    await assertGrpcError(t.client.call('ModelInfer', simpleRequest('simple_string')), status.NOT_FOUND, "Request for unknown model: 'simple_string' has no available versions");
    // An unloaded model does not make the server unready (Triton's strict readiness).
    assert.deepEqual(await t.client.call('ServerReady', {}), { ready: true });
    // Unloading an unknown model is not an error, as in Triton.
    await t.client.call('RepositoryModelUnload', { model_name: 'never_there' });
  });

  it('a config override replaces config.pbtxt; the rest is auto-completed', async () => {
    await t.client.call('RepositoryModelLoad', { model_name: 'simple', parameters: { config: { string_param: '{"max_batch_size":"16"}' } } });
    const { config } = await t.client.call<{ config: { max_batch_size: number; input: { name: string }[] } }>('ModelConfig', { name: 'simple' });
    assert.equal(config.max_batch_size, 16);
    assert.deepEqual(config.input.map((i) => i.name), ['INPUT0', 'INPUT1']);
    await healthy(t);
    // A load without the override goes back to config.pbtxt.
    await t.client.call('RepositoryModelLoad', { model_name: 'simple' });
    assert.equal((await t.client.call<{ config: { max_batch_size: number } }>('ModelConfig', { name: 'simple' })).config.max_batch_size, 8);
  });

  it('file: overrides load from a private copy and never write into the repository', async () => {
    const before = readdirSync(repository, { recursive: true }).sort();
    await t.client.call('RepositoryModelLoad', {
      model_name: 'simple_copy',
      parameters: {
        config: { string_param: JSON.stringify({ max_batch_size: 8 }) },
        'file:1/model.onnx': { bytes_param: SIMPLE_ONNX },
      },
    });
    const answer = await t.client.call<{ raw_output_contents: Buffer[]; model_name: string }>('ModelInfer', simpleRequest('simple_copy'));
    assert.equal(answer.model_name, 'simple_copy');
    assert.deepEqual(readInt32(answer.raw_output_contents[1]!), A.map((a, i) => a - B[i]!));
    assert.deepEqual(readdirSync(repository, { recursive: true }).sort(), before);
    assert.ok((await index(t)).some((r) => r.name === 'simple_copy' && r.state === 'READY'));
    await t.client.call('RepositoryModelUnload', { model_name: 'simple_copy' });
  });

  it('refuses each bad override with Triton\'s error, and stays healthy', async () => {
    const load = (model_name: string, parameters: Record<string, unknown>) => () => t.client.call('RepositoryModelLoad', { model_name, parameters });
    const poll = (model: string, why: string | RegExp) =>
      typeof why === 'string' ? `failed to load '${model}', failed to poll from model repository: ${why}` : new RegExp(`^failed to load '${model}', failed to poll from model repository: ${why.source}`);
    const file = (name: string, bytes: Buffer = SIMPLE_ONNX) => ({ config: { string_param: '{}' }, [name]: { bytes_param: bytes } });
    const cases: [() => Promise<unknown>, status, string | RegExp][] = [
      [load('simple', { config: { string_param: '"parameters": {"config": {{"max_batch_size": "16"}}}' } }), status.INTERNAL, poll('simple', /Invalid config override: cannot decode message inference.ModelConfig from JSON/)],
      [load('simple', { config: { string_param: '{"max_batch_size":"sixteen"}' } }), status.INTERNAL, poll('simple', /Invalid config override: .*max_batch_size/)],
      [load('simple', { config: { string_param: '{"no_such_field":1}' } }), status.INTERNAL, poll('simple', /Invalid config override: .*"no_such_field" is unknown/)],
      [load('simple', { config: { string_param: '{"name":"other"}' } }), status.INTERNAL, poll('simple', "model 'simple': config.pbtxt names it 'other'; the name must match the model directory")],
      [load('simple', { config: { bytes_param: Buffer.from('{}') } }), status.INVALID_ARGUMENT, "invalid value type for load parameter 'config', expected string_param."],
      [load('simple', { 'file:1/model.onnx': { string_param: 'x' } }), status.INVALID_ARGUMENT, "invalid value type for load parameter 'file:1/model.onnx', expected bytes_param."],
      [load('simple', { configs: { string_param: '{}' } }), status.INVALID_ARGUMENT, "unrecognized load parameter 'configs'."],
      [load('simple', { 'file:1/model.onnx': { bytes_param: SIMPLE_ONNX } }), status.INTERNAL, poll('simple', "Load parameter 'config' must be specified for model file override")],
      [load('simple', file('file:../../escape/model.onnx')), status.INTERNAL, poll('simple', /Invalid file parameter 'file:..\/..\/escape\/model.onnx': the path must stay within model directory/)],
      [load('simple', file('file:/etc/passwd')), status.INTERNAL, poll('simple', /Invalid file parameter 'file:\/etc\/passwd': the path must stay within model directory/)],
      [load('simple', file('file:1/./model.onnx')), status.INTERNAL, poll('simple', /Invalid file parameter 'file:1\/.\/model.onnx': the path must stay within model directory/)],
      [load('simple', file(`file:${'A'.repeat(256)}`, Buffer.from('a'))), status.INTERNAL, poll('simple', /Invalid file path in 'file:A+…' \(261 characters\): the name 'A+…' \(256 characters\) is longer than 255 bytes$/)],
      [load('simple', file('file:1/model.onnx', Buffer.alloc(100_001))), status.INTERNAL, poll('simple', "the file: overrides of model 'simple' hold 100001 bytes, more than --model-override-max-bytes allows (100000)")],
      [load('simple', { ...file('file:1'), 'file:1/model.onnx': { bytes_param: SIMPLE_ONNX } }), status.INTERNAL, poll('simple', "Invalid file parameter 'file:1/model.onnx', directory '1' has been created as a file")],
      [load('wrong_model_name', {}), status.INTERNAL, poll('wrong_model_name', 'model not found in any model repository')],
      [load('../simple', {}), status.INVALID_ARGUMENT, "invalid model name '../simple', model name must not contain path traversal characters"],
      [load('', {}), status.INVALID_ARGUMENT, 'model name must not be empty'],
      [() => t.client.call('RepositoryModelLoad', { model_name: 'simple', repository_name: 'models' }), status.UNIMPLEMENTED, "'repository_name' specification is not supported"],
      [() => t.client.call('RepositoryIndex', { repository_name: 'models' }), status.UNIMPLEMENTED, "'repository_name' specification is not supported"],
      [() => t.client.call('RepositoryModelUnload', { model_name: 'simple', parameters: { unload_dependents: { string_param: 'yes' } } }), status.INVALID_ARGUMENT, "invalid value type for 'unload_dependents' parameter, expected bool_param."],
    ];
    for (const [call, code, message] of cases) await assertGrpcError(call(), code, message);
    await healthy(t);
    assert.deepEqual((await index(t)).find((r) => r.name === 'simple'), { name: 'simple', version: '1', state: 'READY', reason: 'reload failed: model \'simple\': config.pbtxt names it \'other\'; the name must match the model directory' });
  });

  it('a failed reload keeps the old version serving and reports why in the index', async () => {
    const tensor = (name: string) => ({ name, data_type: 'TYPE_INT32', dims: [16] });
    const full = JSON.stringify({ max_batch_size: 8, input: [tensor('INPUT0'), tensor('INPUT1')], output: [tensor('OUTPUT0'), tensor('OUTPUT1')] });
    await assertGrpcError(
      t.client.call('RepositoryModelLoad', { model_name: 'simple', parameters: { config: { string_param: full }, 'file:1/model.onnx': { bytes_param: Buffer.from('not onnx') } } }),
      status.INVALID_ARGUMENT,
      /^load failed for model 'simple': model 'simple': '.*\/1\/model.onnx' is not a valid ONNX model/,
    );
    const row = (await index(t)).find((r) => r.name === 'simple')!;
    assert.equal(row.state, 'READY');
    assert.match(row.reason, /^reload failed: model 'simple': /);
    await healthy(t);
    // A good load clears the reason.
    await t.client.call('RepositoryModelLoad', { model_name: 'simple', parameters: { config: { string_param: '{"max_batch_size": 8}' } } });
    assert.deepEqual((await index(t)).find((r) => r.name === 'simple'), { name: 'simple', version: '1', state: 'READY', reason: '' });
  });

  it('reloads and loads new versions under concurrent load without failing a request', async () => {
    let stop = false;
    let served = 0;
    const failures: string[] = [];
    const loop = async () => {
      while (!stop) {
        try {
          const answer = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', simpleRequest());
          assert.deepEqual(readInt32(answer.raw_output_contents[0]!), A.map((a, i) => a + B[i]!));
          served += 1;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    for (let i = 0; i < 3; i++) {
      const before = served;
      await t.client.call('RepositoryModelLoad', { model_name: 'simple', parameters: { config: { string_param: JSON.stringify({ max_batch_size: 8 + i }) } } });
      await waitUntil(() => served > before + 20, 'requests are served by the reloaded version');
    }
    // A second version folder appears; with version policy `all` both serve, then back to latest.
    cpSync(path.join(repository, 'simple', '1'), path.join(repository, 'simple', '2'), { recursive: true });
    await t.client.call('RepositoryModelLoad', { model_name: 'simple', parameters: { config: { string_param: '{"max_batch_size": 8, "version_policy": {"all": {}}}' } } });
    assert.deepEqual((await index(t, true)).filter((r) => r.name === 'simple').map((r) => r.version), ['1', '2']);
    await t.client.call('RepositoryModelLoad', { model_name: 'simple' });
    assert.deepEqual((await index(t)).filter((r) => r.name === 'simple').map((r) => [r.version, r.state, r.reason]), [
      ['1', 'UNAVAILABLE', 'unloaded'],
      ['2', 'READY', ''],
    ]);
    stop = true;
    await Promise.all(loops);
    assert.deepEqual(failures, []);
    assert.ok(served > 60, `served ${served}`);
    const stats = await t.client.call<{ model_stats: { version: string; inference_count: number }[] }>('ModelStatistics', { name: 'simple' });
    assert.deepEqual(stats.model_stats.map((s) => s.version), ['2']);
  });

  it('an unloading version finishes the requests it accepted, queued ones included, before it stops', async () => {
    await t.client.call('RepositoryModelLoad', { model_name: 'slow' });
    const slow = (seed: number) => ({
      model_name: 'slow',
      inputs: [
        { name: 'INPUT0', datatype: 'FP32', shape: [1, 16] },
        { name: 'DELAY', datatype: 'INT64', shape: [1, 1] },
      ],
      raw_input_contents: [float32Bytes(Array.from({ length: 16 }, (_, i) => seed + i)), int64Bytes([4000])],
    });
    const accepted = [1, 2, 3, 4, 5].map((seed) => t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', slow(seed)));
    const registry = t.server.registry;
    await waitUntil(() => registry.readyModels().some((m) => m.info.name === 'slow' && m.servable.accepted() === 5), 'the five requests are accepted');
    const unloading = t.client.call('RepositoryModelUnload', { model_name: 'slow' });
    await waitUntil(() => registry.index().some((r) => r.name === 'slow' && r.state === 'UNLOADING'), 'slow is unloading');
    await assertGrpcError(t.client.call('ModelInfer', slow(9)), status.NOT_FOUND, "Request for unknown model: 'slow' has no available versions");
    const answers = await Promise.all(accepted);
    assert.equal(answers.length, 5);
    await unloading;
    assert.deepEqual(registry.index().find((r) => r.name === 'slow'), { name: 'slow', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' });
  });
});

describe('model control: none and poll modes', () => {
  it('none refuses load and unload requests, as Triton does', async () => {
    const t = await startTestServer([EXAMPLE_REPOSITORY]);
    try {
      const message = 'explicit model load / unload is not allowed if polling is enabled';
      await assertGrpcError(t.client.call('RepositoryModelLoad', { model_name: 'simple' }), status.UNAVAILABLE, message);
      await assertGrpcError(t.client.call('RepositoryModelUnload', { model_name: 'simple' }), status.UNAVAILABLE, message);
      assert.ok((await index(t)).every((r) => r.state === 'READY'));
      await healthy(t);
    } finally {
      await t.stop();
    }
  });

  it('poll picks up a new version folder, a changed config and a removed model', async () => {
    const repository = scratchDirectory('poll');
    cpSync(path.join(EXAMPLE_REPOSITORY, 'simple'), path.join(repository, 'simple'), { recursive: true });
    const t = await startTestServer([repository], { flags: ['--model-control-mode', 'poll', '--repository-poll-secs', '1'] });
    try {
      const state = async () => (await index(t)).map((r) => `${r.name}/${r.version}:${r.state}`).join(' ');
      assert.equal(await state(), 'simple/1:READY');
      await assertGrpcError(t.client.call('RepositoryModelLoad', { model_name: 'simple' }), status.UNAVAILABLE, 'explicit model load / unload is not allowed if polling is enabled');
      cpSync(path.join(repository, 'simple', '1'), path.join(repository, 'simple', '2'), { recursive: true });
      await eventually(async () => (await state()) === 'simple/1:UNAVAILABLE simple/2:READY', 'version 2 replaces version 1');
      await healthy(t);
      cpSync(path.join(EXAMPLE_REPOSITORY, 'simple_string'), path.join(repository, 'simple_string'), { recursive: true });
      await eventually(async () => (await state()).includes('simple_string/1:READY'), 'the new model loads');
      const configFile = path.join(repository, 'simple', 'config.pbtxt');
      writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('max_batch_size: 8', 'max_batch_size: 4'));
      await eventually(async () => (await t.client.call<{ config: { max_batch_size: number } }>('ModelConfig', { name: 'simple' })).config.max_batch_size === 4, 'the changed config is served');
      rmSync(path.join(repository, 'simple_string'), { recursive: true });
      await eventually(async () => (await state()).includes('simple_string/1:UNAVAILABLE'), 'the removed model unloads');
    } finally {
      await t.stop();
    }
  });
});
