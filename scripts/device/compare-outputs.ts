/**
 * Sends the same seeded inputs to two servers (a reference, e.g. the CPU provider, and a
 * candidate, e.g. WebGPU) and compares their outputs: max absolute error, relative L2
 * error and, for classifier-shaped outputs, top-1 agreement. Prints one JSON object, with
 * whether the figures are within tolerance: relative L2 at most 1e-3 for fp32 (kernels and
 * summation order differ across providers) and 0.05 for fp16 (the server's default
 * `max_relative_error`), top-1 agreement at least 0.99 (its `min_top1_agreement`). Exits 1
 * when they are not.
 *
 * Usage: node compare-outputs.js <reference host:port> <candidate host:port> <model> <shape d0,d1,..> [precision] [count]
 */
import { ProtoClient } from '../lib/grpc-client.js';
import { randomTensor, seededRandom } from '../bench/workloads.js';
import { PRECISION_PARAMETERS } from '../../src/repository/precision-config.js';

const [reference, candidate, model, shapeText, precision, countText] = process.argv.slice(2);
if (reference === undefined || candidate === undefined || model === undefined || shapeText === undefined) {
  console.error('usage: compare-outputs <reference> <candidate> <model> <shape> [precision] [count]');
  process.exit(2);
}
const shape = shapeText.split(',').map(Number);
const count = Number(countText ?? 16);
const random = seededRandom(42);
const a = new ProtoClient(reference);
const b = new ProtoClient(candidate);
let maxAbs = 0;
let diff2 = 0;
let ref2 = 0;
let rows = 0;
let agree = 0;
try {
  for (let i = 0; i < count; i++) {
    const data = randomTensor({ name: 'x', datatype: 'FP32', shape }, random);
    const request = (p: string | undefined) => ({
      model_name: model,
      inputs: [{ name: 'x', datatype: 'FP32', shape }],
      raw_input_contents: [data],
      ...(p !== undefined && p !== '' ? { parameters: { precision: { string_param: p } } } : {}),
    });
    type Reply = { outputs: { shape: number[] }[]; raw_output_contents: Buffer[] };
    const [ra, rb] = await Promise.all([a.call<Reply>('ModelInfer', request(undefined)), b.call<Reply>('ModelInfer', request(precision))]);
    const x = new Float32Array(new Uint8Array(ra.raw_output_contents[0]!).buffer);
    const y = new Float32Array(new Uint8Array(rb.raw_output_contents[0]!).buffer);
    if (x.length !== y.length) throw new Error(`output sizes differ: ${x.length} vs ${y.length}`);
    for (let j = 0; j < x.length; j++) {
      const d = Math.abs(x[j]! - y[j]!);
      maxAbs = Math.max(maxAbs, d);
      diff2 += d * d;
      ref2 += x[j]! * x[j]!;
    }
    const classes = ra.outputs[0]!.shape.at(-1)!;
    for (let r = 0; r < x.length / classes; r++) {
      const argmax = (v: Float32Array) => {
        let best = 0;
        for (let c = 1; c < classes; c++) if (v[r * classes + c]! > v[r * classes + best]!) best = c;
        return best;
      };
      rows++;
      if (argmax(x) === argmax(y)) agree++;
    }
  }
} finally {
  a.close();
  b.close();
}
const relativeL2Error = Math.sqrt(diff2 / ref2);
const top1Agreement = agree / rows;
// fp16 is held to the server's own default tolerance for serving a variant.
const tolerance = {
  maxRelativeL2Error: precision === 'fp16' ? Number(PRECISION_PARAMETERS.max_relative_error) : 1e-3,
  minTop1Agreement: Number(PRECISION_PARAMETERS.min_top1_agreement),
};
const within = relativeL2Error <= tolerance.maxRelativeL2Error && top1Agreement >= tolerance.minTop1Agreement;
console.log(JSON.stringify({ model, shape, precision: precision || 'fp32', candidate, requests: count, maxAbsError: maxAbs, relativeL2Error, top1Agreement, tolerance, within }));
if (!within) process.exitCode = 1;
