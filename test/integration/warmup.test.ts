import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogging } from '../../src/telemetry/logger.js';
import { EXAMPLE_REPOSITORY, precisionRepository, scratchDirectory, testRepository } from '../helpers/fixtures.js';
import { logSink } from '../helpers/log-sink.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { int32Bytes, int64Bytes, readInt32 } from '../helpers/tensors.js';

interface IndexRow {
  readonly name: string;
  readonly state: string;
  readonly reason: string;
}

const SIMPLE_WARMUP = `
instance_group [ { count: 2, kind: KIND_CPU } ]
model_warmup [ {
  name: "zeros and noise"
  batch_size: 8
  inputs { key: "INPUT0" value: { data_type: TYPE_INT32, dims: [ 16 ], zero_data: true } }
  inputs { key: "INPUT1" value: { data_type: TYPE_INT32, dims: [ 16 ], random_data: true } }
  count: 3
} ]`;

/** `fail` (OUT = Reshape(DATA, SHAPE)) warmed up with SHAPE read from warmup/<file>. */
const failWarmup = (file: string) => `
model_warmup [ {
  name: "shape from file"
  batch_size: 1
  inputs { key: "DATA" value: { data_type: TYPE_FP32, dims: [ 4 ], random_data: true } }
  inputs { key: "SHAPE" value: { data_type: TYPE_INT64, dims: [ 2 ], input_data_file: "${file}" } }
} ]`;

/** `slow` warmed up with a DELAY of about 0.4 s per execution, twice, on one instance. */
const SLOW_WARMUP = `
instance_group [ { count: 1, kind: KIND_CPU } ]
model_warmup [ {
  name: "slow"
  batch_size: 1
  inputs { key: "INPUT0" value: { data_type: TYPE_FP32, dims: [ 16 ], zero_data: true } }
  inputs { key: "DELAY" value: { data_type: TYPE_INT64, dims: [ 1 ], input_data_file: "delay" } }
  count: 2
} ]`;

async function repository(): Promise<string> {
  const dir = scratchDirectory('warmup');
  const fixtures = await testRepository();
  const model = (name: string, from: string, extra: string, files: Record<string, Buffer> = {}) => {
    cpSync(from, path.join(dir, name), { recursive: true });
    const config = readFileSync(path.join(from, 'config.pbtxt'), 'utf8').replace(/name: "[^"]*"/, `name: "${name}"`);
    writeFileSync(path.join(dir, name, 'config.pbtxt'), `${config}\n${extra}\n`);
    if (Object.keys(files).length > 0) mkdirSync(path.join(dir, name, 'warmup'));
    for (const [file, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name, 'warmup', file), bytes);
  };
  model('simple_warm', path.join(EXAMPLE_REPOSITORY, 'simple'), SIMPLE_WARMUP);
  model('fail_good_file', path.join(fixtures, 'fail'), failWarmup('good'), { good: int64Bytes([2, 2]) });
  model('fail_bad_shape', path.join(fixtures, 'fail'), failWarmup('bad'), { bad: int64Bytes([3, 5]) });
  model('fail_short_file', path.join(fixtures, 'fail'), failWarmup('short'), { short: int64Bytes([2]) });
  model('fail_no_file', path.join(fixtures, 'fail'), failWarmup('missing'));
  model('slow_warm', path.join(fixtures, 'slow'), SLOW_WARMUP, { delay: int64Bytes([15000]) });
  return dir;
}

describe("model_warmup with Triton's semantics (issue 15)", () => {
  let t: TestServer;
  const sink = logSink();
  before(async () => {
    const models = ['simple_warm', 'fail_good_file', 'fail_bad_shape', 'fail_short_file', 'fail_no_file'];
    t = await startTestServer([await repository()], {
      flags: ['--model-control-mode', 'explicit', ...models.flatMap((m) => ['--load-model', m]), '--strict-readiness', 'false'],
      logging: createLogging({ level: 'debug', format: 'json', destination: sink.stream }),
    });
  });
  after(async () => {
    await t.stop();
  });

  const row = async (name: string) => (await t.client.call<{ models: IndexRow[] }>('RepositoryIndex', {})).models.find((r) => r.name === name);
  const warmupLines = (model: string) => sink.lines.filter((l) => l['msg'] === 'warmup sample ran' && l['model'] === model);

  it('runs every sample count times on every instance before the model is READY, and the model then serves', async () => {
    assert.equal((await row('simple_warm'))?.state, 'READY');
    const lines = warmupLines('simple_warm');
    assert.deepEqual(lines.map((l) => l['instance']).sort(), ['simple_warm_0_0', 'simple_warm_0_1']);
    for (const line of lines) {
      assert.equal(line['executions'], 3);
      assert.equal(line['variant'], 'fp32');
    }
    const ready = sink.lines.findIndex((l) => l['msg'] === 'model version is ready' && l['model'] === 'simple_warm');
    assert.ok(ready > sink.lines.indexOf(lines[lines.length - 1]!), 'the version was ready before its warm-up ran');
    // Warm-up executions are not requests: statistics start at zero.
    const stats = await t.client.call<{ model_stats: { execution_count: number | string }[] }>('ModelStatistics', { name: 'simple_warm' });
    assert.equal(Number(stats.model_stats[0]!.execution_count), 0);
    const response = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: 'simple_warm',
      inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16] })),
      raw_input_contents: [int32Bytes(new Array(16).fill(2)), int32Bytes(new Array(16).fill(3))],
    });
    assert.deepEqual(readInt32(response.raw_output_contents[0]!), new Array(16).fill(5));
  });

  it("reads input_data_file from the model's warmup/ folder", async () => {
    assert.equal((await row('fail_good_file'))?.state, 'READY');
    assert.equal(warmupLines('fail_good_file').length, 2);
  });

  it("makes the model UNAVAILABLE when warm-up fails, with Triton's reason, and the server stays healthy", async () => {
    const failed = await row('fail_bad_shape');
    assert.equal(failed?.state, 'UNAVAILABLE');
    assert.match(failed!.reason, /^model 'fail_bad_shape' version 1: failed to run warmup sample 'shape from file': .*(reshape|Reshape|shape)/);
    assert.deepEqual(await t.client.call('ModelReady', { name: 'fail_bad_shape' }), { ready: false });
    const short = await row('fail_short_file');
    assert.equal(short?.state, 'UNAVAILABLE');
    assert.equal(short?.reason, "model 'fail_short_file': warmup setting expects 16 bytes, but the data provided from short only has 8 bytes");
    const missing = await row('fail_no_file');
    assert.equal(missing?.state, 'UNAVAILABLE');
    assert.match(missing!.reason, /^model 'fail_no_file': unable to read warmup input_data_file 'missing': ENOENT/);
    assert.deepEqual(await t.client.call('ServerLive', {}), { live: true });
    assert.equal((await row('simple_warm'))?.state, 'READY');
  });

  it('is not READY while warm-up runs', async () => {
    const load = t.client.call('RepositoryModelLoad', { model_name: 'slow_warm' });
    let loaded = false;
    void load.then(() => (loaded = true), () => (loaded = true));
    const answers: boolean[] = [];
    while (!loaded) {
      const { ready } = await t.client.call<{ ready: boolean }>('ModelReady', { name: 'slow_warm' });
      // An answer counts only if the load was still running once it came back.
      if (!loaded) answers.push(ready);
    }
    await load;
    assert.ok(answers.length > 0, 'no readiness answer while loading');
    assert.deepEqual([...new Set(answers)], [false]);
    assert.equal(warmupLines('slow_warm').length, 1);
    assert.deepEqual(await t.client.call('ModelReady', { name: 'slow_warm' }), { ready: true });
  });
});

describe('model_warmup runs on every precision variant (issue 15)', () => {
  let t: TestServer;
  const sink = logSink();
  before(async () => {
    const dir = scratchDirectory('warmup-variants');
    const mlp = path.join(await precisionRepository(), 'mlp');
    cpSync(mlp, path.join(dir, 'mlp'), { recursive: true });
    const config = readFileSync(path.join(mlp, 'config.pbtxt'), 'utf8');
    const warmup = 'model_warmup [ { name: "noise" batch_size: 2 inputs { key: "x" value: { data_type: TYPE_FP32, dims: [ 768 ], random_data: true } } } ]';
    writeFileSync(path.join(dir, 'mlp', 'config.pbtxt'), `${config}\ninstance_group [ { count: 1, kind: KIND_CPU } ]\n${warmup}\n`);
    t = await startTestServer([dir], { logging: createLogging({ level: 'debug', format: 'json', destination: sink.stream }) });
  });
  after(async () => {
    await t.stop();
  });

  it('warms fp32, fp16, the fp16-io variant (with FP16 inputs) and int8 on the instance before READY', async () => {
    const ready = await t.client.call<{ ready: boolean }>('ModelReady', { name: 'mlp' });
    assert.equal(ready.ready, true);
    const lines = sink.lines.filter((l) => l['msg'] === 'warmup sample ran' && l['model'] === 'mlp');
    assert.deepEqual(lines.map((l) => l['variant']).sort(), ['fp16', 'fp16-io', 'fp32', 'int8']);
  });
});
