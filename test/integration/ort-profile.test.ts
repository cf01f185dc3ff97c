import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { assertGrpcError } from '../helpers/assert-grpc.js';
import { ocrRepository, precisionRepository, scratchDirectory } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { HttpClient } from '../helpers/http-client.js';
import { float32Bytes } from '../helpers/tensors.js';

interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  ts?: number;
  dur?: number;
  tid: number;
  args?: Record<string, unknown>;
}

type Settings = Record<string, { value: string[] }>;

const SIZE = 3 * 48 * 192;
const image = float32Bytes(Float32Array.from({ length: SIZE }, (_, i) => (i % 97) / 97));

describe('ONNX Runtime profiles on demand through TraceSetting (issue 15)', () => {
  let t: TestServer;
  let dir: string;
  before(async () => {
    dir = scratchDirectory('profiles');
    t = await startTestServer([await ocrRepository()], { flags: ['--model-control-mode', 'explicit', '--load-model', 'ocr_cls', '--profile-dir', dir] });
  });
  after(async () => {
    await t.stop();
  });

  const setting = (settings: Settings, model = 'ocr_cls') => t.client.call<{ settings: Settings }>('TraceSetting', { model_name: model, settings });
  const infer = () => t.client.call('ModelInfer', { model_name: 'ocr_cls', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192] }], raw_input_contents: [image] });
  /** Waits (on the state TraceSetting reports, never a fixed sleep) until the profile is written. */
  const written = async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = (await setting({})).settings['nereid_profile_state']?.value[0];
      if (state === 'written') return;
      if (state === 'failed' || Date.now() > deadline) throw new Error(`profile state ${state}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const profileFiles = () => readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('profiles the next 5 executions into one Perfetto trace with the four phases, then stops', async () => {
    const started = await setting({ nereid_profile_executions: { value: ['5'] } });
    assert.deepEqual(started.settings['nereid_profile_executions'], { value: ['5'] });
    assert.deepEqual(started.settings['nereid_profile_state'], { value: ['running'] });
    const file = started.settings['nereid_profile_file']!.value[0]!;
    const summaryFile = started.settings['nereid_profile_summary']!.value[0]!;
    assert.ok(file.startsWith(dir) && file.endsWith('.json'), file);
    // One at a time, so that each request is one execution.
    for (let i = 0; i < 5; i++) await infer();
    await written();
    const after5 = await setting({});
    assert.deepEqual(after5.settings['nereid_profile_executions'], { value: ['0'] });

    const trace = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[]; displayTimeUnit: string };
    const spans = trace.traceEvents.filter((e) => e.ph === 'X');
    const nereid = (name: string) => spans.filter((e) => e.cat === 'nereid' && e.name === name);
    for (const phase of ['queue', 'h2d', 'compute', 'd2h']) assert.equal(nereid(phase).length, 5, `${phase} spans`);
    const kernels = spans.filter((e) => e.cat === 'onnxruntime.Node' && e.name.endsWith('_kernel_time'));
    assert.ok(kernels.length >= 5 * 10, `only ${kernels.length} node kernel events`);
    assert.ok(kernels.every((e) => typeof e.args?.['op_name'] === 'string'));
    // One timeline: each of ONNX Runtime's model_run events overlaps the compute span of its execution.
    const runs = spans.filter((e) => e.cat === 'onnxruntime.Session' && e.name === 'model_run');
    assert.equal(runs.length, 5, 'one model_run per profiled execution (the set-up run is left out)');
    for (const run of runs) {
      const overlaps = nereid('compute').some((c) => run.ts! < c.ts! + c.dur! && c.ts! < run.ts! + run.dur!);
      assert.ok(overlaps, `model_run at ${run.ts} µs overlaps no compute span`);
    }
    assert.ok(trace.traceEvents.some((e) => e.ph === 'M' && e.name === 'thread_name' && String(e.args?.['name']).includes('onnxruntime fp32')));

    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as {
      executions: number;
      variants: Record<string, { executions: number; operators: { op: string; totalUs: number; share: number }[] }>;
    };
    assert.equal(summary.executions, 5);
    const fp32 = summary.variants['fp32']!;
    assert.equal(fp32.executions, 5);
    assert.ok(fp32.operators.length > 3);
    assert.ok(fp32.operators.some((o) => o.op === 'Conv'), fp32.operators.map((o) => o.op).join(', '));
    for (let i = 1; i < fp32.operators.length; i++) assert.ok(fp32.operators[i - 1]!.totalUs >= fp32.operators[i]!.totalUs, 'sorted by total time');

    // A 6th execution adds nothing: no new file, the trace unchanged, nothing left of ORT's own files.
    const before6 = statSync(file);
    const files = profileFiles();
    await infer();
    await setting({});
    assert.deepEqual(profileFiles(), files);
    assert.deepEqual(files.sort(), [file, summaryFile].map((f) => f.slice(dir.length + 1)).sort());
    assert.equal(statSync(file).mtimeMs, before6.mtimeMs);
    assert.equal((await setting({})).settings['nereid_profile_state']?.value[0], 'written');
  });

  it('profiles only the named instance, and 0 ends a profile early', async () => {
    const instances = t.server.registry.get('ocr_cls', '').servable.instances().map((i) => i.name);
    const started = await setting({ nereid_profile_executions: { value: ['50'] }, nereid_profile_instance: { value: [instances[1]!] } });
    const file = started.settings['nereid_profile_file']!.value[0]!;
    const executions = () => t.server.registry.get('ocr_cls', '').servable.instances().map((i) => i.executions);
    const before = executions();
    // Concurrent requests, so that both instances run (an idle pool leases its first instance).
    for (let round = 0; round < 50; round++) {
      await Promise.all(Array.from({ length: 8 }, () => infer()));
      if (Number((await setting({})).settings['nereid_profile_executions']!.value[0]) < 50 && executions()[0]! > before[0]!) break;
    }
    assert.ok(executions()[0]! > before[0]!, 'the other instance ran too');
    const ended = await setting({ nereid_profile_executions: { value: ['0'] } });
    assert.notEqual(ended.settings['nereid_profile_state']?.value[0], 'running');
    await written();
    const trace = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] };
    const computes = trace.traceEvents.filter((e) => e.cat === 'nereid' && e.name === 'compute');
    assert.ok(computes.length >= 1 && computes.length < 50, `${computes.length} executions profiled`);
    assert.ok(computes.every((e) => e.args?.['instance'] === instances[1]), 'only the named instance');
  });

  it('takes the same keys over HTTP, on the model\'s trace setting route', async () => {
    const http = new HttpClient(`http://127.0.0.1:${t.server.httpPort}`);
    const started = await http.post('/v2/models/ocr_cls/trace/setting', { nereid_profile_executions: '2' });
    assert.equal(started.status, 200);
    const body = started.json as Record<string, string>;
    assert.equal(body['nereid_profile_state'], 'running');
    for (let i = 0; i < 2; i++) await infer();
    await written();
    const trace = JSON.parse(readFileSync(body['nereid_profile_file']!, 'utf8')) as { traceEvents: TraceEvent[] };
    assert.equal(trace.traceEvents.filter((e) => e.cat === 'nereid' && e.name === 'compute').length, 2);
    const bad = await http.post('/v2/models/ocr_cls/trace/setting', { nereid_profile_executions: 'all' });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.json), /Unable to parse 'nereid_profile_executions'/);
  });

  it('refuses bad profile settings with INVALID_ARGUMENT and stays healthy', async () => {
    const cases: [Settings, string, RegExp][] = [
      [{ nereid_profile_executions: { value: ['five'] } }, 'ocr_cls', /Unable to parse 'nereid_profile_executions'\. Expecting a number of executions from 0/],
      [{ nereid_profile_executions: { value: ['1001'] } }, 'ocr_cls', /Expecting a number of executions from 0 \(end the profile now\) to 1000, got: 1001/],
      [{ nereid_profile_executions: { value: ['5'] } }, '', /'nereid_profile_executions' profiles one model: send it with the model's name/],
      [{ nereid_profile_executions: { value: ['5'] }, nereid_profile_instance: { value: ['nope'] } }, 'ocr_cls', /model 'ocr_cls' has no instance 'nope'; its instances are 'ocr_cls_0_0', 'ocr_cls_0_1'/],
      [{ nereid_profile_instance: { value: ['ocr_cls_0_0'] } }, 'ocr_cls', /'nereid_profile_instance' needs 'nereid_profile_executions' in the same request/],
      [{ nereid_profile_count: { value: ['5'] } }, 'ocr_cls', /unknown trace setting 'nereid_profile_count'; Nereid's profile keys are nereid_profile_executions and nereid_profile_instance/],
    ];
    for (const [settings, model, message] of cases) await assertGrpcError(setting(settings, model), status.INVALID_ARGUMENT, message);
    await infer();
    assert.deepEqual(await t.client.call('ServerLive', {}), { live: true });
  });
});

describe('ONNX Runtime profiles per precision variant (issue 15)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer([await precisionRepository()], {
      flags: ['--model-control-mode', 'explicit', '--load-model', 'mlp', '--profile-dir', scratchDirectory('variant-profiles')],
    });
  });
  after(async () => {
    await t.stop();
  });

  it('summarizes the top operators of each precision variant the profiled executions ran', async () => {
    const setting = (settings: Settings) => t.client.call<{ settings: Settings }>('TraceSetting', { model_name: 'mlp', settings });
    const started = await setting({ nereid_profile_executions: { value: ['4'] } });
    const x = float32Bytes(Float32Array.from({ length: 768 }, (_, i) => Math.sin(i)));
    for (const precision of ['fp32', 'fp16', 'int8', 'fp32']) {
      await t.client.call('ModelInfer', {
        model_name: 'mlp',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 768] }],
        raw_input_contents: [x],
        parameters: { precision: { string_param: precision } },
      });
    }
    const deadline = Date.now() + 30_000;
    while ((await setting({})).settings['nereid_profile_state']?.value[0] !== 'written') {
      assert.ok(Date.now() < deadline, 'the profile was not written');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const summary = JSON.parse(readFileSync(started.settings['nereid_profile_summary']!.value[0]!, 'utf8')) as {
      variants: Record<string, { executions: number; operators: { op: string }[] }>;
    };
    assert.deepEqual(Object.fromEntries(Object.entries(summary.variants).map(([v, s]) => [v, s.executions])), { fp32: 2, fp16: 1, int8: 1 });
    assert.ok(summary.variants['fp32']!.operators.some((o) => o.op === 'MatMul' || o.op === 'Gemm'), JSON.stringify(summary.variants['fp32']!.operators));
    // int8 runs other kernels than fp32 (quantized MatMul), which is what a per-variant summary is for.
    const int8Ops = summary.variants['int8']!.operators.map((o) => o.op);
    assert.ok(int8Ops.some((op) => /Integer|Quant/.test(op)), int8Ops.join(', '));
  });
});
