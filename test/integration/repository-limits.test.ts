import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { EXAMPLE_REPOSITORY, scratchDirectory } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { int32Bytes, readInt32 } from '../helpers/tensors.js';

interface IndexRow {
  readonly name: string;
  readonly version: string;
  readonly state: string;
  readonly reason: string;
}

const SIMPLE = path.join(EXAMPLE_REPOSITORY, 'simple');

/**
 * A repository next to a folder outside it: models linked out of the repository (the
 * model folder, a version folder), one linked within it, one whose model file links out
 * (allowed: package managers and caches link weight files), and one whose
 * instance_group asks for 1,000 instances, beside a plain copy of `simple`.
 */
function repositories(): { repository: string; outside: string } {
  const root = scratchDirectory('links');
  const repository = path.join(root, 'repository');
  const outside = path.join(root, 'outside');
  mkdirSync(repository);
  cpSync(SIMPLE, path.join(outside, 'simple_elsewhere'), { recursive: true });
  cpSync(SIMPLE, path.join(repository, 'good'), { recursive: true });
  writeFileSync(path.join(repository, 'good', 'config.pbtxt'), 'name: "good"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 8\n');
  // The model folder itself links out.
  symlinkSync(path.join(outside, 'simple_elsewhere'), path.join(repository, 'linked_out'));
  // A version folder links out.
  mkdirSync(path.join(repository, 'version_out'));
  symlinkSync(path.join(outside, 'simple_elsewhere', '1'), path.join(repository, 'version_out', '1'));
  // The model file links out: allowed.
  mkdirSync(path.join(repository, 'file_out', '1'), { recursive: true });
  symlinkSync(path.join(outside, 'simple_elsewhere', '1', 'model.onnx'), path.join(repository, 'file_out', '1', 'model.onnx'));
  // Links within the repository are fine: a version linked to another model's folder.
  mkdirSync(path.join(repository, 'linked_in'));
  symlinkSync(path.join(repository, 'good', '1'), path.join(repository, 'linked_in', '1'));
  // 1,000 instances.
  mkdirSync(path.join(repository, 'many', '1'), { recursive: true });
  copyFileSync(path.join(SIMPLE, '1', 'model.onnx'), path.join(repository, 'many', '1', 'model.onnx'));
  writeFileSync(path.join(repository, 'many', 'config.pbtxt'), 'instance_group [ { count: 1000 kind: KIND_CPU } ]\n');
  return { repository, outside };
}

describe('the repository bounds what a model may be: links out of it, instance counts (issue 16)', () => {
  let t: TestServer;
  let dirs: { repository: string; outside: string };
  before(async () => {
    dirs = repositories();
    t = await startTestServer([dirs.repository], { flags: ['--strict-readiness', 'false', '--exit-on-error', 'false'] });
  });
  after(async () => {
    await t.stop();
  });

  const row = async (name: string) => (await t.client.call<{ models: IndexRow[] }>('RepositoryIndex', {})).models.find((r) => r.name === name);
  const infer = (model: string) =>
    t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: model,
      inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16] })),
      raw_input_contents: [int32Bytes(new Array(16).fill(2)), int32Bytes(new Array(16).fill(3))],
    });

  it('refuses a model folder or version folder that links outside the repository, saying which', async () => {
    const link = (entry: string, target: string) =>
      `'${path.join(dirs.repository, entry)}' is a symbolic link to '${path.join(dirs.outside, target)}', outside the model repository ` +
      `'${dirs.repository}'; refused (copy the files into the repository, or link within it)`;
    const cases: [string, string][] = [
      ['linked_out', link('linked_out', 'simple_elsewhere')],
      ['version_out', link(path.join('version_out', '1'), path.join('simple_elsewhere', '1'))],
    ];
    for (const [model, reason] of cases) {
      const entry = await row(model);
      assert.equal(entry?.state, 'UNAVAILABLE', model);
      assert.equal(entry?.reason, `model '${model}': ${reason}`);
      assert.deepEqual(await t.client.call('ModelReady', { name: model }), { ready: false });
      await assertGrpcError(infer(model), status.NOT_FOUND, `Request for unknown model: '${model}' has no available versions`);
    }
  });

  it('serves a model whose version links within the repository, one whose model file links out, and the plain model', async () => {
    for (const model of ['good', 'linked_in', 'file_out']) {
      assert.deepEqual(readInt32((await infer(model)).raw_output_contents[0]!), new Array(16).fill(5), model);
    }
  });

  it('refuses instance_group count 1000 at load with the bound, without starting any of them', async () => {
    const entry = await row('many');
    assert.equal(entry?.state, 'UNAVAILABLE');
    assert.match(entry!.reason, /^model 'many': instance_group asks for 1000 instances, more than the \d+ one model may have here \(4 per CPU core, at least 16; --max-instances-per-model changes it\)/);
    assert.throws(() => t.server.registry.get('many', ''), /no available versions|not found/);
  });
});
