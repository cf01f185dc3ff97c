import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { ocrRepository } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { float32Bytes, pseudoImage, readFloat32 } from '../helpers/tensors.js';

describe('the real PaddleOCR direction classifier', () => {
  let t: TestServer;
  let reference: ort.InferenceSession;
  before(async () => {
    const repository = await ocrRepository();
    t = await startTestServer([repository]);
    // The same model in-process, as the ground truth. (Runs on this test's thread; fine in a test.)
    reference = await ort.InferenceSession.create(path.join(repository, 'ocr_cls', '1', 'model.onnx'), { intraOpNumThreads: 1 });
  });
  after(async () => {
    await reference.release();
    await t.stop();
  });

  it('serves the same class probabilities as ONNX Runtime in-process', async () => {
    const size = 3 * 48 * 192;
    for (const batch of [1, 3]) {
      const input = pseudoImage(batch, batch * size);
      const response = await t.client.call<{ outputs: unknown[]; raw_output_contents: Buffer[] }>('ModelInfer', {
        model_name: 'ocr_cls',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [batch, 3, 48, 192] }],
        raw_input_contents: [float32Bytes(input)],
      });
      const { name, datatype, shape } = response.outputs[0] as { name: string; datatype: string; shape: number[] };
      assert.deepEqual({ name, datatype, shape }, { name: 'softmax_0.tmp_0', datatype: 'FP32', shape: [batch, 2] });
      const served = readFloat32(response.raw_output_contents[0]!);
      const expected = (await reference.run({ x: new ort.Tensor('float32', input, [batch, 3, 48, 192]) }))['softmax_0.tmp_0']!;
      const want = Array.from(expected.data as Float32Array);
      assert.equal(served.length, want.length);
      served.forEach((p, i) => assert.ok(Math.abs(p - want[i]!) < 1e-5, `probability ${i}: served ${p}, in-process ${want[i]}`));
      for (let b = 0; b < batch; b++) assert.ok(Math.abs(served[2 * b]! + served[2 * b + 1]! - 1) < 1e-5);
    }
  });
});
