import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { EXAMPLE_REPOSITORY, scratchDirectory } from '../helpers/fixtures.js';
import { logSink } from '../helpers/log-sink.js';
import { int32Values, openStream, sequenceRequest } from '../helpers/stream-client.js';
import { startTestServer, testLogging, type TestServer } from '../helpers/test-server.js';
import { waitUntil } from '../helpers/wait-until.js';
import { createLogging } from '../../src/telemetry/logger.js';

/** Copies of the example sequence models with other sequence_batching settings. */
function variants(): string {
  const dir = scratchDirectory('sequences');
  const copy = (from: string, name: string, edit: (config: string) => string) => {
    mkdirSync(path.join(dir, name, '1'), { recursive: true });
    copyFileSync(path.join(EXAMPLE_REPOSITORY, from, '1', 'model.onnx'), path.join(dir, name, '1', 'model.onnx'));
    writeFileSync(path.join(dir, name, 'config.pbtxt'), edit(readFileSync(path.join(EXAMPLE_REPOSITORY, from, 'config.pbtxt'), 'utf8').replace(`name: "${from}"`, `name: "${name}"`)));
  };
  // Idle after 100 ms, one instance.
  copy('simple_sequence', 'idle_sequence', (c) => c.replace('sequence_batching {', 'sequence_batching {\n  max_sequence_idle_microseconds: 100000'));
  // The implicit-state accumulator with the direct strategy on one instance: sequences share its batches by slot.
  copy('simple_string_dyna_sequence', 'accumulator_direct', (c) =>
    c.replace(/oldest \{[^}]*\}/, 'direct { }').replace(/instance_group \[[^\]]*\]/, 'instance_group [ { count: 1 kind: KIND_CPU } ]'),
  );
  return dir;
}

const VALUES = [11, 7, 5, 3, 2, 0, 1];
/** -v, without JavaScript's -0 (Triton's clients compare in Python, where -0 is 0). */
const neg = (v: number) => 0 - v || 0;

describe('sequences: the sequence batcher, its controls and implicit state', () => {
  let t: TestServer;
  const logs = logSink();
  const infer = (model: string, value: number, id: number | string, start: boolean, end: boolean) =>
    t.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', sequenceRequest(model, value, id, start, end)).then((r) => int32Values(r.raw_output_contents[0]!)[0]!);
  const servable = (model: string) => t.server.registry.get(model, '').servable;

  before(async () => {
    const { logger, settings } = createLogging({ level: 'info', format: 'json', destination: logs.stream });
    t = await startTestServer([EXAMPLE_REPOSITORY, variants()], { logging: { logger, settings } as ReturnType<typeof testLogging> });
  });
  after(async () => t.stop());

  /** Triton's simple_grpc_sequence_stream_infer_client.py, with and without -d: three interleaved sequences on one stream. */
  async function tritonStreamClient(dyna: boolean): Promise<void> {
    const intModel = dyna ? 'simple_dyna_sequence' : 'simple_sequence';
    const stringModel = dyna ? 'simple_string_dyna_sequence' : 'simple_sequence';
    const [id0, id1] = [1000, 1001];
    const stringId = dyna ? '1002' : 'c2a8b1d4-7e0f-4c55-9a3e-5f1d2b6c7e80';
    const stream = openStream(t.client);
    const send = (values: number[], sequenceId: number | string, model: string) =>
      values.forEach((value, i) => stream.write(sequenceRequest(model, value, sequenceId, i === 0, i === values.length - 1, `${sequenceId}_${i + 1}`)));
    send([0, ...VALUES], id0, intModel);
    send([100, ...VALUES.map(neg)], id1, intModel);
    send([20, ...VALUES.map(neg)], stringId, stringModel);
    assert.equal((await stream.end()).code, status.OK);
    const results = new Map<string, number[]>();
    for (const response of stream.responses) {
      assert.equal(response.error_message, '');
      const key = response.infer_response.id.split('_')[0]!;
      results.set(key, [...(results.get(key) ?? []), int32Values(response.infer_response.raw_output_contents[0]!)[0]!]);
    }
    const [r0, r1, rs] = [results.get(String(id0))!, results.get(String(id1))!, results.get(stringId)!];
    assert.equal(rs.length, 8);
    for (let i = 0; i < 8; i++) {
      let e0 = i === 0 ? 1 : VALUES[i - 1]!;
      let e1 = i === 0 ? 101 : neg(VALUES[i - 1]!);
      let es = i === 0 ? (dyna ? 20 : 21) : dyna ? neg(VALUES[i - 1]!) + rs[i - 1]! : neg(VALUES[i - 1]!);
      if (dyna && i !== 0 && VALUES[i - 1] === 1) {
        e0 += id0;
        e1 += id1;
        es += Number(stringId);
      }
      assert.deepEqual([r0[i], r1[i], rs[i]], [e0, e1, es], `response ${i}`);
    }
  }

  it("runs Triton's sequence stream client (simple_sequence: direct, uint64 and string IDs interleaved)", () => tritonStreamClient(false));

  it("runs Triton's sequence stream client with -d (oldest strategy, CORRID as uint64 and string, an implicit-state accumulator)", () => tritonStreamClient(true));

  it("runs Triton's sequence sync client: the same over unary ModelInfer", async () => {
    const out = [];
    for (let i = 0; i < 8; i++) out.push(await infer('simple_sequence', [100, ...VALUES.map(neg)][i]!, 1001, i === 0, i === 7));
    assert.deepEqual(out, [101, ...VALUES.map(neg)]);
  });

  it('carries implicit state across 100 requests on both strategies, frees it at END, and never lets it leak into the next sequence', async () => {
    for (const model of ['simple_string_dyna_sequence', 'accumulator_direct']) {
      // Two sequences interleaved on one stream: their states stay apart.
      const stream = openStream(t.client);
      const send = (i: number) => {
        stream.write(sequenceRequest(model, 1, '31', i === 0, i === 99, `a${i}`));
        stream.write(sequenceRequest(model, 2, '32', i === 0, i === 99, `b${i}`));
      };
      for (let i = 0; i < 99; i++) send(i);
      // Every request but the two ENDs answered: both sequences are live, whatever the machine's speed.
      await stream.waitFor(198);
      assert.ok(servable(model).sequences()!.stateBytes > 0, 'live sequences hold their state');
      send(99);
      assert.equal((await stream.end()).code, status.OK);
      const last = (prefix: string) => int32Values(stream.responses.find((r) => r.infer_response.id === `${prefix}99`)!.infer_response.raw_output_contents[0]!)[0];
      assert.equal(last('a'), 100 + 31, `${model}: 100 times 1, plus the CORRID at END`);
      assert.equal(last('b'), 200 + 32, `${model}: 100 times 2, plus the CORRID at END`);
      await waitUntil(() => servable(model).sequences()!.active === 0, `${model}: both sequences ended`);
      assert.equal(servable(model).sequences()!.stateBytes, 0, `${model}: their state is freed`);
      const metrics = await (await fetch(`http://127.0.0.1:${t.server.metricsPort}/metrics`)).text();
      assert.match(metrics, new RegExp(`nereid_sequence_state_bytes\\{model="${model}",version="1"\\} 0`));
      assert.equal(await infer(model, 5, '31', true, false), 5, `${model}: a new sequence with the same ID starts from its own first input`);
      assert.equal(await infer(model, 1, '31', false, true), 6 + 31);
    }
  });

  it('ends an idle sequence after max_sequence_idle_microseconds; its next request gets the START error', async () => {
    assert.equal(await infer('idle_sequence', 3, 77, true, false), 4);
    await waitUntil(() => servable('idle_sequence').sequences()!.active === 0, 'the idle sequence has ended');
    await assertGrpcError(
      infer('idle_sequence', 3, 77, false, false),
      status.INVALID_ARGUMENT,
      "inference request for sequence 77 to model 'idle_sequence' must specify the START flag on the first request of the sequence",
    );
    assert.equal((await t.client.healthCheck('')).status, 'SERVING');
  });

  it("answers each mistake with Triton's error and code, and stays healthy", async () => {
    const request = (extra: Record<string, unknown>) => t.client.call('ModelInfer', { ...sequenceRequest('simple_sequence', 1, 5, true, false), ...extra });
    const missing = "inference request to model 'simple_sequence' must specify a non-zero or non-empty correlation ID";
    await assertGrpcError(request({ parameters: {} }), status.INVALID_ARGUMENT, missing);
    await assertGrpcError(request({ parameters: { sequence_id: { int64_param: 0 }, sequence_start: { bool_param: true } } }), status.INVALID_ARGUMENT, missing);
    await assertGrpcError(request({ parameters: { sequence_id: { string_param: '' }, sequence_start: { bool_param: true } } }), status.INVALID_ARGUMENT, missing);
    await assertGrpcError(
      infer('simple_sequence', 1, 4242, false, false),
      status.INVALID_ARGUMENT,
      "inference request for sequence 4242 to model 'simple_sequence' must specify the START flag on the first request of the sequence",
    );
    await assertGrpcError(
      request({ inputs: [{ name: 'INPUT', datatype: 'INT32', shape: [2, 1] }], raw_input_contents: [Buffer.alloc(8)] }),
      status.INVALID_ARGUMENT,
      "inference request to model 'simple_sequence' must specify batch-size 1 due to requirements of sequence batcher",
    );
    await assertGrpcError(
      request({ parameters: { sequence_id: { double_param: 1.5 } } }),
      status.INVALID_ARGUMENT,
      "invalid value type for 'sequence_id' parameter, expected int64_param or string_param.",
    );
    await assertGrpcError(
      request({ parameters: { sequence_id: { int64_param: 5 }, sequence_end: { int64_param: 1 } } }),
      status.INVALID_ARGUMENT,
      "invalid value type for 'sequence_end' parameter, expected bool_param.",
    );
    await assertGrpcError(
      infer('simple_dyna_sequence', 1, 'not-a-number', true, true),
      status.INVALID_ARGUMENT,
      "sequence ID 'not-a-number' cannot be fed to model 'simple_dyna_sequence': its CORRID control is TYPE_UINT64, so a string ID must be a decimal number in its range",
    );
    // After END the ID is free: continuing it is the START error.
    assert.equal(await infer('simple_sequence', 1, 4343, true, true), 2);
    await assertGrpcError(infer('simple_sequence', 1, 4343, false, false), status.INVALID_ARGUMENT, /sequence 4343 to model 'simple_sequence' must specify the START flag/);
    assert.equal((await t.client.healthCheck('')).status, 'SERVING');
  });

  it('treats START on an active sequence as Triton does: a warning, and the sequence restarts with fresh state', async () => {
    assert.equal(await infer('accumulator_direct', 5, '51', true, false), 5);
    assert.equal(await infer('accumulator_direct', 1, '51', false, false), 6);
    assert.equal(await infer('accumulator_direct', 10, '51', true, false), 10);
    assert.equal(await infer('accumulator_direct', 1, '51', false, true), 11 + 51);
    assert.ok(logs.lines.some((l) => String(l['msg']).startsWith("sequence 51 for model 'accumulator_direct' has a conflict. The previous sequence did not end before this sequence start.")));
  });

  it('spreads sequences over the instances; an instance failure ends only the sequences on it, with a clear error', async () => {
    const model = 'simple_dyna_sequence';
    const executions = () => servable(model).instances().map((i) => i.executions);
    const before = executions();
    assert.equal(await infer(model, 1, 7001, true, false), 2);
    const afterA = executions();
    assert.equal(await infer(model, 1, 7002, true, false), 2);
    const afterB = executions();
    const instanceA = afterA.findIndex((n, i) => n > before[i]!);
    const instanceB = afterB.findIndex((n, i) => n > afterA[i]!);
    assert.notEqual(instanceA, instanceB, 'the two sequences run on different instances');
    const nameB = servable(model).instances()[instanceB]!.name;
    const restarts = servable(model).instances()[instanceB]!.restarts;
    servable(model).crashInstance(nameB);
    await waitUntil(() => servable(model).instances()[instanceB]!.restarts > restarts, 'the instance has failed');
    await assertGrpcError(
      infer(model, 1, 7002, false, false),
      status.INTERNAL,
      `sequence 7002 of model '${model}' was ended because model instance '${nameB}' failed; start it again with sequence_start`,
    );
    assert.equal(await infer(model, 3, 7001, false, false), 3, 'the sequence on the other instance goes on');
    assert.equal(await infer(model, 1, 7001, false, true), 1 + 7001);
    await waitUntil(() => servable(model).instances().every((i) => i.state === 'idle'), 'the failed instance is replaced');
    assert.equal(await infer(model, 4, 7002, true, true), 5 + 7002, 'the ended sequence can start again');
  });
});
