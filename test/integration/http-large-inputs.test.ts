import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { EXAMPLE_REPOSITORY } from '../helpers/fixtures.js';
import { binaryBody, HttpClient } from '../helpers/http-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { bytesTensor, readBytesTensor } from '../helpers/tensors.js';

/** A BYTES element of `size` bytes, all `fill`: bodies of 32 KiB or more are read into pooled memory. */
const element = (size: number, fill: number) => Buffer.alloc(size, fill);

describe('HTTP: large binary inputs in pooled memory', () => {
  let t: TestServer;
  let http: HttpClient;
  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY]);
    http = new HttpClient(`http://127.0.0.1:${t.server.httpPort}`);
  });
  after(async () => t.stop());

  const echo = (elements: Buffer[], headers: Record<string, string> = {}) =>
    http.inferBinary('simple_identity', { parameters: { binary_data_output: true } }, [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, elements.length], data: bytesTensor(elements) }], headers);

  it('answers each of many concurrent large requests with its own inputs, again and again (buffers reused only once free)', async () => {
    for (let round = 0; round < 3; round++) {
      const sent = Array.from({ length: 16 }, (_, i) => [element(40_000 + i * 5000, round * 16 + i), element(100, 255 - i)]);
      const replies = await Promise.all(sent.map((elements) => echo(elements)));
      replies.forEach((reply, i) => {
        assert.equal(reply.status, 200, JSON.stringify(reply.json));
        assert.deepEqual(readBytesTensor(reply.binary), sent[i], `round ${round}, request ${i}`);
      });
    }
  });

  it('takes large bodies compressed, and sized just past and under the pooling threshold', async () => {
    const elements = [element(200_000, 7)];
    const { body, headerLength } = binaryBody({ parameters: { binary_data_output: true } }, [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 1], data: bytesTensor(elements) }]);
    const gz = await http.post('/v2/models/simple_identity/infer', gzipSync(body), { 'inference-header-content-length': String(headerLength), 'content-encoding': 'gzip' });
    assert.equal(gz.status, 200, JSON.stringify(gz.json));
    assert.deepEqual(readBytesTensor(gz.binary), elements);
    for (const size of [32 * 1024 - 300, 32 * 1024, 70_000]) {
      const reply = await echo([element(size, 3)]);
      assert.deepEqual(readBytesTensor(reply.binary), [element(size, 3)], `${size} bytes`);
    }
  });

  it("serves a sequence whose requests' bodies are large (kept out of the pool) while large requests of other models reuse pooled buffers", async () => {
    // Triton's sync sequence client on simple_sequence, each body padded past 32 KiB with a key the decoder ignores.
    const values = [100, -11, -7, -5, -3, -2, 0, -1];
    const out: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const parameters = { sequence_id: 1001, sequence_start: i === 0, sequence_end: i === values.length - 1 };
      const body = JSON.stringify({ padding: 'x'.repeat(40_000), parameters, inputs: [{ name: 'INPUT', datatype: 'INT32', shape: [1, 1], data: [values[i]] }] });
      const [reply, other] = await Promise.all([http.post('/v2/models/simple_sequence/infer', body, { 'content-type': 'application/json' }), echo([element(50_000, i)])]);
      assert.equal(reply.status, 200, JSON.stringify(reply.json));
      out.push(reply.json.outputs[0].data[0]);
      assert.deepEqual(readBytesTensor(other.binary), [element(50_000, i)]);
    }
    assert.deepEqual(out, [101, 11, 7, 5, 3, 2, 0, 1].map((v, i) => (i === 0 ? v : -v || 0)));
  });

  it('a large request refused (binary size wrong) or cancelled by its client leaves the server serving large requests correctly', async () => {
    const elements = [element(60_000, 9)];
    const { body, headerLength } = binaryBody({}, [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 1], data: bytesTensor(elements) }]);
    const short = await http.post('/v2/models/simple_identity/infer', body.subarray(0, body.length - 10), { 'inference-header-content-length': String(headerLength) });
    assert.equal(short.status, 400);
    assert.match(short.json.error, /unexpected size for input 'INPUT0', expecting 10 additional bytes/);
    const controller = new AbortController();
    const aborted = fetch(`http://127.0.0.1:${t.server.httpPort}/v2/models/simple_identity/infer`, {
      method: 'POST',
      body,
      headers: { 'inference-header-content-length': String(headerLength) },
      signal: controller.signal,
    }).catch(() => undefined);
    controller.abort();
    await aborted;
    const again = await Promise.all([1, 2, 3, 4].map((i) => echo([element(50_000, i)])));
    again.forEach((reply, i) => assert.deepEqual(readBytesTensor(reply.binary), [element(50_000, i + 1)]));
    assert.equal((await http.get('/v2/health/ready')).status, 200);
  });
});
