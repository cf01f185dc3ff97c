import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecutionRequest } from '../../../src/core/execution.js';
import { InstancePool } from '../../../src/instance/instance-pool.js';
import { cpuPlan, fakeSpawner, floatTensor } from '../../helpers/fake-worker.js';
import { silentLogger } from '../../helpers/scheduler-fakes.js';
import { waitUntil } from '../../helpers/wait-until.js';

const backend = { kind: 'identity', outputToInput: { Y: 'X' } } as const;

async function startedPool(count: number) {
  const { spawn, workers } = fakeSpawner();
  const pool = new InstancePool(Array.from({ length: count }, (_, i) => cpuPlan(`m_${i}`)), backend, silentLogger, spawn);
  const starting = pool.start();
  for (const worker of workers) worker.send({ type: 'ready' });
  await starting;
  return { pool, workers };
}

function request(): ExecutionRequest {
  return { inputs: [floatTensor('X', [1])], outputNames: ['Y'], variant: 'fp32' };
}

/** Resolves after the microtasks queued so far have run. */
const microtasks = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('InstancePool', () => {
  it('leases each idle instance once, and none while all are leased', async () => {
    const { pool } = await startedPool(2);
    const a = pool.acquire();
    const b = pool.acquire();
    assert.deepEqual([a?.instanceName, b?.instanceName], ['m_0', 'm_1']);
    assert.equal(pool.acquire(), undefined);
    assert.equal(pool.isInstanceIdle(0), false);
    assert.deepEqual(pool.statuses().map((s) => s.state), ['busy', 'busy']);
  });

  it('keeps the lease after the execution settles, until the holder releases it', async () => {
    const { pool, workers } = await startedPool(1);
    const executor = pool.acquire()!;
    const running = executor.execute(request());
    workers[0]!.answer(workers[0]!.runs[0]!);
    await running;
    assert.equal(pool.acquire(), undefined);
    executor.release();
    assert.equal(pool.acquire()?.instanceName, 'm_0');
    assert.equal(pool.statuses()[0]!.executions, 1);
  });

  it('announces idleness after release returns, once for several releases in one turn', async () => {
    const { pool } = await startedPool(2);
    const leases = [pool.acquire()!, pool.acquire()!];
    let calls = 0;
    pool.onIdle(() => (calls += 1));
    for (const lease of leases) {
      lease.release();
      assert.equal(calls, 0, 'the listener must not run inside release');
    }
    await microtasks();
    assert.equal(calls, 1);
  });

  it('replaces an instance whose worker dies, and a late release of the dead lease does not free the replacement', async () => {
    const { pool, workers } = await startedPool(1);
    const failed: string[] = [];
    pool.onInstanceFailed((_, name) => failed.push(name));
    const old = pool.acquire()!;
    const running = old.execute(request());
    workers[0]!.exit(70);
    await assert.rejects(running, /INSTANCE_FAILED|failed while running/);
    assert.deepEqual(failed, ['m_0']);
    await waitUntil(() => workers.length === 2, 'a replacement worker');
    workers[1]!.send({ type: 'ready' });
    await waitUntil(() => pool.isInstanceIdle(0), 'the replacement to be idle');
    const replacement = pool.acquire()!;
    old.release();
    assert.equal(pool.acquire(), undefined, 'the replacement is still leased');
    replacement.release();
    assert.equal(pool.statuses()[0]!.restarts, 1);
  });

  it('fails to start when one instance fails to load, stopping the others', async () => {
    const { spawn, workers } = fakeSpawner();
    const pool = new InstancePool([cpuPlan('m_0'), cpuPlan('m_1')], backend, silentLogger, spawn);
    const starting = pool.start();
    workers[0]!.send({ type: 'ready' });
    workers[1]!.send({ type: 'load-failed', message: 'bad model' });
    await assert.rejects(starting, /bad model/);
    assert.equal(workers[0]!.posted.at(-1)?.message.type, 'stop');
  });
});
