import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeModel } from '../../scripts/lib/model-repo.js';
import { scratchDirectory } from '../helpers/fixtures.js';
import { HttpClient } from '../helpers/http-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * Per datatype that a model can declare (ONNX Runtime for Node.js loads no BF16 model; BF16's JSON
 * conversion is unit-tested in test/unit/transport/http/json-tensors.test.ts): values sent as JSON, the JSON values expected back, and their raw little-endian bytes. */
const CASES: Record<string, { config: string; send: unknown[]; back: unknown[]; bytes: Buffer }> = {
  BOOL: { config: 'TYPE_BOOL', send: [true, false, true], back: [true, false, true], bytes: Buffer.from([1, 0, 1]) },
  UINT8: { config: 'TYPE_UINT8', send: [0, 255, 7], back: [0, 255, 7], bytes: Buffer.from([0, 255, 7]) },
  UINT16: { config: 'TYPE_UINT16', send: [0, 65535, 9], back: [0, 65535, 9], bytes: Buffer.from(new Uint16Array([0, 65535, 9]).buffer) },
  UINT32: { config: 'TYPE_UINT32', send: [0, 4294967295, 3], back: [0, 4294967295, 3], bytes: Buffer.from(new Uint32Array([0, 4294967295, 3]).buffer) },
  UINT64: { config: 'TYPE_UINT64', send: [0, 2 ** 40, '18446744073709551615'], back: [0, 2 ** 40, 18446744073709551615], bytes: Buffer.from(new BigUint64Array([0n, 2n ** 40n, 2n ** 64n - 1n]).buffer) },
  INT8: { config: 'TYPE_INT8', send: [-128, 127, 0], back: [-128, 127, 0], bytes: Buffer.from(new Int8Array([-128, 127, 0]).buffer) },
  INT16: { config: 'TYPE_INT16', send: [-32768, 32767, -1], back: [-32768, 32767, -1], bytes: Buffer.from(new Int16Array([-32768, 32767, -1]).buffer) },
  INT32: { config: 'TYPE_INT32', send: [-(2 ** 31), 2 ** 31 - 1, 5], back: [-(2 ** 31), 2 ** 31 - 1, 5], bytes: Buffer.from(new Int32Array([-(2 ** 31), 2 ** 31 - 1, 5]).buffer) },
  INT64: { config: 'TYPE_INT64', send: [-(2 ** 53), '9007199254740993', 1], back: [-(2 ** 53), 9007199254740993, 1], bytes: Buffer.from(new BigInt64Array([-(2n ** 53n), 2n ** 53n + 1n, 1n]).buffer) },
  FP16: { config: 'TYPE_FP16', send: [0.5, -2, 0.1], back: [0.5, -2, 0.0999755859375], bytes: Buffer.from(new Uint16Array([0x3800, 0xc000, 0x2e66]).buffer) },
  FP32: { config: 'TYPE_FP32', send: [0.5, -1.25, 0.1], back: [0.5, -1.25, Math.fround(0.1)], bytes: Buffer.from(new Float32Array([0.5, -1.25, 0.1]).buffer) },
  FP64: { config: 'TYPE_FP64', send: [0.1, -1e300, 3], back: [0.1, -1e300, 3], bytes: Buffer.from(new Float64Array([0.1, -1e300, 3]).buffer) },
  BYTES: {
    config: 'TYPE_STRING',
    send: ['hello', '', 'ünï'],
    back: ['hello', '', 'ünï'],
    bytes: Buffer.concat(['hello', '', 'ünï'].map((s) => {
      const b = Buffer.from(s);
      const n = Buffer.alloc(4);
      n.writeUInt32LE(b.length);
      return Buffer.concat([n, b]);
    })),
  },
};

describe('HTTP tensors of every datatype, as JSON (flat or nested) and as binary data', () => {
  let t: TestServer;
  let http: HttpClient;
  before(async () => {
    const repository = scratchDirectory('http-datatypes');
    for (const [datatype, { config }] of Object.entries(CASES)) {
      const tensor = (name: string) => ({ name, dataType: config, dims: [-1, -1] });
      await writeModel(repository, `id_${datatype.toLowerCase()}`, null, { name: `id_${datatype.toLowerCase()}`, backend: 'identity', maxBatchSize: 0, inputs: [tensor('INPUT0')], outputs: [tensor('OUTPUT0')] });
    }
    t = await startTestServer([repository]);
    http = new HttpClient(`http://127.0.0.1:${t.server.httpPort}`);
  });
  after(async () => {
    await t.stop();
  });

  for (const [datatype, { send, back, bytes }] of Object.entries(CASES)) {
    it(`${datatype}: JSON nested in, JSON out; flat JSON in, binary out; binary in, JSON out`, async () => {
      const model = `/v2/models/id_${datatype.toLowerCase()}/infer`;
      const nested = await http.post(model, { inputs: [{ name: 'INPUT0', datatype, shape: [1, 3], data: [send] }] });
      assert.equal(nested.status, 200, JSON.stringify(nested.json));
      assert.deepEqual(nested.json.outputs, [{ name: 'OUTPUT0', datatype, shape: [1, 3], data: back }]);
      const flat = await http.post(model, { inputs: [{ name: 'INPUT0', datatype, shape: [1, 3], data: send }], parameters: { binary_data_output: true } });
      assert.equal(flat.status, 200, JSON.stringify(flat.json));
      assert.deepEqual(flat.json.outputs[0].parameters, { binary_data_size: bytes.length });
      assert.deepEqual(flat.binary, bytes, 'the JSON values encode to the datatype\'s raw bytes');
      const binary = await http.inferBinary(`id_${datatype.toLowerCase()}`, {}, [{ name: 'INPUT0', datatype, shape: [1, 3], data: bytes }]);
      assert.equal(binary.status, 200, JSON.stringify(binary.json));
      assert.deepEqual(binary.json.outputs[0].data, back);
    });
  }

  it('writes 64-bit integers digit for digit', async () => {
    const response = await fetch(`${http.base}/v2/models/id_int64/infer`, { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'INT64', shape: [1, 1], data: ['9007199254740993'] }] }) });
    assert.match(await response.text(), /"data":\[9007199254740993\]/);
  });
});
