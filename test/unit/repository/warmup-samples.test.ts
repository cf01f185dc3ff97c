import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseModelConfigText } from '../../../src/repository/config-text.js';
import { readWarmupSamples, warmupRuns } from '../../../src/repository/warmup-samples.js';

const dir = mkdtempSync(path.join(tmpdir(), 'nereid-warmup-'));
mkdirSync(path.join(dir, 'warmup'));
writeFileSync(path.join(dir, 'warmup', 'words'), Buffer.from([2, 0, 0, 0, 0x68, 0x69]));
writeFileSync(path.join(dir, 'warmup', 'ints'), Buffer.from(new Int32Array([1, 2, 3, 4, 5]).buffer));

const config = (maxBatchSize: number, warmup: string) => parseModelConfigText(`name: "m"\nmax_batch_size: ${maxBatchSize}\nmodel_warmup [ ${warmup} ]\n`);
const input = (name: string, type: string, dims: string, data: string) => `inputs { key: "${name}" value: { data_type: ${type}, dims: ${dims}, ${data} } }`;

describe('warmup-samples', () => {
  it('repeats a sample batch_size times in one batch for a batching model, and runs it count times', async () => {
    const [sample] = await readWarmupSamples(config(8, `{ name: "s", batch_size: 3, count: 2, ${input('X', 'TYPE_INT32', '[2]', 'input_data_file: "ints"')} }`), dir);
    assert.equal(sample!.executions, 2);
    assert.deepEqual(sample!.inputs[0]!.shape, [3, 2]);
    assert.deepEqual([...new Int32Array(sample!.inputs[0]!.bytes.slice().buffer)], [1, 2, 1, 2, 1, 2]);
  });

  it('runs a sample once when count is 0, and batch_size requests one by one when the model does not batch', async () => {
    const [once] = await readWarmupSamples(config(8, `{ name: "s", batch_size: 1, ${input('X', 'TYPE_FP32', '[4]', 'zero_data: true')} }`), dir);
    assert.equal(once!.executions, 1);
    const [unbatched] = await readWarmupSamples(config(0, `{ name: "s", batch_size: 2, count: 3, ${input('X', 'TYPE_FP32', '[4]', 'zero_data: true')} }`), dir);
    assert.equal(unbatched!.executions, 6);
    assert.deepEqual(unbatched!.inputs[0]!.shape, [4]);
  });

  it('skips samples with batch_size 0, as Triton does', async () => {
    assert.deepEqual(await readWarmupSamples(config(8, `{ name: "s", batch_size: 0, ${input('X', 'TYPE_FP32', '[4]', 'zero_data: true')} }`), dir), []);
  });

  it('gives TYPE_STRING zero and random data as empty strings, and a string file whole', async () => {
    const [sample] = await readWarmupSamples(
      config(0, `{ name: "s", batch_size: 1, ${input('A', 'TYPE_STRING', '[2]', 'random_data: true')} ${input('B', 'TYPE_STRING', '[1]', 'input_data_file: "words"')} }`),
      dir,
    );
    assert.deepEqual([...sample!.inputs[0]!.bytes], new Array(8).fill(0));
    assert.deepEqual(Buffer.from(sample!.inputs[1]!.bytes), Buffer.from([2, 0, 0, 0, 0x68, 0x69]));
  });

  it("refuses with Triton's texts: variable dims, no data choice, a file too short, a file outside warmup/", async () => {
    const cases: [string, RegExp][] = [
      [input('X', 'TYPE_FP32', '[-1]', 'zero_data: true'), /warmup setting expects all variable-size dimensions are specified for input 'X'/],
      [`inputs { key: "X" value: { data_type: TYPE_FP32, dims: [1] } }`, /warmup setting expects input 'X' to have input_data_type set/],
      [input('X', 'TYPE_INT32', '[8]', 'input_data_file: "ints"'), /warmup setting expects 32 bytes, but the data provided from ints only has 20 bytes/],
      [input('X', 'TYPE_INT32', '[1]', 'input_data_file: "../config.pbtxt"'), /must name a file inside the model's warmup\/ folder/],
    ];
    for (const [inputs, message] of cases) {
      await assert.rejects(readWarmupSamples(config(8, `{ name: "s", batch_size: 1, ${inputs} }`), dir), message);
    }
  });

  it('runs every sample on every variant, with FP16 inputs for the fp16-io variant', async () => {
    const samples = await readWarmupSamples(config(8, `{ name: "s", batch_size: 1, ${input('X', 'TYPE_FP32', '[2]', 'zero_data: true')} }`), dir);
    const runs = warmupRuns(samples, { kind: 'onnxruntime', modelPath: 'm.onnx', variants: { fp16: 'a', 'fp16-io': 'b' } }, ['Y']);
    assert.deepEqual(runs.map((r) => r.variant), ['fp32', 'fp16', 'fp16-io']);
    assert.deepEqual(runs.map((r) => [r.inputs[0]!.datatype, r.inputs[0]!.byteLength]), [['FP32', 8], ['FP32', 8], ['FP16', 4]]);
  });
});
