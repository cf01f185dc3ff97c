import assert from 'node:assert/strict';
import { Metadata } from '@grpc/grpc-js';
import { describe, it } from 'node:test';
import { createLogging } from '../../src/telemetry/logger.js';
import { testRepository } from '../helpers/fixtures.js';
import { logSink } from '../helpers/log-sink.js';
import { float32Bytes, int64Bytes } from '../helpers/tensors.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitUntil } from '../helpers/wait-until.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe("instance workers' log lines", () => {
  it('reach the server log with model, version, instance and the trace ids of the execution', async () => {
    const sink = logSink();
    const logging = createLogging({ level: 'debug', format: 'json', destination: sink.stream });
    const t = await startTestServer([await testRepository()], { logging, flags: ['--trace-config', 'level=TIMESTAMPS,rate=0'] });
    try {
      const loaded = sink.lines.find((l) => l['msg'] === 'session loaded' && l['model'] === 'fail');
      assert.ok(loaded, 'the worker logged its session load');
      assert.deepEqual([loaded['version'], loaded['executionProvider'], typeof loaded['instance'], typeof loaded['loadMs']], [1, 'cpu', 'string', 'number']);

      const metadata = new Metadata();
      metadata.set('traceparent', `00-${TRACE_ID}-00f067aa0ba902b7-01`);
      const request = {
        model_name: 'fail',
        inputs: [
          { name: 'DATA', datatype: 'FP32', shape: [4] },
          { name: 'SHAPE', datatype: 'INT64', shape: [2] },
        ],
        raw_input_contents: [float32Bytes([1, 2, 3, 4]), int64Bytes([3, 5])],
      };
      await assert.rejects(t.client.call('ModelInfer', request, { metadata }));
      await waitUntil(() => sink.lines.some((l) => l['msg'] === 'execution failed'), 'the worker logged the failed execution');
      const failed = sink.lines.find((l) => l['msg'] === 'execution failed')!;
      assert.equal(failed['model'], 'fail');
      assert.equal(failed['version'], 1);
      const instances = sink.lines.filter((l) => l['msg'] === 'session loaded' && l['model'] === 'fail').map((l) => l['instance']);
      assert.ok(instances.includes(failed['instance']), `the instance that ran it (${String(failed['instance'])}) is one that logged its load (${instances.join(', ')})`);
      assert.equal(failed['trace_id'], TRACE_ID, 'the trace of the request the execution ran');
      assert.equal(failed['errorId'], 'BACKEND_ERROR');
      assert.match(String(failed['error']), /cannot be reshaped/);
    } finally {
      await t.stop();
    }
  });
});
