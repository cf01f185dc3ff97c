import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXAMPLE_REPOSITORY } from '../helpers/fixtures.js';
import { HttpClient } from '../helpers/http-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { int32Bytes } from '../helpers/tensors.js';

const A = Array.from({ length: 32 }, (_, i) => i * 7 - 50);
const B = Array.from({ length: 32 }, (_, i) => 1000 - i);

describe('the same request over HTTP and over gRPC', () => {
  let t: TestServer;
  let http: HttpClient;
  before(async () => {
    t = await startTestServer([EXAMPLE_REPOSITORY]);
    http = new HttpClient(`http://127.0.0.1:${t.server.httpPort}`);
  });
  after(async () => {
    await t.stop();
  });

  const scrape = async () => {
    const text = await (await fetch(`http://127.0.0.1:${t.server.metricsPort}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}\\{model="simple",version="1"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    return { success: value('nv_inference_request_success'), count: value('nv_inference_count'), executions: value('nv_inference_exec_count') };
  };
  const grpcStats = async () => (await t.client.call<{ model_stats: any[] }>('ModelStatistics', { name: 'simple' })).model_stats[0];
  const counts = (s: any) => ({ inference: Number(s.inference_count), execution: Number(s.execution_count), success: Number(s.inference_stats.success.count), batches: s.batch_stats.map((b: any) => [Number(b.batch_size), Number(b.compute_infer.count)]) });

  it('gives identical outputs, and counts the same in statistics (either transport reads them) and metrics', async () => {
    const before = await scrape();
    const grpc = await t.client.call<{ outputs: { name: string; datatype: string; shape: number[] }[]; raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: 'simple',
      id: 'same',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [2, 16] },
        { name: 'INPUT1', datatype: 'INT32', shape: [2, 16] },
      ],
      raw_input_contents: [int32Bytes(A), int32Bytes(B)],
    });
    const afterGrpc = await scrape();
    const statsAfterGrpc = counts(await grpcStats());
    const reply = await http.inferBinary('simple', { id: 'same', parameters: { binary_data_output: true } }, [
      { name: 'INPUT0', datatype: 'INT32', shape: [2, 16], data: int32Bytes(A) },
      { name: 'INPUT1', datatype: 'INT32', shape: [2, 16], data: int32Bytes(B) },
    ]);
    const afterHttp = await scrape();
    assert.equal(reply.json.id, 'same');
    assert.deepEqual(reply.json.outputs.map((o: any) => [o.name, o.datatype, o.shape]), grpc.outputs.map((o) => [o.name, o.datatype, o.shape]));
    assert.deepEqual(reply.binary, Buffer.concat(grpc.raw_output_contents), 'byte for byte');

    // Each request moved the counters by the same amounts.
    const delta = (x: typeof before, y: typeof before) => ({ success: y.success - x.success, count: y.count - x.count, executions: y.executions - x.executions });
    assert.deepEqual(delta(before, afterGrpc), { success: 1, count: 2, executions: 1 });
    assert.deepEqual(delta(afterGrpc, afterHttp), delta(before, afterGrpc), 'metrics: the HTTP request counts as the gRPC one did');
    const statsAfterHttp = counts(await grpcStats());
    assert.equal(statsAfterHttp.inference - statsAfterGrpc.inference, 2);
    assert.equal(statsAfterHttp.success - statsAfterGrpc.success, 1);
    // Statistics read over HTTP equal those read over gRPC.
    const overHttp = (await http.get('/v2/models/simple/stats')).json.model_stats[0];
    assert.deepEqual(counts(overHttp), statsAfterHttp);
    assert.equal(overHttp.inference_stats.compute_infer.ns, Number((await grpcStats()).inference_stats.compute_infer.ns));
  });

  it('reports the same model metadata and errors', async () => {
    const grpc = await t.client.call<any>('ModelMetadata', { name: 'simple' });
    const overHttp = (await http.get('/v2/models/simple')).json;
    assert.deepEqual(overHttp, { ...grpc, inputs: grpc.inputs.map((i: any) => ({ ...i, shape: i.shape.map(Number) })), outputs: grpc.outputs.map((o: any) => ({ ...o, shape: o.shape.map(Number) })) });
    const grpcError = await t.client.call('ModelInfer', { model_name: 'nope', inputs: [] }).catch((err: { details: string }) => err.details);
    assert.equal((await http.post('/v2/models/nope/infer', { inputs: [] })).json.error, grpcError);
  });
});
