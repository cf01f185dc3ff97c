import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogging } from '../../src/telemetry/logger.js';
import { EXAMPLE_REPOSITORY, scratchDirectory } from '../helpers/fixtures.js';
import { logSink } from '../helpers/log-sink.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { int32Bytes, readInt32 } from '../helpers/tensors.js';

interface IndexRow {
  readonly name: string;
  readonly state: string;
  readonly reason: string;
}

/** `simple` with a field Nereid does not act on (warned) and one whose absence changes results (refused). */
function repository(): string {
  const dir = scratchDirectory('config-fields');
  const config = readFileSync(path.join(EXAMPLE_REPOSITORY, 'simple', 'config.pbtxt'), 'utf8');
  const model = (name: string, extra: string) => {
    cpSync(path.join(EXAMPLE_REPOSITORY, 'simple'), path.join(dir, name), { recursive: true });
    writeFileSync(path.join(dir, name, 'config.pbtxt'), `${config.replace('"simple"', `"${name}"`)}\n${extra}\n`);
  };
  model('rate_limited', 'instance_group [ { count: 1, kind: KIND_CPU, rate_limiter { priority: 2 } } ]\nmetric_tags { key: "team" value: "ocr" }');
  model('custom_ops', 'model_operations { op_library_filename: [ "libcustom.so" ] }');
  return dir;
}

describe('config fields Nereid does not act on are never ignored silently (issue 15)', () => {
  let t: TestServer;
  const sink = logSink();
  before(async () => {
    t = await startTestServer([repository()], {
      flags: ['--strict-readiness', 'false'],
      logging: createLogging({ level: 'info', format: 'json', destination: sink.stream }),
    });
  });
  after(async () => {
    await t.stop();
  });

  const row = async (name: string) => (await t.client.call<{ models: IndexRow[] }>('RepositoryIndex', {})).models.find((r) => r.name === name);

  it('loads a model with a field that does not change results, warning once per field by name', async () => {
    assert.equal((await row('rate_limited'))?.state, 'READY');
    const warnings = sink.lines.filter((l) => l['level'] === 'warn' || l['level'] === 40).map((l) => String(l['msg']));
    assert.ok(warnings.includes("model 'rate_limited': config field instance_group.rate_limiter is not acted on: Nereid has no rate limiter; an idle instance takes the next batch"), warnings.join('\n'));
    assert.equal(warnings.filter((w) => w.includes('config field metric_tags')).length, 1);
    const response = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: 'rate_limited',
      inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16] })),
      raw_input_contents: [int32Bytes(new Array(16).fill(2)), int32Bytes(new Array(16).fill(3))],
    });
    assert.deepEqual(readInt32(response.raw_output_contents[0]!), new Array(16).fill(5));
  });

  it('makes a model UNAVAILABLE when a field it needs is not supported, with the reason', async () => {
    const entry = await row('custom_ops');
    assert.equal(entry?.state, 'UNAVAILABLE');
    assert.equal(
      entry?.reason,
      "model 'custom_ops': model_operations is not supported: onnxruntime-node cannot load custom operator libraries, so the model's custom operators would be missing",
    );
    assert.deepEqual(await t.client.call('ModelReady', { name: 'custom_ops' }), { ready: false });
    assert.deepEqual(await t.client.call('ServerLive', {}), { live: true });
  });
});
