import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeNpy } from '../../../src/variants/npy-file.js';
import { buildVariants } from '../../../src/variants/variant-build.js';
import { type BuildHost, detectBuildHost } from '../../../src/variants/build-host.js';
import { describeCpu } from '../../../src/core/cpu-features.js';
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
    int8Format: 'auto',
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
  let host: BuildHost;
  before(async () => {
    host = await detectBuildHost(true);
  });

  it('builds, measures (top-1 for a Softmax output) and serves the variants that meet the tolerance', async () => {
    const result = await buildVariants(job(), log, host);
    assert.equal(result.cached, false);
    assert.deepEqual(Object.keys(result.files).sort(), ['fp16', 'fp16-io', 'int8']);
    for (const report of result.reports) {
      assert.equal(report.served, true, report.reason);
      assert.equal(report.accuracy?.batches, 3);
      assert.ok(report.accuracy!.relativeL2Error > 0 && report.accuracy!.relativeL2Error < 0.05);
      assert.ok(report.accuracy!.top1Agreement! >= 0.9, 'the Softmax output is measured as a classifier');
      assert.ok(report.speedup! > 0);
    }
    assert.ok(logs.some((l) => l.startsWith('built int8 (')), 'the int8 build is logged with its format');
  });

  it('reuses the cache, and applies a changed tolerance to the cached figures without rebuilding', async () => {
    const again = await buildVariants(job(), log, host);
    assert.equal(again.cached, true);
    const strict = await buildVariants(job({ maxRelativeError: 1e-9 }), log, host);
    assert.equal(strict.cached, true);
    assert.deepEqual(strict.files, {});
    assert.match(strict.reports[1]!.reason, /^the int8 variant failed its accuracy check against fp32 on 3 validation batches: relative L2 error [\d.e-]+ exceeds max_relative_error 1e-9 \(max abs error [\d.e-]+\)$/);
    const other = await buildVariants(job({ int8Mode: 'static' }), log, host);
    assert.equal(other.cached, false, 'a setting that changes the files gives another cache entry');
    assert.notEqual(other.cacheEntry, again.cacheEntry);
  });

  it('reads samples from a folder, and fails with the reason when the folder is unusable', async () => {
    const samples = path.join(root, 'samples');
    mkdirSync(samples);
    for (let i = 0; i < 2; i++) writeFileSync(path.join(samples, `${i}.npy`), writeNpy({ data: uniform(4 * 16, 10 + i, -1, 1), dims: [4, 16] }));
    const fromFolder = await buildVariants(job({ precisions: ['int8'], int8Mode: 'static', calibration: { kind: 'directory', path: samples }, validation: { kind: 'directory', path: samples } }), log, host);
    assert.equal(fromFolder.reports[0]!.accuracy?.batches, 2);
    await assert.rejects(buildVariants(job({ validation: { kind: 'directory', path: path.join(root, 'nowhere') } }), log, host), /^Error: cannot read sample folder '.*nowhere': ENOENT/);
    writeFileSync(path.join(root, 'bad.npy'), 'not numpy');
    mkdirSync(path.join(root, 'bad'));
    writeFileSync(path.join(root, 'bad', '0.npy'), 'not numpy');
    await assert.rejects(buildVariants(job({ validation: { kind: 'directory', path: path.join(root, 'bad') } }), log, host), /sample '.*0\.npy' is not a \.npy file/);
  });

  it('auto: u8s8 where the U8S8 check is exact, else the faster of u8u8 and u8s8_reduce_range; the choice is reported', async (t) => {
    t.diagnostic(`host: ${describeCpu(host.cpu)}; ONNX Runtime's U8S8 kernel ${host.u8s8Exact ? 'is exact' : 'saturates'}`);
    const built = await buildVariants(job({ precisions: ['int8'] }), log, host);
    const report = built.reports[0]!;
    assert.equal(report.served, true, report.reason);
    const choice = report.int8Format!;
    assert.match(choice.cpu, host.u8s8Exact ? /U8S8 kernel computes exactly$/ : /U8S8 kernel saturates$/);
    if (host.u8s8Exact) {
      assert.equal(choice.format, 'u8s8', 'u8s8 meets the tolerance, so the fallback is not served');
      assert.deepEqual(choice.candidates.map((c) => c.format), ['u8s8', 'u8s8_reduce_range']);
      assert.equal(choice.why, "auto: ONNX Runtime's U8S8 kernel is exact on this CPU, so u8s8, with u8s8_reduce_range as the fallback");
    } else {
      assert.deepEqual(choice.candidates.map((c) => c.format), ['u8u8', 'u8s8_reduce_range']);
    }
    assert.match(built.files.int8!, new RegExp(`int8-${choice.format}\\.onnx$`), 'the served file is the chosen format');
  });

  it('a CPU whose U8S8 kernel saturates gets its own cache entry, with u8u8 and u8s8_reduce_range measured and the better served', async () => {
    const noVnni: BuildHost = { cpu: { ...host.cpu, arch: 'x64', int8: ['avx2'], known: true }, u8s8Exact: false };
    const mine = await buildVariants(job({ precisions: ['int8'] }), log, host);
    const other = await buildVariants(job({ precisions: ['int8'] }), log, noVnni);
    assert.equal(other.cached, false, 'a variant measured on another CPU is not reused');
    assert.notEqual(other.cacheEntry, mine.cacheEntry);
    const choice = other.reports[0]!.int8Format!;
    assert.deepEqual(choice.candidates.map((c) => c.format), ['u8u8', 'u8s8_reduce_range']);
    const [u8u8, reduced] = choice.candidates;
    assert.ok(u8u8!.accuracy!.relativeL2Error < 0.05 && reduced!.accuracy!.relativeL2Error < 0.05, 'both are exact there');
    assert.ok(u8u8!.accuracy!.relativeL2Error < reduced!.accuracy!.relativeL2Error, 'u8u8 (8-bit weights) is the more accurate');
    const expected = reduced!.speedup! > u8u8!.speedup! * 1.1 ? 'u8s8_reduce_range' : 'u8u8';
    assert.equal(choice.format, expected, 'reduce-range only when over 10% faster: u8u8 is the more accurate');
    assert.match(choice.why, new RegExp(`saturates on this CPU .*: ${expected} is the fastest within tolerance \\(or within 10% of it and more accurate\\), against`));
    assert.equal(choice.cpu, `${describeCpu(noVnni.cpu)}; ONNX Runtime's U8S8 kernel saturates`);
    const again = await buildVariants(job({ precisions: ['int8'] }), log, noVnni);
    assert.equal(again.cached, true, 'the same CPU reuses its entry');
    assert.equal(again.reports[0]!.int8Format!.format, expected, 'and the same choice');
  });

  it('int8_format forces one format, built alone, whatever the CPU', async () => {
    for (const format of ['u8s8', 'u8s8_reduce_range', 'u8u8'] as const) {
      for (const int8Mode of ['dynamic', 'static'] as const) {
        const built = await buildVariants(job({ precisions: ['int8'], int8Format: format, int8Mode }), log, host);
        const report = built.reports[0]!;
        assert.equal(report.int8Format!.format, format);
        assert.deepEqual(report.int8Format!.candidates.map((c) => c.format), [format]);
        assert.match(report.int8Format!.why, new RegExp(`^int8_format ${format} is set in the model config`));
        if (format !== 'u8s8' || host.u8s8Exact) assert.equal(report.served, true, `${format} ${int8Mode}: ${report.reason}`);
      }
    }
  });

  it('warns when int8_format u8s8 is forced on a CPU whose U8S8 kernel saturates', async () => {
    const noVnni: BuildHost = { cpu: { arch: 'x64', model: 'test', int8: ['avx2'], known: true }, u8s8Exact: false };
    const warnings: string[] = [];
    await buildVariants(job({ precisions: ['int8'], int8Format: 'u8s8' }), (level, m) => void (level === 'warn' && warnings.push(m)), noVnni);
    assert.deepEqual(warnings, ["int8_format u8s8 is set, but ONNX Runtime's U8S8 kernel saturates on this CPU (x86 without VNNI): expect a large int8 error"]);
  });
});
