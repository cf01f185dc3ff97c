import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ProtoClient } from '../../scripts/lib/grpc-client.js';
import { EXAMPLE_REPOSITORY, scratchDirectory } from '../helpers/fixtures.js';
import { nereid } from '../helpers/nereid-process.js';
import { waitUntil } from '../helpers/wait-until.js';

/** Appended to each copied line: loopback and free ports (the last value of a flag wins), JSON logs. */
const LOOPBACK = ['--grpc-port=0', '--grpc-address=127.0.0.1', '--http-port=0', '--http-address=127.0.0.1', '--metrics-port=0', '--metrics-address=127.0.0.1', '--log-format=json'];

/** Starts a copied command line, checks it serves the example models, then stops it with SIGTERM. */
async function serves(args: string[]): Promise<Record<string, unknown>[]> {
  const process = nereid([...args, ...LOOPBACK]);
  const listening = await process.waitForLog('gRPC endpoint listening');
  await process.waitForLog('server is ready');
  const client = new ProtoClient(`127.0.0.1:${listening['port']}`);
  assert.deepEqual(await client.call('ServerReady', {}), { ready: true });
  assert.deepEqual(await client.call('ModelReady', { name: 'simple' }), { ready: true });
  client.close();
  process.child.kill('SIGTERM');
  const [code] = await process.exited;
  assert.equal(code, 0, process.stderr());
  return process.entries;
}

const warnings = (entries: Record<string, unknown>[]) => entries.filter((e) => e['level'] === 40 && e['flag'] !== undefined).map((e) => e['flag']);

describe('tritonserver command lines, copied', () => {
  it("from Triton's quick start (docker run ... tritonserver --model-repository=/models) serves without a warning", async () => {
    const entries = await serves(['tritonserver', `--model-repository=${EXAMPLE_REPOSITORY}`]);
    assert.deepEqual(warnings(entries), []);
  });

  it("from KServe's kserve-tritonserver runtime serves gRPC and HTTP without a warning", async () => {
    const entries = await serves(['tritonserver', `--model-store=${EXAMPLE_REPOSITORY}`, '--grpc-port=9000', '--http-port=8080', '--allow-grpc=true', '--allow-http=true']);
    assert.deepEqual(warnings(entries), []);
    assert.ok(entries.some((e) => e['msg'] === 'HTTP endpoint listening'));
  });

  it("from Triton's Helm chart (k8s-onprem), with the server arguments its values suggest, serves", async () => {
    const entries = await serves([
      'tritonserver', `--model-repository=${EXAMPLE_REPOSITORY}`, '--model-control-mode=POLL', '--repository-poll-secs=30', '--strict-model-config=false',
      '--log-verbose=1', '--exit-on-error=true', '--backend-config=onnxruntime,default-max-batch-size=8', '--pinned-memory-pool-byte-size=268435456',
    ]);
    assert.deepEqual(warnings(entries), ['--strict-model-config', '--pinned-memory-pool-byte-size']);
  });

  it('writes the log to --log-file, with --log-format default timestamps, and nothing to stdout', async () => {
    const file = path.join(scratchDirectory('log-file'), 'nereid.log');
    const process = nereid([`--model-repository=${EXAMPLE_REPOSITORY}`, ...LOOPBACK, `--log-file=${file}`, '--log-format=default']);
    const lines = () => (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitUntil(() => lines().some((l) => l['msg'] === 'server is ready'), 'the log file says the server is ready', 60_000);
    process.child.kill('SIGTERM');
    const [code] = await process.exited;
    assert.equal(code, 0, process.stderr());
    assert.deepEqual(process.entries, [], 'stdout stays empty');
    assert.ok(lines().every((l) => typeof l['time'] === 'number'), "Triton's default format: milliseconds since the epoch");
    assert.equal(lines().at(-1)!['msg'], 'shutdown complete');
  });

  it('stops with exit status 2 and the reason for a flag Nereid cannot honour, or a log file it cannot open', async () => {
    const refused = nereid(['tritonserver', `--model-repository=${EXAMPLE_REPOSITORY}`, '--rate-limit=execution_count']);
    assert.equal((await refused.exited)[0], 2);
    assert.equal(refused.stderr(), 'nereid: --rate-limit=execution_count cannot be honoured: Nereid has no rate limiter; an idle instance runs the next batch at once\n');
    const noFile = nereid([`--model-repository=${EXAMPLE_REPOSITORY}`, '--log-file=/nonexistent/dir/nereid.log']);
    assert.equal((await noFile.exited)[0], 2);
    assert.match(noFile.stderr(), /^nereid: cannot write the log to --log-file \/nonexistent\/dir\/nereid.log: ENOENT/);
  });

  it('with --allow-grpc=false and --allow-http=false serves only metrics', async () => {
    const process = nereid([`--model-repository=${EXAMPLE_REPOSITORY}`, ...LOOPBACK, '--allow-grpc=false', '--allow-http=false']);
    const metrics = await process.waitForLog('metrics endpoint listening (GET /metrics)');
    await process.waitForLog('server is ready');
    assert.equal(process.entries.some((e) => e['msg'] === 'gRPC endpoint listening'), false);
    const text = await (await fetch(`http://127.0.0.1:${metrics['port']}/metrics`)).text();
    assert.match(text, /nv_inference_pending_request_count\{model="simple",version="1"\} 0/);
    process.child.kill('SIGTERM');
    assert.equal((await process.exited)[0], 0);
  });
});
