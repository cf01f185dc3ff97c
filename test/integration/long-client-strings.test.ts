import assert from 'node:assert/strict';
import { connectivityState, status } from '@grpc/grpc-js';
import { after, afterEach, before, describe, it } from 'node:test';
import { CLIENT_TEXT_MAX_CHARS } from '../../src/core/client-text.js';
import { createLogging } from '../../src/telemetry/logger.js';
import { MAX_STATUS_MESSAGE_BYTES } from '../../src/transport/grpc/status.js';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { watchChannel } from '../helpers/channel-watch.js';
import { EXAMPLE_REPOSITORY, testRepository } from '../helpers/fixtures.js';
import { logSink } from '../helpers/log-sink.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { float32Bytes, int32Bytes, int64Bytes, readFloat32, readInt32, simpleRequest } from '../helpers/tensors.js';
import { waitUntil } from '../helpers/wait-until.js';

/**
 * Issue 16: error messages repeated client strings without limit, and a message past what
 * the client's HTTP/2 stack accepts as a trailer dropped the connection, so every other
 * call on it hung until its deadline. Each finding is replayed here on one channel with
 * calls of a slow model in flight: the bad call gets its usual code and a bounded message
 * that still names the problem, the calls in flight complete, and the channel never
 * leaves READY.
 */

const LONG = 76_000;
const ones = (n: number) => Array.from({ length: n }, () => 1);
const long = (char: string) => char.repeat(LONG);
/** How a long client string appears in a message: its start, then its length. */
const cut = (char: string) => `'${char.repeat(CLIENT_TEXT_MAX_CHARS)}…' (${LONG} characters)`;
const NOTE =
  'NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each ' +
  'input shape. If you want to specify the full shape including the batch dim in your input dims config, try setting ' +
  'max_batch_size to zero. See the model configuration docs for more info on max_batch_size.';
/** Longest message any of these requests may get back (the Triton NOTE alone is 300 characters). */
const MAX_MESSAGE_CHARS = 1024;


/** A `slow` request (OUTPUT0 = INPUT0 after a CPU loop), to keep calls in flight on the channel. */
function slowRequest(seed: number) {
  return {
    model_name: 'slow',
    inputs: [
      { name: 'INPUT0', datatype: 'FP32', shape: [1, 16] },
      { name: 'DELAY', datatype: 'INT64', shape: [1, 1] },
    ],
    raw_input_contents: [float32Bytes(Array.from({ length: 16 }, (_, i) => seed + i)), int64Bytes([5000])],
  };
}

describe('long client strings never drop the connection (issue 16)', () => {
  let t: TestServer;
  const sink = logSink();
  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY, await testRepository()], {
      logging: createLogging({ level: 'info', format: 'json', destination: sink.stream }),
      // Past the default request limits, so that the strings reach every message that quotes them
      // (the limits themselves are test/integration/request-limits.test.ts's).
      flags: ['--max-request-name-bytes', '1000000', '--max-request-inputs', '100000'],
    });
    // The channel is READY before any case runs, so any change of state is a dropped connection.
    await t.client.call('ServerLive', {});
  });
  afterEach(async () => {
    assert.deepEqual(await t.client.call('ServerLive', {}), { live: true });
    const ok = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', simpleRequest());
    assert.deepEqual(readInt32(ok.raw_output_contents[0]!), ones(16).map(() => 2));
  });
  after(async () => {
    await t.stop();
  });

  /**
   * Sends `bad` while slow calls are in flight on the same channel, and checks its status,
   * its message (exact, so it names the problem) and its size; then that the calls in
   * flight and one sent after it complete, and that the channel stayed READY.
   */
  async function replay(bad: () => Promise<unknown>, code: status, message: string | RegExp): Promise<void> {
    assert.equal(t.client.inference.getChannel().getConnectivityState(false), connectivityState.READY);
    const watch = watchChannel(t.client.inference);
    const slow = t.server.registry.get('slow', '').servable;
    const inferencesBefore = slow.statistics().inferenceCount;
    const inFlight = [1, 2, 3].map((seed) => t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', slowRequest(seed), { deadlineMs: 60_000 }));
    await waitUntil(() => slow.instances().some((i) => i.state === 'busy'), 'a slow call is running on the server');
    try {
      const error = await assertGrpcError(bad(), code, message);
      assert.ok(error.details.length <= MAX_MESSAGE_CHARS, `message of ${error.details.length} characters`);
      assert.ok(Buffer.byteLength(encodeURI(error.details)) <= MAX_STATUS_MESSAGE_BYTES);
      const after = t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', simpleRequest(), { deadlineMs: 60_000 });
      const results = await Promise.all(inFlight);
      results.forEach((r, k) => assert.deepEqual(readFloat32(r.raw_output_contents[0]!), Array.from({ length: 16 }, (_, i) => k + 1 + i)));
      assert.deepEqual(readInt32((await after).raw_output_contents[0]!), ones(16).map(() => 2));
      assert.equal(slow.statistics().inferenceCount - inferencesBefore, 3, "the three slow calls were each served once");
      assert.deepEqual(watch.changes, [], 'the channel left READY: the connection was dropped');
    } finally {
      watch.stop();
    }
  }

  const infer = (request: Record<string, unknown>) => () => t.client.call('ModelInfer', request);

  it('a 76,000-character request id', async () => {
    const request = simpleRequest({ id: long('a') });
    request.inputs[0]!.datatype = 'FP32';
    await replay(
      infer(request),
      status.INVALID_ARGUMENT,
      `[request id: ${'a'.repeat(CLIENT_TEXT_MAX_CHARS)}… (${LONG} characters)] inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'`,
    );
  });

  it('a 76,000-character request id of emoji (12 bytes each once percent-encoded)', async () => {
    const request = simpleRequest({ id: long('😀') });
    request.inputs[0]!.shape = [1, 8];
    await replay(
      infer(request),
      status.INVALID_ARGUMENT,
      `[request id: ${'😀'.repeat(CLIENT_TEXT_MAX_CHARS)}… (${LONG} characters)] unexpected shape for input 'INPUT0' for model 'simple'. ` +
        `Expected [-1,16], got [1,8]. ${NOTE}`,
    );
  });

  it('10,000 inputs', async () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `INPUT_${i}`);
    const request = simpleRequest({
      inputs: names.map((name) => ({ name, datatype: 'INT32', shape: [1, 16] })),
      raw_input_contents: names.map(() => Buffer.alloc(0)),
    });
    const shown = names.slice(0, 8).map((n) => `'${n}'`).join(',');
    await replay(
      infer(request),
      status.INVALID_ARGUMENT,
      `[request id: <id_unknown>] expected 2 inputs but got 10000 inputs for model 'simple'. Got input(s) [${shown}, and 9992 more], ` +
        "but missing required input(s) ['INPUT0','INPUT1']. Please provide all required input(s).",
    );
  });

  it('a very long model name', async () => {
    await replay(infer(simpleRequest({ model_name: long('m') })), status.NOT_FOUND, `Request for unknown model: ${cut('m')} is not found`);
  });

  it('a very long model name in ModelMetadata, ModelStatistics and a health check', async () => {
    await replay(() => t.client.call('ModelMetadata', { name: long('m') }), status.NOT_FOUND, `Request for unknown model: ${cut('m')} is not found`);
    await replay(() => t.client.call('ModelStatistics', { name: long('m') }), status.INVALID_ARGUMENT, `requested model ${cut('m')} is not available`);
    await replay(() => t.client.healthCheck(long('m')), status.NOT_FOUND, `unknown service ${cut('m')}`);
  });

  it('a long version string', async () => {
    await replay(
      infer(simpleRequest({ model_version: long('v') })),
      status.INVALID_ARGUMENT,
      `failed to get model version from specified version string ${cut('v')} (details: stol), version should be an integral value > 0`,
    );
    await replay(
      infer(simpleRequest({ model_version: `-1${'x'.repeat(LONG - 2)}` })),
      status.INVALID_ARGUMENT,
      `invalid model version specified '-1${'x'.repeat(CLIENT_TEXT_MAX_CHARS - 2)}…' (${LONG} characters) , version should be an integral value > 0`,
    );
  });

  it('a long output name, unknown or asked for twice', async () => {
    await replay(
      infer(simpleRequest({ outputs: [{ name: 'OUTPUT0' }, { name: long('o') }] })),
      status.INVALID_ARGUMENT,
      `unexpected inference output ${cut('o')} for model 'simple'`,
    );
    await replay(
      infer(simpleRequest({ outputs: [{ name: long('o') }, { name: long('o') }] })),
      status.INVALID_ARGUMENT,
      `[request id: <id_unknown>] output ${cut('o')} already exists in request`,
    );
  });

  it('a long input name, unknown or sent with conflicting data', async () => {
    const unknown = simpleRequest();
    unknown.inputs[1]!.name = long('i');
    await replay(infer(unknown), status.INVALID_ARGUMENT, `unexpected inference input ${cut('i')} for model 'simple'`);
    const conflicting = simpleRequest({ raw_input_contents: [int32Bytes(ones(16))] });
    conflicting.inputs[0]!.name = long('i');
    (conflicting.inputs[0] as Record<string, unknown>)['contents'] = { int_contents: ones(16) };
    await replay(
      infer(conflicting),
      status.INVALID_ARGUMENT,
      `contents field must not be specified when using raw_input_contents for ${cut('i')} for model 'simple'`,
    );
  });

  it('a long datatype string and a shape of 64 dims (the most a tensor may have)', async () => {
    const datatype = simpleRequest();
    datatype.inputs[1]!.datatype = long('T');
    await replay(
      infer(datatype),
      status.INVALID_ARGUMENT,
      "[request id: <id_unknown>] inference input 'INPUT1' data-type is '<invalid>', but model 'simple' expects 'INT32'",
    );
    const shape = simpleRequest();
    shape.inputs[0]!.shape = ones(64);
    await replay(
      infer(shape),
      status.INVALID_ARGUMENT,
      `[request id: <id_unknown>] unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,16], got [${ones(16).join(',')}, and 48 more]. ${NOTE}`,
    );
    shape.inputs[0]!.shape = ones(10_000);
    await replay(infer(shape), status.INVALID_ARGUMENT, "input 'INPUT0' has more than 64 dims; a tensor may have at most 64");
  });

  it('long parameter keys and values', async () => {
    await replay(
      infer(simpleRequest({ parameters: { [`triton_${long('k')}`]: { bool_param: true } } })),
      status.INVALID_ARGUMENT,
      "parameter keys starting with 'triton_' are reserved for Triton usage. Only the following keys starting with 'triton_' " +
        'are allowed: triton_enable_empty_final_response',
    );
    await replay(
      infer(simpleRequest({ id: 'p', parameters: { precision: { string_param: long('p') } } })),
      status.INVALID_ARGUMENT,
      new RegExp(`^\\[request id: p\\] unknown precision '${'p'.repeat(CLIENT_TEXT_MAX_CHARS)}…' \\(${LONG} characters\\) \\(precisions are [a-z0-9, ]+\\)\\. Available: fp32$`),
    );
  });

  it('long parameter keys the model does not use are ignored, as in Triton', async () => {
    const parameters = Object.fromEntries(['a', 'b', 'c', 'd'].map((c) => [long(c), { string_param: long(c) }]));
    const ok = await t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', simpleRequest({ parameters }));
    assert.deepEqual(readInt32(ok.raw_output_contents[0]!), ones(16).map(() => 2));
  });

  it('long keys and values in TraceSetting and LogSettings', async () => {
    await replay(
      () => t.client.call('TraceSetting', { settings: { [long('k')]: { value: ['1'] } } }),
      status.INVALID_ARGUMENT,
      `unknown trace setting ${cut('k')}; known: trace_level, trace_rate, trace_count, trace_mode`,
    );
    await replay(
      () => t.client.call('TraceSetting', { settings: { trace_rate: { value: [long('9') + 'x'] } } }),
      status.INVALID_ARGUMENT,
      `Unable to parse 'trace_rate', got: ${'9'.repeat(CLIENT_TEXT_MAX_CHARS)}… (${LONG + 1} characters)`,
    );
    await replay(
      () => t.client.call('TraceSetting', { model_name: long('m'), settings: {} }),
      status.INVALID_ARGUMENT,
      `Request for unknown model : ${'m'.repeat(CLIENT_TEXT_MAX_CHARS)}… (${LONG} characters)`,
    );
    await replay(
      () => t.client.call('LogSettings', { settings: { log_format: { string_param: long('f') } } }),
      status.INVALID_ARGUMENT,
      `invalid argument for log_format, got: ${'f'.repeat(CLIENT_TEXT_MAX_CHARS)}… (${LONG} characters)`,
    );
    await replay(
      () => t.client.call('LogSettings', { settings: { [long('k')]: { bool_param: true } } }),
      status.INVALID_ARGUMENT,
      `unknown log setting ${cut('k')}; known: log_file, log_info, log_warning, log_error, log_verbose_level, log_format`,
    );
  });

  it("bounds the failed request's log line: id, model name, version and message", async () => {
    const before = sink.bytes();
    sink.lines.length = 0;
    await assertGrpcError(
      t.client.call('ModelInfer', simpleRequest({ id: long('a'), model_name: long('m'), model_version: '1' })),
      status.NOT_FOUND,
      `Request for unknown model: ${cut('m')} is not found`,
    );
    await waitUntil(() => sink.lines.some((l) => l['msg'] === 'inference request failed'), 'the failure is logged');
    const line = sink.lines.find((l) => l['msg'] === 'inference request failed')!;
    assert.equal(line['request_id'], `${'a'.repeat(CLIENT_TEXT_MAX_CHARS)}… (${LONG} characters)`);
    assert.equal(line['model'], `${'m'.repeat(CLIENT_TEXT_MAX_CHARS)}… (${LONG} characters)`);
    assert.equal(line['version'], '1');
    assert.equal(line['error'], `Request for unknown model: ${cut('m')} is not found`);
    assert.ok(sink.bytes() - before < 2048, `${sink.bytes() - before} bytes of log for one failed request`);
  });

  it('bounds client strings on spans: the id of a served request, and the model name of a call to no model', async () => {
    const setting = (level: string) => t.client.call('TraceSetting', { settings: { trace_level: { value: [level] }, trace_rate: { value: ['1'] } } });
    await setting('TIMESTAMPS');
    try {
      t.spans.reset();
      const served = await t.client.call<{ id: string }>('ModelInfer', simpleRequest({ id: long('a') }));
      assert.equal(served.id, long('a'), 'the response still echoes the whole id');
      await assertGrpcError(t.client.call('ModelInfer', simpleRequest({ model_name: long('m') })), status.NOT_FOUND, `Request for unknown model: ${cut('m')} is not found`);
      const clipped = (char: string) => `${char.repeat(CLIENT_TEXT_MAX_CHARS)}… (${LONG} characters)`;
      await waitUntil(() => t.spans.getFinishedSpans().some((s) => s.name === 'compute'), 'the served request is traced');
      await waitUntil(() => t.spans.getFinishedSpans().some((s) => s.attributes['nereid.model.name'] === clipped('m')), 'the unknown model call is traced with its name cut');
      const ids = t.spans.getFinishedSpans().flatMap((s) => (s.attributes['nereid.request.id'] === undefined ? [] : [s.attributes['nereid.request.id']]));
      assert.ok(ids.length >= 4, 'queue, h2d, compute and d2h carry the id');
      assert.ok(ids.every((id) => id === clipped('a')), 'cut to 128 characters with its length');
    } finally {
      await setting('OFF');
    }
  });
});
