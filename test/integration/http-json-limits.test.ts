import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { EXAMPLE_REPOSITORY } from '../helpers/fixtures.js';
import { HttpClient } from '../helpers/http-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const TYPED = 1000;
const INPUTS = 4;
/** --max-typed-elements plus 80 values of structure per --max-request-inputs. */
const BUDGET = TYPED + INPUTS * 80;
const TOO_MANY = `the request JSON holds more than ${BUDGET} values (${TYPED} for tensor 'data', ${BUDGET - TYPED} for the rest), the most this server parses; send large tensors as binary data ('binary_data_size') (--max-typed-elements)`;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const simpleInputs = [
  { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: range(16) },
  { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: range(16).map(() => 1) },
];

describe('HTTP: request JSON bounded by the request limits before it is parsed', () => {
  let t: TestServer;
  let http: HttpClient;
  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY], { flags: ['--max-typed-elements', String(TYPED), '--max-request-inputs', String(INPUTS)] });
    http = new HttpClient(`http://127.0.0.1:${t.server.httpPort}`);
  });
  after(async () => t.stop());

  const healthy = async () => {
    assert.equal((await http.get('/v2/health/ready')).status, 200, 'the server is still ready');
    const reply = await http.post('/v2/models/simple/infer', { inputs: simpleInputs });
    assert.equal(reply.status, 200, 'and still serves inference');
    assert.deepEqual(reply.json.outputs[0].data, range(16).map((x) => x + 1));
  };

  it('takes a request whose data has --max-typed-elements elements', async () => {
    const strings = range(TYPED).map((i) => `s${i}`);
    const reply = await http.post('/v2/models/simple_identity/infer', { inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, TYPED], data: strings }] });
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    assert.deepEqual(reply.json.outputs[0].data, strings);
  });

  it('refuses, before parsing, data of more values than the budget, however they are shaped', async () => {
    const many = (item: string) => `[${Array.from({ length: BUDGET + 1 }, () => item).join(',')}]`;
    const bodies: [string, string][] = [
      ['empty arrays', `{"inputs":[{"name":"INPUT0","datatype":"INT32","shape":[1,16],"data":${many('[]')}}]}`],
      ['objects', `{"inputs":[{"name":"INPUT0","datatype":"INT32","shape":[1,16],"data":${many('{}')}}]}`],
      ['numbers', `{"inputs":[{"name":"INPUT0","datatype":"INT32","shape":[1,16],"data":${many('0')}}]}`],
      // The decoder would ignore this key; the parse would have allocated it all the same.
      ['a key the decoder ignores', `{"padding":${many('[]')},"inputs":${JSON.stringify(simpleInputs)}}`],
      // Under the per-input bound each, over it together.
      ['spread over inputs', JSON.stringify({ inputs: range(3).map((i) => ({ name: `IN${i}`, datatype: 'INT32', shape: [500], data: range(500) })) })],
    ];
    for (const [what, body] of bodies) {
      const reply = await http.post('/v2/models/simple/infer', body, { 'content-type': 'application/json' });
      assert.equal(reply.status, 400, what);
      assert.deepEqual(reply.json, { error: TOO_MANY }, what);
    }
    await healthy();
  });

  it('counts only JSON structure: commas and brackets inside strings are text', async () => {
    const text = '[],{},'.repeat(BUDGET);
    const reply = await http.post('/v2/models/simple_identity/infer', { inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 2], data: [text, 'a\\"],'] }] });
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    assert.deepEqual(reply.json.outputs[0].data, [text, 'a\\"],']);
  });

  it('refuses nesting deeper than a tensor needs', async () => {
    const deep = `{"inputs":[{"name":"INPUT0","datatype":"INT32","shape":[1,16],"data":${'['.repeat(200)}${']'.repeat(200)}}]}`;
    const reply = await http.post('/v2/models/simple/infer', deep, { 'content-type': 'application/json' });
    assert.equal(reply.status, 400);
    assert.equal(reply.json.error, 'the request JSON nests deeper than 72 levels; a tensor has at most 64 dims (--max-tensor-elements)');
    await healthy();
  });

  it('scans a compressed body once inflated, the JSON header of a binary request, and the bodies of other routes', async () => {
    const hostile = `{"inputs":[{"name":"INPUT0","datatype":"INT32","shape":[1,16],"data":[${'[],'.repeat(BUDGET)}[]]}]}`;
    const gzipped = await http.post('/v2/models/simple/infer', gzipSync(hostile), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.deepEqual([gzipped.status, gzipped.json], [400, { error: TOO_MANY }]);
    const binary = Buffer.concat([Buffer.from(hostile), Buffer.alloc(64)]);
    const withTail = await http.post('/v2/models/simple/infer', binary, { 'inference-header-content-length': String(hostile.length) });
    assert.deepEqual([withTail.status, withTail.json], [400, { error: TOO_MANY }]);
    const index = await http.post('/v2/repository/index', `{"ready":false,"padding":[${'[],'.repeat(BUDGET)}[]]}`, { 'content-type': 'application/json' });
    assert.deepEqual([index.status, index.json], [400, { error: TOO_MANY }]);
    await healthy();
  });
});
