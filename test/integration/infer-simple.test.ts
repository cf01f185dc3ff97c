import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXAMPLE_REPOSITORY } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { bytesTensor, int32Bytes, readBytesTensor, readInt32, readInt8 } from '../helpers/tensors.js';

interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: number[] }[];
  raw_output_contents: Buffer[];
}

const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

describe('ModelInfer on the example repository', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY]);
  });
  after(async () => {
    await t.stop();
  });

  it('simple returns sum and difference, in the requested order, with id and version', async () => {
    const a = range(16, (i) => i);
    const b = range(16, () => 1);
    const response = await t.client.call<InferResponse>('ModelInfer', {
      model_name: 'simple',
      id: 'req-1',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16] },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16] },
      ],
      outputs: [{ name: 'OUTPUT1' }, { name: 'OUTPUT0' }],
      raw_input_contents: [int32Bytes(a), int32Bytes(b)],
    });
    assert.equal(response.id, 'req-1');
    assert.equal(response.model_name, 'simple');
    assert.equal(response.model_version, '1');
    assert.deepEqual(response.outputs.map((o) => [o.name, o.datatype, o.shape]), [
      ['OUTPUT1', 'INT32', [1, 16]],
      ['OUTPUT0', 'INT32', [1, 16]],
    ]);
    assert.deepEqual(readInt32(response.raw_output_contents[0]!), a.map((x, i) => x - b[i]!));
    assert.deepEqual(readInt32(response.raw_output_contents[1]!), a.map((x, i) => x + b[i]!));
  });

  it('simple with no requested outputs returns all of them in model order; batch of 3', async () => {
    const a = range(48, (i) => i * 3 - 20);
    const b = range(48, (i) => 1000 - i);
    const response = await t.client.call<InferResponse>('ModelInfer', {
      model_name: 'simple',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [3, 16] },
        { name: 'INPUT1', datatype: 'INT32', shape: [3, 16] },
      ],
      raw_input_contents: [int32Bytes(a), int32Bytes(b)],
    });
    assert.deepEqual(response.outputs.map((o) => o.name), ['OUTPUT0', 'OUTPUT1']);
    assert.deepEqual(response.outputs[0]!.shape, [3, 16]);
    assert.deepEqual(readInt32(response.raw_output_contents[0]!), a.map((x, i) => x + b[i]!));
    assert.deepEqual(readInt32(response.raw_output_contents[1]!), a.map((x, i) => x - b[i]!));
  });

  it('simple accepts typed int_contents', async () => {
    const response = await t.client.call<InferResponse>('ModelInfer', {
      model_name: 'simple',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], contents: { int_contents: range(16, (i) => i) } },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], contents: { int_contents: range(16, () => 2) } },
      ],
    });
    assert.deepEqual(readInt32(response.raw_output_contents[0]!), range(16, (i) => i + 2));
  });

  it('simple_int8 computes in int8 from int_contents', async () => {
    const response = await t.client.call<InferResponse>('ModelInfer', {
      model_name: 'simple_int8',
      inputs: [
        { name: 'INPUT0', datatype: 'INT8', shape: [1, 16], contents: { int_contents: range(16, (i) => i - 8) } },
        { name: 'INPUT1', datatype: 'INT8', shape: [1, 16], contents: { int_contents: range(16, () => 3) } },
      ],
    });
    assert.deepEqual(readInt8(response.raw_output_contents[0]!), range(16, (i) => i - 5));
    assert.deepEqual(readInt8(response.raw_output_contents[1]!), range(16, (i) => i - 11));
  });

  it('simple_string adds decimal strings (raw and bytes_contents)', async () => {
    const a = range(16, (i) => i).map(String);
    const b = range(16, () => '1');
    const raw = await t.client.call<InferResponse>('ModelInfer', {
      model_name: 'simple_string',
      inputs: [
        { name: 'INPUT0', datatype: 'BYTES', shape: [1, 16] },
        { name: 'INPUT1', datatype: 'BYTES', shape: [1, 16] },
      ],
      raw_input_contents: [bytesTensor(a), bytesTensor(b)],
    });
    assert.deepEqual(readBytesTensor(raw.raw_output_contents[0]!).map(String), range(16, (i) => String(i + 1)));
    assert.deepEqual(readBytesTensor(raw.raw_output_contents[1]!).map(String), range(16, (i) => String(i - 1)));
    const typed = await t.client.call<InferResponse>('ModelInfer', {
      model_name: 'simple_string',
      inputs: [
        { name: 'INPUT0', datatype: 'BYTES', shape: [1, 16], contents: { bytes_contents: a.map((s) => Buffer.from(s)) } },
        { name: 'INPUT1', datatype: 'BYTES', shape: [1, 16], contents: { bytes_contents: b.map((s) => Buffer.from(s)) } },
      ],
    });
    assert.deepEqual(readBytesTensor(typed.raw_output_contents[0]!).map(String), range(16, (i) => String(i + 1)));
  });

  it('simple_identity echoes bytes exactly, NUL bytes and invalid UTF-8 included', async () => {
    const elements = [Buffer.from('he\u0000llo'), Buffer.from([0, 1, 2, 3]), Buffer.from('wörld ✓'), Buffer.alloc(0), Buffer.from([0xff, 0xfe])];
    const response = await t.client.call<InferResponse>('ModelInfer', {
      model_name: 'simple_identity',
      inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 5] }],
      raw_input_contents: [bytesTensor(elements)],
    });
    assert.deepEqual(response.outputs[0]!.shape, [1, 5]);
    assert.deepEqual(readBytesTensor(response.raw_output_contents[0]!), elements);
  });
});
