import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchRun, ResultRow } from '../../../scripts/bench/bench-types.js';
import { computeCost, costChecks, inProcessPointFor } from '../../../scripts/bench/cost.js';

const latency = { count: 10, meanUs: 1000, p50Us: 1000, p90Us: 1200, p95Us: 1300, p99Us: 1500, maxUs: 2000 };
const row = (target: string, level: number, inferPerSec: number, serverTotalUs: number, extra: Partial<ResultRow> = {}): ResultRow => ({
  target,
  level,
  inferPerSec,
  requestsPerSec: inferPerSec,
  latency,
  clientSendUs: 1,
  clientRecvUs: 1,
  server: null,
  clientCpuPct: 50,
  serverCpuPct: 80,
  cpu: { serverMainUs: serverTotalUs / 2, serverInstancesUs: serverTotalUs / 4, serverOtherUs: serverTotalUs / 4, serverTotalUs, clientUs: 100 },
  windows: 3,
  stable: true,
  errors: 0,
  ...extra,
});
const point = (batch: number, itemsPerSec: number, cpuPerItemUs: number, p50Us = 500) => ({ batch, itemsPerSec, latency: { ...latency, p50Us }, cpuPerItemUs });
const run = (name: string, results: ResultRow[]): BenchRun => ({
  schema: 'nereid-bench/1',
  startedAt: '',
  durationSec: 1,
  machine: { cpus: 2, cpuModel: '', memoryGiB: 1, node: '', os: '', commit: '' },
  workload: { name, model: name, inputs: [], batchSize: 1, requestBytes: 1 },
  settings: { mode: 'concurrency', levels: [1, 16, 32], warmupMs: 1, windowMs: 1, stability: 0.1, maxWindows: 3, rounds: 1, clientWorkers: 1, seed: 1 },
  targets: ['nereid', 'echo', 'inprocess'],
  results,
  inProcess: {
    sessions: 2,
    threadsPerSession: 1,
    sweep: [point(1, 1000, 40, 700), point(2, 1500, 30), point(4, 2000, 20), point(8, 2400, 15)],
    batch1: { itemsPerSec: 1000, latency: { ...latency, p50Us: 700 }, cpuPerItemUs: 40 },
    best: point(8, 2400, 15),
  },
  checks: [],
});

describe('cost of one request (issue 13)', () => {
  it('takes the in-process CPU at the batch nearest the batches the server executed', () => {
    const ip = run('simple', []).inProcess!;
    assert.deepEqual(inProcessPointFor(ip, 3.1), { batch: 4, cpuPerItemUs: 20 });
    assert.deepEqual(inProcessPointFor(ip, 1.2), { batch: 1, cpuPerItemUs: 40 });
    assert.deepEqual(inProcessPointFor(ip, null), { batch: 1, cpuPerItemUs: 40 }, 'unknown: batch 1');
  });

  it('overhead is server − echo − in-process, and the shared-CPU limit adds the two costs', () => {
    const r = run('simple', [row('nereid', 16, 900, 345, { executedBatch: 2 }), row('echo', 16, 1200, 150)]);
    const [cost] = computeCost(r);
    assert.equal(cost!.overheadUs, 345 - 150 - 30);
    assert.equal(cost!.inProcessBatch, 2);
    const limit = 1 / (1 / 1200 + 1 / 2400);
    assert.ok(Math.abs(cost!.sharedLimitPerSec! - limit) < 1e-9);
    assert.ok(Math.abs(cost!.limitRatio! - 900 / limit) < 1e-9);
    assert.equal(cost!.mainThreadCeilingPerSec, 1e6 / (345 / 2));
    const checks = costChecks({ ...r, cost: [cost!] }, [cost!]);
    assert.deepEqual(checks.map((c) => [c.goal, c.met]), [['<= 60 µs', false], ['>= 0.90', true]]);
  });

  it('ocr-cls at c=1 compares p50 with echo p50 + in-process batch-1 p50 + 0.3 ms', () => {
    const r = run('ocr-cls', [row('nereid', 1, 300, 2000, { latency: { ...latency, p50Us: 2100 } }), row('echo', 1, 900, 700, { latency: { ...latency, p50Us: 1200 } })]);
    const checks = costChecks(r, computeCost(r));
    const c1 = checks.find((c) => c.name.startsWith('ocr-cls c=1'))!;
    assert.ok(Math.abs(c1.value! - 0.2) < 1e-9);
    assert.equal(c1.met, true);
    assert.equal(checks.find((c) => c.name.includes('overhead'))!.met, null, 'c=32 was not measured');
  });

  it('leaves overhead blank when the server CPU could not be read', () => {
    const blind = row('nereid', 16, 900, 345);
    const r = run('simple', [{ ...blind, cpu: { ...blind.cpu!, serverTotalUs: null, serverMainUs: null } }, row('echo', 16, 1200, 150)]);
    const [cost] = computeCost(r);
    assert.equal(cost!.overheadUs, null);
    assert.equal(cost!.mainThreadCeilingPerSec, null);
    assert.match(costChecks(r, [cost!])[0]!.note, /not measured/);
  });
});
