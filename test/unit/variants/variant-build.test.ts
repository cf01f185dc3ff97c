import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { writeNpy } from '../../../src/variants/npy-file.js';
import { buildVariants } from '../../../src/variants/variant-build.js';
import type { VariantBuildJob } from '../../../src/core/precision.js';
import { DataType, attr, encodeModel, graph, model, node, tensor, valueInfo } from '../../../src/onnx/graph-builder.js';
import { uniform } from '../../../scripts/lib/mlp-model.js';

/** x [N,16] -> Gemm 16x4 -> Softmax -> probs [N,4]: a tiny classifier. */
function classifier(): Uint8Array {
  const g = graph({
    name: 'tiny',
    nodes: [node('Gemm', ['x', 'w', 'b'], ['logits'], { transB: attr.int(1) }), node('Softmax', ['logits'], ['probs'], { axis: attr.int(-1) })],
    inputs: [valueInfo('x', DataType.FLOAT, ['N', 16])],
    outputs: [valueInfo('probs', DataType.FLOAT, ['N', 4])],
    initializers: [tensor('w', uniform(64, 3, -1, 1), [4, 16]), tensor('b', uniform(4, 4, -0.1, 0.1), [4])],
  });
  return encodeModel(model(g, { opsets: [{ domain: '', version: 17 }] }));
}

describe('buildVariants', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'nereid-variants-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const modelPath = path.join(root, '1', 'model.onnx');
  mkdirSync(path.dirname(modelPath), { recursive: true });
  writeFileSync(modelPath, classifier());
  const job = (overrides: Partial<VariantBuildJob> = {}): VariantBuildJob => ({
    model: 'tiny',
    version: 1,
    modelPath,
    cacheDir: path.join(root, '1', '.nereid-variants'),
    precisions: ['fp16', 'int8'],
    fp16Io: true,
    int8Mode: 'dynamic',
    int8Activations: 'uint8',
    int8ExcludeNodes: [],
    calibrationMethod: 'minmax',
    calibration: { kind: 'generated', batches: 2, seed: 1 },
    validation: { kind: 'generated', batches: 3, seed: 2 },
    generated: { inputs: [{ name: 'x', dims: [8, 16] }], range: [-1, 1] },
    maxRelativeError: 0.05,
    minTop1Agreement: 0.9,
    classifierOutputs: undefined,
    threads: 1,
    ...overrides,
  });
  const logs: string[] = [];
  const log = (_level: string, message: string) => void logs.push(message);

  it('builds, measures (top-1 for a Softmax output) and serves the variants that meet the tolerance', async () => {
    const result = await buildVariants(job(), log);
    assert.equal(result.cached, false);
    assert.deepEqual(Object.keys(result.files).sort(), ['fp16', 'fp16-io', 'int8']);
    for (const report of result.reports) {
      assert.equal(report.served, true, report.reason);
      assert.equal(report.accuracy?.batches, 3);
      assert.ok(report.accuracy!.relativeL2Error > 0 && report.accuracy!.relativeL2Error < 0.05);
      assert.ok(report.accuracy!.top1Agreement! >= 0.9, 'the Softmax output is measured as a classifier');
      assert.ok(report.speedup! > 0);
    }
    assert.ok(logs.some((l) => l.startsWith('built int8 in ')));
  });

  it('reuses the cache, and applies a changed tolerance to the cached figures without rebuilding', async () => {
    const again = await buildVariants(job(), log);
    assert.equal(again.cached, true);
    const strict = await buildVariants(job({ maxRelativeError: 1e-9 }), log);
    assert.equal(strict.cached, true);
    assert.deepEqual(strict.files, {});
    assert.match(strict.reports[1]!.reason, /^the int8 variant failed its accuracy check against fp32 on 3 validation batches: relative L2 error [\d.e-]+ exceeds max_relative_error 1e-9 \(max abs error [\d.e-]+\)$/);
    const other = await buildVariants(job({ int8Mode: 'static' }), log);
    assert.equal(other.cached, false, 'a setting that changes the files gives another cache entry');
    assert.notEqual(other.cacheEntry, again.cacheEntry);
  });

  it('reads samples from a folder, and fails with the reason when the folder is unusable', async () => {
    const samples = path.join(root, 'samples');
    mkdirSync(samples);
    for (let i = 0; i < 2; i++) writeFileSync(path.join(samples, `${i}.npy`), writeNpy({ data: uniform(4 * 16, 10 + i, -1, 1), dims: [4, 16] }));
    const fromFolder = await buildVariants(job({ precisions: ['int8'], int8Mode: 'static', calibration: { kind: 'directory', path: samples }, validation: { kind: 'directory', path: samples } }), log);
    assert.equal(fromFolder.reports[0]!.accuracy?.batches, 2);
    await assert.rejects(buildVariants(job({ validation: { kind: 'directory', path: path.join(root, 'nowhere') } }), log), /^Error: cannot read sample folder '.*nowhere': ENOENT/);
    writeFileSync(path.join(root, 'bad.npy'), 'not numpy');
    mkdirSync(path.join(root, 'bad'));
    writeFileSync(path.join(root, 'bad', '0.npy'), 'not numpy');
    await assert.rejects(buildVariants(job({ validation: { kind: 'directory', path: path.join(root, 'bad') } }), log), /sample '.*0\.npy' is not a \.npy file/);
  });
});
