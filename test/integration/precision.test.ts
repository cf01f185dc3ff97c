import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { fromFloat16Bits, toFloat16Bits } from '../../src/onnx/half-precision.js';
import { textLineBatch } from '../../scripts/lib/text-lines.js';
import { uniform } from '../../scripts/lib/mlp-model.js';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { precisionRepository } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { float32Bytes, readFloat32 } from '../helpers/tensors.js';

interface InferResponse {
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

type Parameters = Record<string, { string_value: string }>;

const HIDDEN = 768;

function mlpRequest(id: string, x: Float32Array, precision?: string | { int64_param: number }) {
  return {
    model_name: 'mlp',
    id,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [x.length / HIDDEN, HIDDEN] }],
    raw_input_contents: [float32Bytes(x)],
    ...(precision === undefined ? {} : { parameters: { precision: typeof precision === 'string' ? { string_param: precision } : precision } }),
  };
}

function relativeL2(reference: readonly number[], candidate: readonly number[]): number {
  let diff = 0;
  let norm = 0;
  reference.forEach((r, i) => {
    diff += (r - candidate[i]!) ** 2;
    norm += r * r;
  });
  return Math.sqrt(diff / norm);
}

describe('per-request precision', () => {
  let t: TestServer;
  let repository: string;
  const x = uniform(2 * HIDDEN, 77, -1, 1);

  before(async () => {
    repository = await precisionRepository();
    t = await startTestServer([repository], { flags: ['--trace-config', 'level=TIMESTAMPS,rate=1'] });
  });
  after(() => t.stop());

  const infer = (request: Record<string, unknown>) => t.client.call<InferResponse>('ModelInfer', request);
  const config = async (model: string): Promise<Record<string, string>> => {
    const response = await t.client.call<{ config: { parameters: Parameters } }>('ModelConfig', { name: model });
    return Object.fromEntries(Object.entries(response.config.parameters).map(([k, v]) => [k, v.string_value]));
  };
  const precisionStats = async (model: string) => {
    const response = await t.client.call<{ model_stats: { precision_stats: Record<string, { inference_count: string; execution_count: string }> }[] }>(
      'ModelStatistics',
      { name: model },
    );
    return Object.fromEntries(Object.entries(response.model_stats[0]!.precision_stats).map(([k, v]) => [k, Number(v.inference_count)]));
  };
  const assertHealthy = async () => {
    const fp32 = await infer(mlpRequest('healthy', x));
    assert.equal(fp32.outputs[0]!.datatype, 'FP32');
  };

  it('reports the figures measured at load in the model config', async () => {
    const mlp = await config('mlp');
    assert.equal(mlp['precision.served'], 'fp32,fp16,int8');
    assert.equal(mlp['precision.default'], 'fp32');
    assert.equal(mlp['precision.fp16_io'], 'true');
    for (const p of ['fp16', 'int8']) {
      assert.equal(mlp[`precision.${p}.status`], 'served');
      const rel = Number(mlp[`precision.${p}.relative_l2_error`]);
      assert.ok(rel > 0 && rel <= 0.05, `${p} relative L2 error ${rel}`);
      assert.ok(Number(mlp[`precision.${p}.max_abs_error`]) > 0);
      assert.ok(Number(mlp[`precision.${p}.speedup_vs_fp32`]) > 0);
      assert.equal(mlp[`precision.${p}.top1_agreement`], undefined, 'the MLP output is not a classifier output');
    }
    assert.equal(mlp['precision.int8.int8_mode'], 'dynamic');
    // The int8 format follows the CPU: u8s8 where ONNX Runtime's U8S8 kernel is exact, else the better of u8u8 and reduce-range.
    const exact = mlp['precision.int8.cpu']!.endsWith("ONNX Runtime's U8S8 kernel computes exactly");
    assert.match(mlp['precision.int8.cpu']!, new RegExp(`^${process.arch}\\b.*; ONNX Runtime's U8S8 kernel (computes exactly|saturates)$`));
    if (exact) assert.equal(mlp['precision.int8.format'], 'u8s8');
    else assert.ok(['u8u8', 'u8s8_reduce_range'].includes(mlp['precision.int8.format']!), mlp['precision.int8.format']);
    assert.match(mlp['precision.int8.format_choice']!, /^auto: ONNX Runtime's U8S8 kernel /);
    assert.match(mlp['precision.int8.formats_measured']!, exact ? /^u8s8: relative L2 error [\d.e-]+, [\d.]+x fp32; u8s8_reduce_range: relative L2 error / : /^u8u8: relative L2 error .*; u8s8_reduce_range: relative L2 error /);
  });

  it('serves each requested precision, recorded per precision in the statistics and spans', async () => {
    const before = await precisionStats('mlp');
    const outputs: Record<string, number[]> = {};
    for (const p of ['fp32', 'fp16', 'int8']) {
      const response = await infer(mlpRequest(`choose-${p}`, x, p));
      assert.deepEqual(response.outputs[0]!.shape.map(Number), [2, HIDDEN]);
      assert.equal(response.outputs[0]!.datatype, 'FP32');
      outputs[p] = readFloat32(response.raw_output_contents[0]!);
    }
    // Without the parameter, the model's default (fp32) runs.
    const plain = readFloat32((await infer(mlpRequest('choose-default', x))).raw_output_contents[0]!);
    assert.deepEqual(plain, outputs['fp32']);
    assert.ok(relativeL2(outputs['fp32']!, outputs['fp16']!) < 0.01);
    assert.ok(relativeL2(outputs['fp32']!, outputs['int8']!) < 0.05);
    assert.notDeepEqual(outputs['int8'], outputs['fp32'], 'int8 must really run the quantized model');
    const after = await precisionStats('mlp');
    assert.equal((after['fp32'] ?? 0) - (before['fp32'] ?? 0), 4);
    assert.equal((after['fp16'] ?? 0) - (before['fp16'] ?? 0), 2);
    assert.equal((after['int8'] ?? 0) - (before['int8'] ?? 0), 2);

    // Spans are exported when they end (simple processor, in-memory exporter).
    const compute = t.spans.getFinishedSpans().filter((s) => s.name === 'compute' && String(s.attributes['nereid.request.id']).startsWith('choose-'));
    const seen = Object.fromEntries(compute.map((s) => [String(s.attributes['nereid.request.id']), s.attributes['nereid.precision']]));
    assert.deepEqual(seen, { 'choose-fp32': 'fp32', 'choose-fp16': 'fp16', 'choose-int8': 'int8', 'choose-default': 'fp32' });
  });

  it('never batches requests of different precisions together', async () => {
    const precisionOf = (i: number) => (i % 2 === 0 ? 'fp32' : 'int8');
    const responses = await Promise.all(Array.from({ length: 16 }, (_, i) => infer(mlpRequest(`mixed-${i}`, uniform(HIDDEN, 300 + i, -1, 1), precisionOf(i)))));
    // Every request's compute span carries the precision of the batch it ran in.
    const compute = t.spans.getFinishedSpans().filter((s) => s.name === 'compute' && String(s.attributes['nereid.request.id']).startsWith('mixed-'));
    assert.equal(compute.length, 16);
    for (const span of compute) {
      const i = Number(String(span.attributes['nereid.request.id']).slice('mixed-'.length));
      assert.equal(span.attributes['nereid.precision'], precisionOf(i), `request ${i} ran in a batch of its own precision`);
    }
    assert.ok(compute.some((s) => Number(s.attributes['nereid.batch.requests']) > 1), 'some requests were batched together');
    // fp32 results do not depend on the batch; int8 ones do a little (the activation scale is per batch), within tolerance.
    for (const [i, response] of responses.entries()) {
      const alone = readFloat32((await infer(mlpRequest(`alone-${i}`, uniform(HIDDEN, 300 + i, -1, 1), 'fp32'))).raw_output_contents[0]!);
      const got = readFloat32(response.raw_output_contents[0]!);
      if (precisionOf(i) === 'fp32') assert.deepEqual(got, alone, `request ${i}`);
      else assert.ok(relativeL2(alone, got) < 0.05, `request ${i}: int8 within tolerance of fp32`);
    }
  });

  it('runs the fp16 form with FP16 inputs and outputs when the request sends FP16 tensors', async () => {
    const before = await precisionStats('mlp');
    const half = Buffer.from(toFloat16Bits(x).buffer);
    const response = await infer({
      model_name: 'mlp',
      inputs: [{ name: 'x', datatype: 'FP16', shape: [2, HIDDEN] }],
      raw_input_contents: [half],
    });
    assert.equal(response.outputs[0]!.datatype, 'FP16');
    assert.deepEqual(response.outputs[0]!.shape.map(Number), [2, HIDDEN]);
    const raw = response.raw_output_contents[0]!;
    const y = Array.from(fromFloat16Bits(new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))));
    const fp32 = readFloat32((await infer(mlpRequest('fp16io-reference', x, 'fp32'))).raw_output_contents[0]!);
    assert.ok(relativeL2(fp32, y) < 0.01, `relative L2 ${relativeL2(fp32, y)}`);
    const after = await precisionStats('mlp');
    assert.equal((after['fp16'] ?? 0) - (before['fp16'] ?? 0), 2);
  });

  it('refuses FP16 inputs with another precision, naming both', async () => {
    const half = Buffer.from(toFloat16Bits(x).buffer);
    await assertGrpcError(
      infer({ model_name: 'mlp', inputs: [{ name: 'x', datatype: 'FP16', shape: [2, HIDDEN] }], raw_input_contents: [half], parameters: { precision: { string_param: 'int8' } } }),
      status.INVALID_ARGUMENT,
      "[request id: <id_unknown>] inference input 'x' data-type is 'FP16', which only the fp16 variant of model 'mlp' takes, but the request asks for precision 'int8'; send 'FP32' data for it",
    );
    await assertHealthy();
  });

  it('refuses unknown precisions and wrong parameter types with the available list', async () => {
    await assertGrpcError(
      infer(mlpRequest('bad-1', x, 'bf16')),
      status.INVALID_ARGUMENT,
      "[request id: bad-1] unknown precision 'bf16' (precisions are fp32, fp16, int8). Available: fp32, fp16, int8",
    );
    await assertGrpcError(infer(mlpRequest('bad-2', x, 'FP16')), status.INVALID_ARGUMENT, /unknown precision 'FP16'.*Available: fp32, fp16, int8$/);
    await assertGrpcError(
      infer(mlpRequest('bad-3', x, { int64_param: 8 })),
      status.INVALID_ARGUMENT,
      "invalid value type for 'precision' parameter, expected string_param.",
    );
    await assertHealthy();
  });

  it('reports a variant that fails its tolerance and does not serve it', async () => {
    const strict = await config('mlp_strict');
    assert.equal(strict['precision.served'], 'fp32');
    for (const p of ['fp16', 'int8']) {
      assert.equal(strict[`precision.${p}.status`], 'unavailable');
      assert.match(strict[`precision.${p}.reason`]!, new RegExp(`^the ${p} variant failed its accuracy check against fp32 on 2 validation batches: relative L2 error [0-9.e-]+ exceeds max_relative_error 1e-7`));
    }
    const error = await assertGrpcError(
      infer({ ...mlpRequest('strict', x, 'int8'), model_name: 'mlp_strict' }),
      status.INVALID_ARGUMENT,
      /^\[request id: strict\] precision 'int8' is not served by model 'mlp_strict': the int8 variant failed its accuracy check .* Available: fp32$/,
    );
    assert.match(error.details, /relative L2 error 0\.01\d* exceeds/);
    // Its fp32 form serves, and FP16 inputs are refused as for any FP32 model.
    const fp32 = await infer({ ...mlpRequest('strict-fp32', x), model_name: 'mlp_strict' });
    assert.equal(fp32.outputs[0]!.datatype, 'FP32');
    await assertGrpcError(
      infer({ model_name: 'mlp_strict', inputs: [{ name: 'x', datatype: 'FP16', shape: [2, HIDDEN] }], raw_input_contents: [Buffer.from(toFloat16Bits(x).buffer)] }),
      status.INVALID_ARGUMENT,
      "[request id: <id_unknown>] inference input 'x' data-type is 'FP16', but model 'mlp_strict' expects 'FP32'",
    );
  });

  it('lets a request choose fp32, fp16 or int8 on the real PaddleOCR classifier, agreeing on the class', async () => {
    const cls = await config('ocr_cls');
    assert.equal(cls['precision.served'], 'fp32,fp16,int8');
    assert.ok(Number(cls['precision.int8.top1_agreement']) >= 0.99);
    assert.ok(Number(cls['precision.fp16.top1_agreement']) >= 0.99);
    const lines = textLineBatch(4, 192, 4242);
    const probabilities: Record<string, number[]> = {};
    for (const p of ['fp32', 'fp16', 'int8']) {
      const response = await infer({
        model_name: 'ocr_cls',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [4, 3, 48, 192] }],
        raw_input_contents: [float32Bytes(lines)],
        parameters: { precision: { string_param: p } },
      });
      probabilities[p] = readFloat32(response.raw_output_contents[0]!);
    }
    const classes = (v: number[]) => [0, 1, 2, 3].map((i) => (v[2 * i]! >= v[2 * i + 1]! ? 0 : 1));
    assert.deepEqual(classes(probabilities['fp16']!), classes(probabilities['fp32']!));
    assert.deepEqual(classes(probabilities['int8']!), classes(probabilities['fp32']!));
    const stats = await precisionStats('ocr_cls');
    assert.deepEqual(stats, { fp32: 4, fp16: 4, int8: 4 });
  });

  it('reuses the cached variants on restart instead of rebuilding them', async () => {
    const cacheRoot = path.join(repository, 'mlp', '1', '.nereid-variants');
    const { readdir } = await import('node:fs/promises');
    const [entry] = await readdir(cacheRoot);
    assert.ok(entry !== undefined && /^[0-9a-f]{64}$/.test(entry), `cache entry ${entry}`);
    const figures = path.join(cacheRoot, entry, 'figures.json');
    const first = await stat(figures);
    const second = await startTestServer([repository]);
    try {
      const again = await stat(figures);
      assert.equal(again.ino, first.ino, 'figures.json was rewritten: the variants were rebuilt');
      assert.equal(again.mtimeMs, first.mtimeMs);
      const response = await second.client.call<InferResponse>('ModelInfer', mlpRequest('restart', x, 'int8'));
      assert.equal(response.outputs[0]!.datatype, 'FP32');
    } finally {
      await second.stop();
    }
  });
});
