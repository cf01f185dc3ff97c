import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { SpanKind } from '@opentelemetry/api';
import { EXAMPLE_REPOSITORY, SIMPLE_METADATA } from '../helpers/fixtures.js';
import { binaryBody, HttpClient } from '../helpers/http-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { int32Bytes, readInt32 } from '../helpers/tensors.js';
import { waitUntil } from '../helpers/wait-until.js';

const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
const A = range(16, (i) => i);
const B = range(16, () => 1);
const SUM = A.map((x, i) => x + B[i]!);
const DIFF = A.map((x, i) => x - B[i]!);
const simpleJson = (extra: Record<string, unknown> = {}) => ({
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: [A] },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: B },
  ],
  ...extra,
});
const simpleBinary = [
  { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: int32Bytes(A) },
  { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: int32Bytes(B) },
];
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c12666c-b7ad6b7169242424-01';

describe('HTTP/REST endpoint (KServe v2 REST with Triton extensions)', () => {
  let t: TestServer;
  let http: HttpClient;
  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY], { flags: ['--grpc-max-receive-message-bytes', '65536', '--trace-config', 'level=TIMESTAMPS,rate=1'] });
    http = new HttpClient(`http://127.0.0.1:${t.server.httpPort}`);
  });
  after(async () => {
    await t.stop();
  });

  const healthy = async () => {
    assert.equal((await http.get('/v2/health/ready')).status, 200, 'the server is still ready');
    const reply = await http.post('/v2/models/simple/infer', simpleJson());
    assert.equal(reply.status, 200, 'and still serves inference');
  };

  it('health, server metadata, model metadata, readiness and config', async () => {
    assert.equal((await http.get('/v2/health/live')).status, 200);
    assert.equal((await http.get('/v2/health/ready')).status, 200);
    const server = await http.get('/v2');
    assert.equal(server.json.name, 'nereid');
    assert.ok(server.json.extensions.includes('binary_tensor_data'));
    const metadata = await http.get('/v2/models/simple');
    assert.deepEqual(metadata.json, SIMPLE_METADATA);
    assert.deepEqual((await http.get('/v2/models/simple/versions/1')).json.versions, ['1']);
    assert.equal((await http.get('/v2/models/simple/ready')).status, 200);
    assert.equal((await http.get('/v2/models/simple/versions/1/ready')).status, 200);
    assert.deepEqual(await http.get('/v2/models/nope/ready').then((r) => [r.status, r.json]), [400, { error: 'Model version not ready' }]);
    const config = (await http.get('/v2/models/simple/config')).json;
    assert.equal(config.name, 'simple');
    assert.equal(config.max_batch_size, 8);
    assert.deepEqual([config.input[0].data_type, config.input[0].dims], ['TYPE_INT32', [16]], "proto field names, enums by name, int64s as numbers (Triton's JSON)");
    assert.deepEqual(await http.get('/v2/models/nope/config').then((r) => [r.status, r.json]), [404, { error: "Request for unknown model: 'nope' is not found" }]);
    assert.deepEqual(await http.get('/v2/models/simple/versions/7').then((r) => [r.status, r.json]), [404, { error: "Request for unknown model: 'simple' version 7 is not found" }]);
  });

  it('infers with JSON data in and out: nested or flat, id echoed, outputs in the requested order', async () => {
    const reply = await http.post('/v2/models/simple/infer', simpleJson({ id: 'json-1', outputs: [{ name: 'OUTPUT1' }, { name: 'OUTPUT0' }] }));
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('content-type'), 'application/json');
    assert.deepEqual(reply.json, {
      id: 'json-1',
      model_name: 'simple',
      model_version: '1',
      outputs: [
        { name: 'OUTPUT1', datatype: 'INT32', shape: [1, 16], data: DIFF },
        { name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16], data: SUM },
      ],
    });
    const versioned = await http.post('/v2/models/simple/versions/1/infer', simpleJson());
    assert.equal(versioned.json.model_version, '1');
    assert.equal('id' in versioned.json, false, 'no id when none was sent');
  });

  it('binary tensor data both ways: Inference-Header-Content-Length, binary_data_size, binary_data_output and per-output binary_data', async () => {
    const all = await http.inferBinary('simple', { parameters: { binary_data_output: true } }, simpleBinary);
    assert.equal(all.status, 200);
    assert.equal(all.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual(all.json.outputs, [
      { name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } },
      { name: 'OUTPUT1', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } },
    ]);
    assert.deepEqual(readInt32(all.binary.subarray(0, 64)), SUM);
    assert.deepEqual(readInt32(all.binary.subarray(64)), DIFF);
    // binary_data on an output overrides the request's default, both ways.
    const mixed = await http.inferBinary('simple', { parameters: { binary_data_output: true }, outputs: [{ name: 'OUTPUT0', parameters: { binary_data: false } }, { name: 'OUTPUT1' }] }, simpleBinary);
    assert.deepEqual(mixed.json.outputs[0].data, SUM);
    assert.deepEqual(readInt32(mixed.binary), DIFF);
    const one = await http.inferBinary('simple', { outputs: [{ name: 'OUTPUT1', parameters: { binary_data: true } }] }, simpleBinary);
    assert.deepEqual(one.json.outputs, [{ name: 'OUTPUT1', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } }]);
    assert.equal(one.headers.get('inference-header-content-length'), String(Buffer.byteLength(JSON.stringify(one.json))));
    // Binary and JSON inputs mixed in one request.
    const half = await http.inferBinary('simple', { inputs: [] }, [simpleBinary[0]!]).catch(() => undefined);
    assert.equal(half?.status, 400, 'a missing input is a client error');
  });

  it('compression: gzip and deflate request bodies, responses as Accept-Encoding asks', async () => {
    const body = JSON.stringify(simpleJson());
    for (const [encoding, pack, unpack] of [
      ['gzip', gzipSync, gunzipSync],
      ['deflate', deflateSync, inflateSync],
    ] as const) {
      const response = await fetch(`${http.base}/v2/models/simple/infer`, {
        method: 'POST',
        body: pack(body),
        headers: { 'content-encoding': encoding, 'accept-encoding': `identity;q=0.5, ${encoding}` },
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-encoding'), encoding);
      // fetch decodes the body itself; read it raw to see the server compressed it.
      const raw = await new Promise<Buffer>((resolve, reject) => {
        const socket = connect(t.server.httpPort, '127.0.0.1');
        const packed = pack(body);
        socket.write(`POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Encoding: ${encoding}\r\nAccept-Encoding: ${encoding}\r\nContent-Length: ${packed.length}\r\n\r\n`);
        socket.write(packed);
        const chunks: Buffer[] = [];
        socket.on('data', (c) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
      });
      const payload = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
      assert.deepEqual(JSON.parse(unpack(payload).toString()).outputs[0].data, SUM, `${encoding} response decodes to the outputs`);
    }
    // Binary outputs are compressed too; Inference-Header-Content-Length stays the JSON's uncompressed length.
    const binary = await http.inferBinary('simple', { parameters: { binary_data_output: true } }, simpleBinary, { 'accept-encoding': 'gzip' });
    assert.equal(binary.headers.get('content-encoding'), 'gzip');
    assert.deepEqual(readInt32(binary.binary.subarray(0, 64)), SUM);
    const unknown = await fetch(`${http.base}/v2/models/simple/infer`, { method: 'POST', body, headers: { 'content-encoding': 'br' } });
    assert.equal(unknown.status, 501);
    assert.equal(unknown.headers.get('accept-encoding'), 'gzip, deflate');
    assert.deepEqual(await unknown.json(), { error: 'Unsupported compression type' });
    await healthy();
  });

  it("every bad request gets Triton's status and {\"error\": ...}, and the server stays healthy", async () => {
    const infer = (body: unknown, headers: Record<string, string> = {}) => http.post('/v2/models/simple/infer', body, headers);
    const cases: [string, Promise<{ status: number; json: unknown }>, number, string | RegExp][] = [
      ['bad JSON', infer('{"inputs": ['), 400, /^failed to parse the request JSON buffer: /],
      ['JSON not an object', infer('[1]'), 400, 'the request JSON must be an object'],
      ['Inference-Header-Content-Length not a number', infer(JSON.stringify(simpleJson()), { 'inference-header-content-length': 'ten' }), 400, 'Unable to parse Inference-Header-Content-Length, got: ten'],
      ['Inference-Header-Content-Length past the body', infer('{}', { 'inference-header-content-length': '99' }), 400, 'inference header size should be in range (0, 2), got: 99'],
      [
        'binary data shorter than binary_data_size',
        (() => {
          const { body, headerLength } = binaryBody({}, simpleBinary);
          return infer(body.subarray(0, body.length - 8), { 'inference-header-content-length': String(headerLength) });
        })(),
        400,
        "unexpected size for input 'INPUT1', expecting 8 additional bytes for model 'simple'",
      ],
      [
        'extra bytes after the binary inputs',
        (() => {
          const { body, headerLength } = binaryBody({}, simpleBinary);
          return infer(Buffer.concat([body, Buffer.alloc(4)]), { 'inference-header-content-length': String(headerLength) });
        })(),
        400,
        "unexpected additional input data for model 'simple'",
      ],
      ['unknown model', http.post('/v2/models/nope/infer', simpleJson()), 404, "Request for unknown model: 'nope' is not found"],
      [
        'wrong datatype',
        infer({ inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 16], data: A }, simpleJson().inputs[1]] }),
        400,
        "[request id: <id_unknown>] inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'",
      ],
      ['wrong shape', infer({ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 8], data: A.slice(0, 8) }, simpleJson().inputs[1]] }), 400, /^\[request id: <id_unknown>\] unexpected shape for input 'INPUT0' for model 'simple'. Expected \[-1,16\], got \[1,8\]/],
      ['data not matching the shape', infer({ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: A.slice(0, 3) }, simpleJson().inputs[1]] }), 400, "unable to parse 'data' of input 'INPUT0' of model 'simple': its shape [1,16] has 16 elements, 'data' has 3"],
      ['a value out of the datatype', infer({ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 1], data: [2 ** 31] }] }), 400, "unable to parse 'data' of input 'INPUT0' of model 'simple': element 0 is 2147483648, expected an integer from -2147483648 to 2147483647 (INT32)"],
      ['two sources for an input', infer({ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: A, parameters: { binary_data_size: 64 } }] }), 400, "Input must set only one of the following fields: 'data', 'binary_data_size' in 'parameters', 'shared_memory_region' in 'parameters'. But set 'data' 'binary_data_size'"],
      ['a parameter of no JSON type Triton takes', infer(simpleJson({ parameters: { priority: [1] } })), 400, "parameter 'priority' has invalid type. It should be either 'int', 'bool', or 'string'."],
      ['an unknown precision', infer(simpleJson({ parameters: { precision: 'fp16' } })), 400, /precision/],
      ['body over the request limit', infer(Buffer.alloc(70_000, 32)), 400, 'request body of 70000 bytes is larger than 65536 bytes (--grpc-max-receive-message-bytes)'],
      ['over the limit once decompressed', infer(gzipSync(Buffer.alloc(70_000, 32)), { 'content-encoding': 'gzip' }), 400, 'request body is larger than 65536 bytes once decompressed (--grpc-max-receive-message-bytes)'],
      ['gzip that does not inflate', infer(Buffer.from('not gzip'), { 'content-encoding': 'gzip' }), 400, /^unable to decompress the request body \(gzip\)/],
      ['unknown route', http.get('/v2/nothing/here'), 404, 'Not Found'],
      ['wrong method', http.get('/v2/models/simple/infer'), 405, 'Method Not Allowed'],
      ['statistics of an unknown model', http.get('/v2/models/nope/stats'), 400, "requested model 'nope' is not available"],
      ['trace setting with a version', http.get('/v2/models/simple/versions/1/trace/setting'), 404, 'Not Found'],
    ];
    for (const [what, reply, status, message] of cases) {
      const { status: got, json } = await reply;
      assert.equal(got, status, what);
      const error = (json as { error: string }).error;
      if (typeof message === 'string') assert.equal(error, message, what);
      else assert.match(error, message, what);
    }
    await healthy();
  });

  it('keeps connections alive and answers pipelined requests in order', async () => {
    const body = JSON.stringify(simpleJson({ id: 'second' }));
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(t.server.httpPort, '127.0.0.1');
      // Three requests in one write: the server reads them back to back on one connection.
      socket.write(
        'GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n' +
          `POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
          'GET /v2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      let text = '';
      socket.on('data', (c) => (text += c.toString())).on('end', () => resolve(text)).on('error', reject);
    });
    const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]);
    assert.deepEqual(statuses, ['200', '200', '200']);
    assert.ok(raw.indexOf('"id":"second"') < raw.indexOf('"extensions"'), 'responses in request order');
    assert.match(raw.split('\r\n\r\n')[0]!, /Keep-Alive: timeout=65/i);
  });

  it('statistics, trace and log settings, repository and shared memory routes', async () => {
    const stats = (await http.get('/v2/models/simple/stats')).json.model_stats;
    assert.equal(stats.length, 1);
    assert.equal(stats[0].name, 'simple');
    assert.ok(stats[0].inference_stats.success.count > 0);
    assert.equal(typeof stats[0].inference_stats.success.ns, 'number');
    assert.deepEqual((await http.get('/v2/models/simple/versions/1/stats')).json.model_stats.length, 1);
    assert.ok((await http.get('/v2/models/stats')).json.model_stats.length > 1);

    const trace = await http.post('/v2/models/simple/trace/setting', { trace_rate: '5', trace_level: ['TIMESTAMPS'] });
    assert.equal(trace.status, 200);
    assert.deepEqual([trace.json.trace_rate, trace.json.trace_level, trace.json.trace_mode], ['5', ['TIMESTAMPS'], 'opentelemetry']);
    assert.equal((await http.get('/v2/trace/setting')).json.trace_rate, '1', 'the global setting is unchanged');
    assert.equal((await http.post('/v2/models/simple/trace/setting', { trace_rate: null })).json.trace_rate, '1', 'null clears the override');
    assert.deepEqual(await http.post('/v2/trace/setting', { trace_rate: 'x' }).then((r) => [r.status, r.json]), [400, { error: "Unable to parse 'trace_rate', got: x" }]);
    assert.deepEqual(await http.post('/v2/trace/setting', { trace_file: 'f' }).then((r) => [r.status, r.json]), [501, { error: 'trace file location can not be updated through network protocol' }]);

    const log = await http.post('/v2/logging', { log_verbose_level: 1, log_info: null });
    assert.deepEqual([log.status, log.json.log_verbose_level], [200, 1]);
    assert.equal((await http.post('/v2/logging', { log_verbose_level: 0 })).json.log_verbose_level, 0);
    assert.deepEqual(await http.post('/v2/logging', { log_info: 'yes' }).then((r) => [r.status, r.json]), [400, { error: "expect boolean for 'log_info'" }]);

    const index = await http.post('/v2/repository/index', { ready: true });
    assert.ok(index.json.some((row: { name: string; state: string }) => row.name === 'simple' && row.state === 'READY'));
    assert.deepEqual(await http.post('/v2/repository/models/simple/load').then((r) => r.status), 503, 'model control none: as in Triton');
    assert.deepEqual(await http.post('/v2/repository/other/index').then((r) => [r.status, r.json]), [501, { error: "'repository_name' specification is not supported" }]);

    assert.deepEqual((await http.get('/v2/systemsharedmemory/status')).json, []);
    assert.equal((await http.post('/v2/systemsharedmemory/region/r/register', { key: '/k', byte_size: 64 })).status, 501, 'without --allow-client-shm');
    assert.equal((await http.post('/v2/systemsharedmemory/unregister')).status, 200);
    assert.deepEqual((await http.get('/v2/cudasharedmemory/status')).json, []);
    assert.equal((await http.post('/v2/cudasharedmemory/region/r/register', { raw_handle: { b64: '' }, device_id: 0, byte_size: 4 })).status, 400);
    assert.equal((await http.post('/v2/cudasharedmemory/unregister')).status, 200);
  });

  it('traces an infer call as an HTTP server span continuing the caller (W3C traceparent header)', async () => {
    t.spans.reset();
    const response = await fetch(`${http.base}/v2/models/simple/infer`, { method: 'POST', body: JSON.stringify(simpleJson()), headers: { traceparent: TRACEPARENT } });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    const server = t.spans.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)!;
    assert.equal(server.name, 'POST /v2/models/{model_name}/infer');
    assert.equal(server.spanContext().traceId, '0af7651916cd43dd8448eb211c12666c');
    assert.equal(server.parentSpanContext?.spanId, 'b7ad6b7169242424');
    assert.deepEqual([server.attributes['http.request.method'], server.attributes['http.route'], server.attributes['http.response.status_code']], ['POST', '/v2/models/{model_name}/infer', 200]);
  });
});

describe('HTTP graceful shutdown', () => {
  it('finishes a request in flight, closes its connection, then refuses; the server drains in time', async () => {
    const { testRepository } = await import('../helpers/fixtures.js');
    const t = await startTestServer([await testRepository()]);
    const http = new HttpClient(`http://127.0.0.1:${t.server.httpPort}`);
    const slow = http.post('/v2/models/slow/infer', {
      inputs: [
        { name: 'INPUT0', datatype: 'FP32', shape: [1, 16], data: range(16, (i) => i) },
        { name: 'DELAY', datatype: 'INT64', shape: [1, 1], data: [15000] },
      ],
    });
    const slowModel = t.server.registry.readyModels().find((m) => m.info.name === 'slow')!;
    await waitUntil(() => slowModel.servable.instances().some((i) => i.state === 'busy'), 'the slow request runs');
    const stopped = t.stop();
    const reply = await slow;
    assert.equal(reply.status, 200, 'the request in flight is answered');
    assert.equal(reply.headers.get('connection'), 'close', 'and its connection closed');
    assert.deepEqual(reply.json.outputs[0].data, range(16, (i) => i));
    await stopped;
    await assert.rejects(fetch(`${http.base}/v2/health/live`), 'no longer listening');
  });
});
