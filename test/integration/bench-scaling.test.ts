import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScaling } from '../../scripts/bench/scaling.js';

describe('scaling check: the server in several processes behind one port', () => {
  it('spreads the connections over every process and reads each main thread from /proc', async () => {
    const [row] = await runScaling({
      workload: 'simple',
      processes: [2],
      concurrency: 4,
      clientWorkers: 2,
      mode: 'cluster',
      warmupMs: 200,
      windowMs: 300,
      maxWindows: 3,
      repository: undefined,
      entry: 'source',
      log: () => {},
    });
    assert.ok(row !== undefined);
    assert.equal(row.errors, 0);
    assert.equal(row.connections, 2);
    assert.ok(row.inferPerSec > 0);
    // Both processes' main threads worked: the primary handed a connection to each.
    assert.equal(row.mainBusy.length, 2);
    // An idle server main thread uses next to nothing; a loaded one a share like the other's.
    const [a, b] = row.mainBusy as [number, number];
    assert.ok(Math.min(a, b) > 0.25 * Math.max(a, b), `main threads busy ${a} and ${b}`);
    for (const v of [row.mainUsPerRequest, row.serverUsPerRequest, row.clientUsPerRequest, row.ceilingPerSec]) assert.ok(Number.isFinite(v) && v > 0, JSON.stringify(row));
    assert.ok(row.serverUsPerRequest > row.mainUsPerRequest, 'the instance threads count in the server total');
    assert.ok(row.rssMiB.length === 2 && row.rssMiB.every((m) => m > 10), `each process's memory: ${row.rssMiB}`);
  });
});
