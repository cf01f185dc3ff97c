import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXAMPLE_REPOSITORY, scratchDirectory } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitUntil } from '../helpers/wait-until.js';

/** `simple` plus a model whose config does not parse, so strict readiness is false. */
function repositoryWithBrokenModel(): string {
  const dir = scratchDirectory('health');
  mkdirSync(path.join(dir, 'broken', '1'), { recursive: true });
  writeFileSync(path.join(dir, 'broken', 'config.pbtxt'), 'max_batch_size: [');
  copyFileSync(path.join(EXAMPLE_REPOSITORY, 'simple', '1', 'model.onnx'), path.join(dir, 'broken', '1', 'model.onnx'));
  return dir;
}

/** Opens a Watch on `service` and collects the statuses it streams. */
function watch(t: TestServer, service: string): { statuses: string[]; cancel(): void } {
  const statuses: string[] = [];
  const call = (t.client.health as unknown as { Watch(req: object): NodeJS.EventEmitter & { cancel(): void } }).Watch({ service });
  call.on('data', (m: { status: string }) => statuses.push(m.status));
  call.on('error', () => {});
  return { statuses, cancel: () => call.cancel() };
}

describe('grpc.health.v1 for Kubernetes probes: liveness apart from readiness', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer([repositoryWithBrokenModel(), EXAMPLE_REPOSITORY]);
  });
  after(async () => {
    await t.stop();
  });

  it("'' is strict readiness (NOT_SERVING while a model is unavailable); 'live' is SERVING", async () => {
    assert.deepEqual(await t.client.call('ServerReady', {}), { ready: false });
    assert.deepEqual(await t.client.healthCheck(''), { status: 'NOT_SERVING' });
    assert.deepEqual(await t.client.healthCheck('live'), { status: 'SERVING' });
    assert.deepEqual(await t.client.healthCheck('simple'), { status: 'SERVING' });
  });

  it("Watch on 'live' says SERVING, and stays SERVING through the graceful drain; '' turns NOT_SERVING at once", async () => {
    const other = await startTestServer([EXAMPLE_REPOSITORY]);
    const live = watch(other, 'live');
    const ready = watch(other, '');
    await waitUntil(() => live.statuses.length > 0 && ready.statuses.length > 0, 'both watches sent their first status');
    assert.deepEqual(live.statuses, ['SERVING']);
    assert.deepEqual(ready.statuses, ['SERVING']);
    await other.stop();
    assert.deepEqual(ready.statuses, ['SERVING', 'NOT_SERVING'], 'readiness went NOT_SERVING when shutdown began');
    assert.deepEqual(live.statuses, ['SERVING'], 'liveness never failed while the process drained');
  });
});
