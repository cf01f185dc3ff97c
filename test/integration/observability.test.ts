import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Metadata, status } from '@grpc/grpc-js';
import { SpanKind } from '@opentelemetry/api';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { EXAMPLE_REPOSITORY, scratchDirectory, testRepository } from '../helpers/fixtures.js';
import { startTestServer, testConfig, type TestServer } from '../helpers/test-server.js';
import { float32Bytes, int32Bytes, int64Bytes } from '../helpers/tensors.js';
import { NereidServer } from '../../src/server.js';
import { createLogging } from '../../src/telemetry/logger.js';
import { ProtoClient } from '../../scripts/lib/grpc-client.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c12666c';
const PARENT = `00-${TRACE_ID}-b7ad6b7169242424-01`;

const simple = (extra: Record<string, unknown> = {}) => ({
  model_name: 'simple',
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16] },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16] },
  ],
  raw_input_contents: [int32Bytes(new Array(16).fill(3)), int32Bytes(new Array(16).fill(4))],
  ...extra,
});

function withTraceparent(value: string): Metadata {
  const metadata = new Metadata();
  metadata.set('traceparent', value);
  return metadata;
}

/** `slow` with one instance and a batching window, so concurrent requests share an execution. */
function batchingRepository(slowDir: string): string {
  const dir = scratchDirectory('traced');
  mkdirSync(path.join(dir, 'batched', '1'), { recursive: true });
  copyFileSync(path.join(slowDir, '1', 'model.onnx'), path.join(dir, 'batched', '1', 'model.onnx'));
  const config = readFileSync(path.join(slowDir, 'config.pbtxt'), 'utf8').replace('name: "slow"', 'name: "batched"');
  writeFileSync(path.join(dir, 'batched', 'config.pbtxt'), `${config}\ninstance_group [ { count: 1 kind: KIND_CPU } ]\ndynamic_batching { max_queue_delay_microseconds: 100000 }\n`);
  return dir;
}

/** Collects JSON log lines written by a test server's logger. */
function logSink(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines };
}

describe('observability: traces, metrics, logs and the settings RPCs', () => {
  let t: TestServer;
  const sink = logSink();

  before(async () => {
    const tests = await testRepository();
    t = await startTestServer([EXAMPLE_REPOSITORY, batchingRepository(path.join(tests, 'slow'))], {
      flags: ['--trace-config', 'level=TIMESTAMPS,rate=1'],
      logging: createLogging({ level: 'info', format: 'json', destination: sink.stream }),
    });
  });
  after(async () => {
    await t.stop();
  });

  it('traces a request: a server span continuing the caller, and its four phases in order', async () => {
    t.spans.reset();
    const started = Date.now();
    await t.client.call('ModelInfer', simple({ id: 'traced-1' }), { metadata: withTraceparent(PARENT) });
    const finished = Date.now();
    const spans = t.spans.getFinishedSpans();
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
    assert.ok(server !== undefined, 'a server span');
    assert.equal(server.name, 'inference.GRPCInferenceService/ModelInfer');
    assert.equal(server.spanContext().traceId, TRACE_ID, 'continues the incoming trace');
    assert.equal(server.parentSpanContext?.spanId, 'b7ad6b7169242424', 'child of the caller span');
    assert.deepEqual(
      [server.attributes['rpc.system'], server.attributes['rpc.service'], server.attributes['rpc.method'], server.attributes['rpc.grpc.status_code']],
      ['grpc', 'inference.GRPCInferenceService', 'ModelInfer', 0],
      'RPC semantic conventions',
    );
    const phases = spans.filter((s) => s.parentSpanContext?.spanId === server.spanContext().spanId);
    assert.deepEqual(phases.map((s) => s.name).sort(), ['compute', 'd2h', 'h2d', 'queue'], 'the four phases');
    const ms = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6;
    const ordered = [...phases].sort((a, b) => ms(a.startTime) - ms(b.startTime));
    assert.deepEqual(ordered.map((s) => s.name), ['queue', 'h2d', 'compute', 'd2h'], 'phases in order');
    for (let i = 1; i < ordered.length; i++) {
      assert.ok(Math.abs(ms(ordered[i]!.startTime) - ms(ordered[i - 1]!.endTime)) < 0.001, `${ordered[i]!.name} starts where ${ordered[i - 1]!.name} ended`);
    }
    const total = ordered.reduce((sum, s) => sum + (ms(s.endTime) - ms(s.startTime)), 0);
    assert.ok(total <= ms(server.endTime) - ms(server.startTime) + 0.001, `phases (${total} ms) fit in the request span`);
    assert.ok(ms(server.startTime) >= started - 1 && ms(server.endTime) <= finished + 1, 'server span within the call');
    const compute = phases.find((s) => s.name === 'compute')!;
    for (const key of ['nereid.model.name', 'nereid.model.version', 'nereid.request.id', 'nereid.batch.size', 'nereid.instance', 'nereid.execution_provider', 'nereid.device', 'nereid.instance.lane', 'nereid.phase.covers']) {
      assert.ok(compute.attributes[key] !== undefined, `compute span has ${key}`);
    }
    assert.equal(compute.attributes['nereid.request.id'], 'traced-1');
    assert.equal(compute.attributes['nereid.execution_provider'], 'cpu');
    assert.match(String(phases.find((s) => s.name === 'h2d')!.attributes['nereid.phase.covers']), /host staging copy/);
  });

  it('honours an incoming unsampled traceparent (parent-based sampling)', async () => {
    t.spans.reset();
    await t.client.call('ModelInfer', simple(), { metadata: withTraceparent(`00-${TRACE_ID}-b7ad6b7169242424-00`) });
    assert.equal(t.spans.getFinishedSpans().length, 0, 'no spans for an unsampled parent');
  });

  it('links the requests of a batch with one batch span, both ways', async () => {
    t.spans.reset();
    const request = (seed: number) => ({
      model_name: 'batched',
      inputs: [
        { name: 'INPUT0', datatype: 'FP32', shape: [1, 16] },
        { name: 'DELAY', datatype: 'INT64', shape: [1, 1] },
      ],
      raw_input_contents: [float32Bytes(new Array(16).fill(seed)), int64Bytes([10])],
    });
    await Promise.all([1, 2, 3].map((k) => t.client.call('ModelInfer', request(k))));
    const spans = t.spans.getFinishedSpans();
    const batches = spans.filter((s) => s.name === 'batch');
    assert.equal(batches.length, 1, 'one execution');
    const batch = batches[0]!;
    assert.equal(batch.attributes['nereid.batch.size'], 3);
    const servers = spans.filter((s) => s.kind === SpanKind.SERVER);
    assert.deepEqual(
      batch.links.map((l) => l.context.spanId).sort(),
      servers.map((s) => s.spanContext().spanId).sort(),
      'the batch span links every request',
    );
    for (const compute of spans.filter((s) => s.name === 'compute')) {
      assert.deepEqual(compute.links.map((l) => l.context.spanId), [batch.spanContext().spanId], "each request's compute links the batch");
    }
  });

  it('metrics on /metrics equal ModelStatistics for the same traffic', async () => {
    for (let i = 0; i < 3; i++) await t.client.call('ModelInfer', simple());
    const text = await (await fetch(`http://127.0.0.1:${t.server.metricsPort}/metrics`)).text();
    const value = (name: string, labels = 'model="simple",version="1"') => {
      const match = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text);
      assert.ok(match !== null, `${name}{${labels}} in the scrape`);
      return Number(match[1]);
    };
    const stats = (await t.client.call<{ model_stats: any[] }>('ModelStatistics', { name: 'simple' })).model_stats[0];
    const is = stats.inference_stats;
    assert.equal(value('nv_inference_request_success'), is.success.count);
    assert.equal(value('nv_inference_count'), stats.inference_count);
    assert.equal(value('nv_inference_exec_count'), stats.execution_count);
    assert.equal(value('nv_inference_request_duration_us'), Math.floor(is.success.ns / 1000));
    assert.equal(value('nv_inference_queue_duration_us'), Math.floor(is.queue.ns / 1000));
    assert.equal(value('nv_inference_compute_input_duration_us'), Math.floor(is.compute_input.ns / 1000));
    assert.equal(value('nv_inference_compute_infer_duration_us'), Math.floor(is.compute_infer.ns / 1000));
    assert.equal(value('nv_inference_compute_output_duration_us'), Math.floor(is.compute_output.ns / 1000));
    assert.equal(value('nv_inference_request_failure', 'model="simple",version="1",reason="BACKEND"'), 0);
    assert.equal(value('nv_inference_pending_request_count'), 0);
    const perPrecision = 'model="simple",version="1",precision="fp32"';
    assert.equal(value('nereid_inference_request_duration_seconds_count', perPrecision), is.success.count, 'the latency histogram saw every success');
    assert.ok(value('nereid_inference_batch_size_sum', perPrecision) >= stats.inference_count, 'batch size histogram');
    assert.equal(value('nereid_precision_inference_count', perPrecision), stats.inference_count, 'a model without precision settings runs fp32');
    assert.equal(value('nereid_precision_request_success', perPrecision), is.success.count);
    const lanes = [...text.matchAll(/^nereid_instance_executions_total\{model="simple",version="1",lane="(simple_\d+_\d+)",provider="cpu",device="cpu:0"\} (\S+)$/gm)];
    assert.ok(lanes.length > 0, 'executions per instance lane, with provider and device');
    assert.equal(lanes.reduce((sum, m) => sum + Number(m[2]), 0), stats.execution_count, 'the lanes share every execution');
    assert.match(text, /^nodejs_eventloop_lag_seconds /m, 'event-loop metrics');
    assert.match(text, /^process_cpu_user_seconds_total /m, 'process metrics');
  });

  it('logs one line per failed request, with trace_id and span_id', async () => {
    sink.lines.length = 0;
    await assertGrpcError(t.client.call('ModelInfer', simple({ id: 'broken-1', model_version: 'x' }), { metadata: withTraceparent(PARENT) }), status.INVALID_ARGUMENT, /version string 'x'/);
    const failures = sink.lines.filter((l) => l['msg'] === 'inference request failed');
    assert.equal(failures.length, 1, 'one line');
    const line = failures[0]!;
    assert.equal(line['request_id'], 'broken-1');
    assert.equal(line['trace_id'], TRACE_ID);
    assert.match(String(line['span_id']), /^[\da-f]{16}$/);
    assert.equal(line['code'], 'INVALID_ARGUMENT');
    assert.equal(line['error_id'], 'MODEL_VERSION_INVALID');
  });

  it('TraceSetting reads and updates settings globally and per model, with Triton errors', async () => {
    type Reply = { settings: Record<string, { value: string[] }> };
    const get = async (model = '', settings: Record<string, { value: string[] }> = {}) =>
      (await t.client.call<Reply>('TraceSetting', { model_name: model, settings })).settings;
    const flat = (s: Record<string, { value: string[] }>) => Object.fromEntries(['trace_level', 'trace_rate', 'trace_mode'].map((k) => [k, s[k]!.value.join(',')]));
    assert.deepEqual(flat(await get()), { trace_level: 'TIMESTAMPS', trace_rate: '1', trace_mode: 'opentelemetry' });
    assert.deepEqual(flat(await get('simple', { trace_rate: { value: ['5'] }, trace_level: { value: ['OFF'] } })), { trace_level: 'OFF', trace_rate: '5', trace_mode: 'opentelemetry' });
    t.spans.reset();
    await t.client.call('ModelInfer', simple());
    assert.equal(t.spans.getFinishedSpans().length, 0, 'tracing is off for simple');
    assert.deepEqual(flat(await get('simple', { trace_level: { value: [] }, trace_rate: { value: [] } })), flat(await get()), 'empty values clear the override');
    assert.deepEqual(flat(await get('', { trace_rate: { value: ['1'] } })), { trace_level: 'TIMESTAMPS', trace_rate: '1', trace_mode: 'opentelemetry' });
    const invalid = (settings: Record<string, { value: string[] }>, message: string | RegExp, model = '') =>
      assertGrpcError(t.client.call('TraceSetting', { model_name: model, settings }), status.INVALID_ARGUMENT, message);
    await invalid({ trace_rate: { value: ['fast'] } }, "Unable to parse 'trace_rate', got: fast");
    await invalid({ trace_rate: { value: ['1', '2'] } }, "expect only 1 value for 'trace_rate'");
    await invalid({ trace_count: { value: ['-2'] } }, "Unable to parse 'trace_count'. Expecting value >= -1, got: -2");
    await invalid({ trace_level: { value: ['OFF', 'TIMESTAMPS'] } }, "Expect only one trace level 'OFF' is specified");
    await invalid({ trace_level: { value: ['TENSORS'] } }, "trace level 'TENSORS' is not supported in opentelemetry mode");
    await invalid({ trace_rate: { value: ['2'] } }, 'Request for unknown model : nope', 'nope');
    await assertGrpcError(
      t.client.call('TraceSetting', { settings: { trace_file: { value: ['/tmp/x'] } } }),
      status.UNIMPLEMENTED,
      'trace file location can not be updated through network protocol',
    );
  });

  it('LogSettings reads and updates the log levels, with Triton errors', async () => {
    type Reply = { settings: Record<string, Record<string, unknown>> };
    const set = (settings: Record<string, unknown>) => t.client.call<Reply>('LogSettings', { settings });
    const before = (await set({})).settings;
    assert.equal(before['log_info']!['bool_param'], true);
    assert.equal(before['log_verbose_level']!['uint32_param'], 0);
    sink.lines.length = 0;
    const after = (await set({ log_info: { bool_param: false }, log_warning: { bool_param: false }, log_format: { string_param: 'default' } })).settings;
    assert.equal(after['log_info']!['bool_param'], false);
    assert.equal(after['log_format']!['string_param'], 'default');
    await assertGrpcError(t.client.call('ModelInfer', simple({ model_version: 'x' })), status.INVALID_ARGUMENT, /version string/);
    assert.equal(sink.lines.filter((l) => l['msg'] === 'inference request failed').length, 0, 'info lines are off now');
    await set({ log_info: { bool_param: true }, log_warning: { bool_param: true }, log_format: { string_param: 'ISO8601' } });
    const invalid = (settings: Record<string, unknown>, message: string) => assertGrpcError(set(settings), status.INVALID_ARGUMENT, message);
    await invalid({ log_info: { string_param: 'yes' } }, "expect boolean for 'log_info'");
    await invalid({ log_verbose_level: { bool_param: true } }, "expect int32 for 'log_verbose_level'");
    await invalid({ log_format: { string_param: 'pretty' } }, 'invalid argument for log_format, got: pretty');
    await assertGrpcError(set({ log_file: { string_param: '/tmp/log' } }), status.UNIMPLEMENTED, 'log file location can not be updated through network protocol');
  });
});

describe('OTLP/HTTP export', () => {
  /** Serves `simple` once with every request traced to a real OTLP/HTTP receiver; returns what it received. */
  async function exportOnce(extra: string): Promise<{ path: string; contentType: string; body: Buffer }[]> {
    const posts: { path: string; contentType: string; body: Buffer }[] = [];
    const receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const contentType = request.headers['content-type'] ?? '';
        posts.push({ path: request.url ?? '', contentType, body: Buffer.concat(chunks) });
        // An empty ExportTraceServiceResponse in the request's encoding.
        if (contentType === 'application/json') response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        else response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const port = (receiver.address() as { port: number }).port;
    const { logger, settings } = createLogging({ level: 'silent', format: 'json' });
    const traceConfig = `level=TIMESTAMPS,rate=1,url=http://127.0.0.1:${port}/v1/traces,resource=deployment.environment=test${extra}`;
    const server = await NereidServer.start(testConfig([EXAMPLE_REPOSITORY], ['--trace-config', traceConfig]), { logger, logControl: settings });
    const client = new ProtoClient(`127.0.0.1:${server.port}`);
    try {
      await client.call('ModelInfer', simple({ id: 'exported' }));
    } finally {
      client.close();
      await server.stop();
      receiver.close();
    }
    for (let i = 0; i < 50 && posts.length === 0; i++) await sleep(20);
    assert.ok(posts.length > 0, 'the receiver got an export');
    return posts;
  }

  const SPANS = ['inference.GRPCInferenceService/ModelInfer', 'queue', 'h2d', 'compute', 'd2h', 'batch'];

  it('sends the spans as OTLP protobuf by default', async () => {
    const posts = await exportOnce('');
    for (const post of posts) {
      assert.equal(post.path, '/v1/traces', 'posted to the OTLP traces path');
      assert.equal(post.contentType, 'application/x-protobuf');
    }
    const body = Buffer.concat(posts.map((p) => p.body));
    assert.notEqual(body[0], '{'.charCodeAt(0), 'not JSON');
    // Protobuf carries strings as length-prefixed UTF-8: each span name is a field of exactly its length.
    for (const name of SPANS) {
      const bytes = Buffer.from(name);
      const at = body.indexOf(Buffer.concat([Buffer.from([bytes.length]), bytes]));
      assert.ok(at > 0, `span ${name} exported`);
    }
    assert.ok(body.includes('deployment.environment'), 'resource attributes exported');
  });

  it('sends the spans as OTLP JSON with protocol=http/json', async () => {
    const posts = await exportOnce(',protocol=http/json');
    assert.deepEqual([...new Set(posts.map((p) => `${p.path} ${p.contentType}`))], ['/v1/traces application/json']);
    const spans = posts.flatMap((p) => {
      const payload = JSON.parse(p.body.toString()) as { resourceSpans: { resource: { attributes: { key: string }[] }; scopeSpans: { spans: { name: string }[] }[] }[] };
      return payload.resourceSpans.flatMap((r) => {
        assert.ok(r.resource.attributes.some((a) => a.key === 'deployment.environment'), 'resource attributes exported');
        return r.scopeSpans.flatMap((s) => s.spans.map((span) => span.name));
      });
    });
    for (const name of SPANS) assert.ok(spans.includes(name), `span ${name} exported`);
  });
});
