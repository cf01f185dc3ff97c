/**
 * fp32 vs fp16 vs int8 (dynamic and static QDQ) of a generated 4-layer MLP
 * (hidden 768), each loaded and run in onnxruntime-node on CPU.
 *
 * Tolerances (relative L2 vs fp32, 4 x 16 held-out rows in [-1, 1)), set
 * from measurement with headroom: fp16 measured ~4-5e-4 -> bound 1e-2;
 * int8 dynamic ~1.1e-2, static 2.1e-2 (MatMul+Add+Relu) and 1.7e-2 (Gemm,
 * Relu folded into the Q) -> bound 5e-2. Static max-abs error is larger on
 * the Gemm form (~0.76): its output y is quantized, and held-out values
 * beyond the calibrated range saturate.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { maxAbsError, relativeL2Error } from '../../../src/onnx/accuracy.js';
import { collectActivationRanges } from '../../../src/onnx/calibration.js';
import { convertToFloat16 } from '../../../src/onnx/float16.js';
import type { ModelProto } from '../../../src/onnx/graph-builder.js';
import { toFloat16Bits, fromFloat16Bits } from '../../../src/onnx/half-precision.js';
import { writeModel } from '../../../src/onnx/onnx-model.js';
import { quantizeDynamic } from '../../../src/onnx/quantize-dynamic.js';
import { quantizeStaticQdq } from '../../../src/onnx/quantize-static.js';
import { buildMlp, uniform } from './fixtures.js';
import { type Feed, concat, createSession, ortCalibrationRunner, runModel, runSession } from './ort-runner.js';

const ROWS = 16;
const H = 768;
const heldOut: Record<string, Feed>[] = Array.from({ length: 4 }, (_, i) => ({ x: { data: uniform(ROWS * H, 1000 + i, -1, 1), dims: [ROWS, H] } }));
const calibration = Array.from({ length: 4 }, (_, i) => ({ x: { data: uniform(ROWS * H, 2000 + i, -1, 1), dims: [ROWS, H] } }));

for (const form of ['matmul', 'gemm'] as const) {
  describe(`MLP (${form}) in onnxruntime-node`, () => {
    let fp32: ModelProto;
    let reference: Float32Array;
    const compare = async (variant: ModelProto): Promise<{ rel: number; max: number }> => {
      const out = concat(await runModel(writeModel(variant), heldOut, 'y'));
      return { rel: relativeL2Error(reference, out), max: maxAbsError(reference, out) };
    };

    before(async () => {
      fp32 = buildMlp({ form });
      reference = concat(await runModel(writeModel(fp32), heldOut, 'y'));
    });

    it('fp16 (FLOAT I/O) is within 1e-2 relative L2', async (t) => {
      const { rel, max } = await compare(convertToFloat16(fp32));
      t.diagnostic(`fp16 ${form}: relative L2 ${rel.toExponential(2)}, max abs ${max.toExponential(2)}`);
      assert.ok(rel < 1e-2, `fp16 relative L2 ${rel} < 1e-2`);
    });

    it('fp16 with FLOAT16 I/O takes and returns fp16 tensors', async (t) => {
      const session = await createSession(writeModel(convertToFloat16(fp32, { keepIoTypes: false })));
      try {
        const parts: Float32Array[] = [];
        for (const f of heldOut) {
          const out = await runSession(session, { x: { data: toFloat16Bits(f.x!.data as Float32Array), dims: f.x!.dims } }, 'y');
          assert.ok(out instanceof Uint16Array, 'the output is float16 (Uint16Array bits)');
          parts.push(fromFloat16Bits(out));
        }
        const rel = relativeL2Error(reference, concat(parts));
        t.diagnostic(`fp16-I/O ${form}: relative L2 ${rel.toExponential(2)}`);
        assert.ok(rel < 1e-2, `fp16-I/O relative L2 ${rel} < 1e-2`);
      } finally {
        await session.release();
      }
    });

    it('int8 dynamic (per channel) is within 5e-2 relative L2', async (t) => {
      const { rel, max } = await compare(quantizeDynamic(fp32));
      t.diagnostic(`int8 dynamic ${form}: relative L2 ${rel.toExponential(2)}, max abs ${max.toExponential(2)}`);
      assert.ok(rel < 5e-2, `int8 dynamic relative L2 ${rel} < 5e-2`);
    });

    it('int8 dynamic (per tensor) is within 5e-2 relative L2', async (t) => {
      const { rel } = await compare(quantizeDynamic(fp32, { perChannel: false }));
      t.diagnostic(`int8 dynamic per-tensor ${form}: relative L2 ${rel.toExponential(2)}`);
      assert.ok(rel < 5e-2, `int8 dynamic per-tensor relative L2 ${rel} < 5e-2`);
    });

    for (const method of ['minmax', 'percentile'] as const) {
      it(`int8 static QDQ (${method}) is within 5e-2 relative L2`, async (t) => {
        const runner = ortCalibrationRunner();
        try {
          const ranges = await collectActivationRanges(fp32, calibration, runner.run, { method });
          const { rel, max } = await compare(quantizeStaticQdq(fp32, ranges));
          t.diagnostic(`int8 static ${method} ${form}: relative L2 ${rel.toExponential(2)}, max abs ${max.toExponential(2)}`);
          assert.ok(rel < 5e-2, `int8 static relative L2 ${rel} < 5e-2`);
        } finally {
          await runner.release();
        }
      });
    }
  });
}
