import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { testRepository } from '../helpers/fixtures.js';
import { ProtoClient } from '../../scripts/lib/grpc-client.js';
import { float32Bytes, int64Bytes } from '../helpers/tensors.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Runs the real command line as a child process, keeping its JSON log lines; `env` adds variables. */
function nereid(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const entries: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    entries.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = once(child, 'exit') as Promise<[number]>;
  /** Resolves with the first log entry whose msg is `msg`. */
  const waitForLog = async (msg: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const found = entries.find((e) => e['msg'] === msg);
      if (found !== undefined) return found;
      if (child.exitCode !== null) throw new Error(`exited before logging '${msg}': ${err}`);
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), exited]);
    }
  };
  return { child, exited, waitForLog, stderr: () => err };
}

describe('the nereid command', () => {
  it('exits with status 2 and names the bad flag', async () => {
    const { exited, stderr } = nereid(['--model-repository', 'models', '--grpc-port', 'eighty']);
    const [code] = await exited;
    assert.equal(code, 2);
    assert.equal(stderr(), "nereid: invalid value 'eighty' for --grpc-port: expected an integer from 0 to 65535\n");
  });

  // A time limit, so that a regression (a server that starts anyway) fails instead of hanging.
  it('refuses a malformed standard OpenTelemetry variable with status 2, naming it', { timeout: 60_000 }, async () => {
    const { exited, stderr } = nereid(['--model-repository', 'models', '--trace-config', 'level=TIMESTAMPS'], { OTEL_BSP_SCHEDULE_DELAY: 'abc' });
    const [code] = await exited;
    assert.equal(code, 2);
    assert.equal(stderr(), "nereid: invalid value 'abc' for OTEL_BSP_SCHEDULE_DELAY: expected an integer from 0 to 2147483647 (milliseconds)\n");
  });

  it('on SIGTERM goes NOT_SERVING, finishes the request in flight, and exits 0', async () => {
    const { child, exited, waitForLog } = nereid(['--model-repository', await testRepository(), '--grpc-port', '0', '--grpc-address', '127.0.0.1', '--metrics-address', '127.0.0.1', '--metrics-port', '0', '--log-format', 'json']);
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
