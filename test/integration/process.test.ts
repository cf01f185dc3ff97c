import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { testRepository } from '../helpers/fixtures.js';
import { nereid } from '../helpers/nereid-process.js';
import { ProtoClient } from '../../scripts/lib/grpc-client.js';
import { float32Bytes, int32Bytes, int64Bytes } from '../helpers/tensors.js';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

const LOOPBACK = ['--grpc-port', '0', '--grpc-address', '127.0.0.1', '--http-port', '0', '--http-address', '127.0.0.1', '--metrics-address', '127.0.0.1', '--metrics-port', '0', '--log-format', 'json'];

describe('the nereid command', () => {
  it('exits with status 2 and names the bad flag', async () => {
    const { exited, stderr } = nereid(['--model-repository', 'models', '--grpc-port', 'eighty']);
    const [code] = await exited;
    assert.equal(code, 2);
    assert.equal(stderr(), "nereid: invalid value 'eighty' for --grpc-port: expected an integer from 0 to 65535\n");
  });

  // Time limits so that a regression (a server that starts anyway, or never exits) fails instead of hanging.
  it('refuses a malformed standard OpenTelemetry variable with status 2, naming it', { timeout: 60_000 }, async () => {
    const { exited, stderr } = nereid(['--model-repository', 'models', '--trace-config', 'level=TIMESTAMPS'], { OTEL_BSP_SCHEDULE_DELAY: 'abc' });
    const [code] = await exited;
    assert.equal(code, 2);
    assert.equal(stderr(), "nereid: invalid value 'abc' for OTEL_BSP_SCHEDULE_DELAY: expected an integer from 0 to 2147483647 (milliseconds)\n");
  });

  it('with tracing on, OTEL_BSP_SCHEDULE_DELAY and OTEL_BSP_EXPORT_TIMEOUT set and no collector: serves, and SIGTERM exits 0, counting the lost spans in a warning', { timeout: 120_000 }, async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1/traces`;
    // A long delay keeps every span queued until shutdown, so the final export is the one that fails.
    const env = { OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_BSP_EXPORT_TIMEOUT: '1000' };
    const { child, exited, waitForLog, entries, stderr } = nereid(['--model-repository', 'models', ...LOOPBACK, '--exit-timeout-secs', '5', '--trace-config', `level=TIMESTAMPS,rate=1,url=${url}`], env);
    const listening = await waitForLog('gRPC endpoint listening');
    await waitForLog('server is ready');
    const client = new ProtoClient(`127.0.0.1:${listening['port']}`);
    const response = (await client.call('ModelInfer', {
      model_name: 'simple',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16] },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16] },
      ],
      raw_input_contents: [int32Bytes(new Array(16).fill(3)), int32Bytes(new Array(16).fill(4))],
    })) as { outputs: { name: string }[] };
    client.close();
    assert.deepEqual(response.outputs.map((o) => o.name), ['OUTPUT0', 'OUTPUT1'], 'served with tracing on');
    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0, `exit status (stderr: ${stderr()})`);
    const lost = entries.find((e) => e['msg'] === 'tracing stopped; some spans were never exported');
    assert.ok(lost !== undefined, 'the lost spans are reported');
    assert.equal(lost['level'], 40, 'as a warning');
    assert.ok(typeof lost['spansLost'] === 'number' && lost['spansLost'] > 0, 'with their count');
    assert.equal(lost['spansLost'], lost['spansEnded'], 'none reached a collector');
    assert.equal(entries.at(-1)?.['msg'], 'shutdown complete');
    assert.equal(entries.filter((e) => e['msg'] === 'shutdown failed').length, 0);
  });

  it('on SIGTERM goes NOT_SERVING, finishes the request in flight, and exits 0', async () => {
    const { child, exited, waitForLog } = nereid(['--model-repository', await testRepository(), '--grpc-port', '0', '--grpc-address', '127.0.0.1', '--http-port', '0', '--http-address', '127.0.0.1', '--metrics-address', '127.0.0.1', '--metrics-port', '0', '--log-format', 'json']);
    const listening = await waitForLog('gRPC endpoint listening');
    await waitForLog('server is ready');
    const client = new ProtoClient(`127.0.0.1:${listening['port']}`);
    const watch = (client.health as any).Watch({ service: '' });
    const statuses: string[] = [];
    watch.on('data', (m: { status: string }) => statuses.push(m.status));
    watch.on('error', () => {});
    const inFlight = client.call('ModelInfer', {
      model_name: 'slow',
      inputs: [
        { name: 'INPUT0', datatype: 'FP32', shape: [1, 16] },
        { name: 'DELAY', datatype: 'INT64', shape: [1, 1] },
      ],
      raw_input_contents: [float32Bytes(new Array(16).fill(1)), int64Bytes([30_000])],
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill('SIGTERM');
    const [code] = await exited;
    await inFlight;
    client.close();
    assert.equal(code, 0);
    assert.deepEqual(statuses, ['SERVING', 'NOT_SERVING']);
  });
});
