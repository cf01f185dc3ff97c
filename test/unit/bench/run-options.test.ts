import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchRun, ResultRow } from '../../../scripts/bench/bench-types.js';
import { computeChecks } from '../../../scripts/bench/checks.js';
import { parseLevels, parseOptions } from '../../../scripts/bench/run.js';
import { resolveInputs, seededRandom, WORKLOADS } from '../../../scripts/bench/workloads.js';

describe('bench options', () => {
  it('expands level ranges the way perf_analyzer does', () => {
    assert.deepEqual(parseLevels('1:64:x2'), [1, 2, 4, 8, 16, 32, 64]);
    assert.deepEqual(parseLevels('4:16:4'), [4, 8, 12, 16]);
    assert.deepEqual(parseLevels('1,3,9'), [1, 3, 9]);
    assert.deepEqual(parseLevels('16'), [16]);
    assert.throws(() => parseLevels('0:4:x2'));
  });

  it('parses the command line, with request-rate replacing concurrency', () => {
    const options = parseOptions(['--workload', 'ocr-cls', '--request-rate', '100:300:100', '--shape', 'x:2,3,48,192', '--client-workers', '2']);
    assert.notEqual(options, 'help');
    if (options === 'help') return;
    assert.equal(options.settings.mode, 'request-rate');
    assert.deepEqual(options.settings.levels, [100, 200, 300]);
    assert.equal(options.settings.clientWorkers, 2);
    assert.deepEqual(resolveInputs(WORKLOADS['ocr-cls']!, options.shapes, options.batchSize)[0]!.shape, [2, 3, 48, 192]);
    assert.throws(() => parseOptions(['--workload', 'nope']), /--workload must be one of simple, ocr-cls, ocr-rec/);
    assert.throws(() => parseOptions(['--workload', 'simple', '--targets', 'nereid,foo']), /unknown target 'foo'/);
    assert.equal(parseOptions(['--help']), 'help');
  });

  it('parses the precision options', () => {
    const options = parseOptions(['--workload', 'ocr-rec', '--precisions', 'fp32, int8', '--int8-mode', 'static', '--lift-tolerances', '--name', 'ocr-rec-static']);
    assert.notEqual(options, 'help');
    if (options === 'help') return;
    assert.deepEqual(options.precisions, ['fp32', 'int8']);
    assert.equal(options.int8Mode, 'static');
    assert.equal(options.liftTolerances, true);
    assert.equal(options.name, 'ocr-rec-static');
    const plain = parseOptions(['--workload', 'mlp']);
    assert.ok(plain !== 'help' && plain.precisions === undefined && plain.int8Mode === 'dynamic' && !plain.liftTolerances && plain.name === 'mlp');
  });

  it('applies --batch-size to the first dim of every input', () => {
    const inputs = resolveInputs(WORKLOADS['simple']!, new Map(), 4);
    assert.deepEqual(inputs.map((i) => i.shape), [
      [4, 16],
      [4, 16],
    ]);
  });

  it('reproduces random data from a seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const first = [a(), a(), a()];
    assert.deepEqual(first, [b(), b(), b()]);
    assert.notDeepEqual(first, [c(), c(), c()]);
    for (const x of first) assert.ok(x >= 0 && x < 1);
  });
});

describe('bench target checks', () => {
  const latency = { count: 10, meanUs: 1000, p50Us: 1000, p90Us: 1200, p95Us: 1300, p99Us: 1500, maxUs: 2000 };
  const row = (target: string, level: number, inferPerSec: number, p50Us = 1000): ResultRow => ({
    target,
    level,
    inferPerSec,
    requestsPerSec: inferPerSec,
    latency: { ...latency, p50Us },
    clientSendUs: 1,
    clientRecvUs: 1,
    server: null,
    clientCpuPct: 50,
    serverCpuPct: 80,
    windows: 3,
    stable: true,
    errors: 0,
  });
  const base = (name: string, results: ResultRow[], bestItems: number, batch1P50Us: number): BenchRun => ({
    schema: 'nereid-bench/1',
    startedAt: '',
    durationSec: 1,
    machine: { cpus: 2, cpuModel: '', memoryGiB: 1, node: '', os: '', commit: '' },
    workload: { name, model: name, inputs: [], batchSize: 1, requestBytes: 1 },
    settings: { mode: 'concurrency', levels: [1, 4, 16, 32], warmupMs: 1, windowMs: 1, stability: 0.1, maxWindows: 3, rounds: 1, clientWorkers: 1, seed: 1 },
    targets: ['nereid', 'echo', 'inprocess'],
    results,
    inProcess: {
      sessions: 2,
      threadsPerSession: 1,
      sweep: [],
      batch1: { itemsPerSec: 900, latency: { ...latency, p50Us: batch1P50Us } },
      best: { batch: 32, itemsPerSec: bestItems, latency },
    },
    checks: [],
  });

  it('simple: nereid over echo at c=16', () => {
    const [check] = computeChecks(base('simple', [row('nereid', 16, 4000), row('echo', 16, 5000)], 1e6, 10));
    assert.equal(check!.value, 0.8);
    assert.equal(check!.met, true);
  });

  it('ocr-cls: latency at c=1 and the binding limit at c=32, saying which binds', () => {
    const checks = computeChecks(base('ocr-cls', [row('nereid', 1, 500, 1700), row('nereid', 32, 800), row('echo', 32, 900)], 1700, 1100));
    assert.equal(checks[0]!.value, 0.6);
    assert.equal(checks[0]!.met, false);
    assert.ok(Math.abs(checks[1]!.value! - 800 / 900) < 1e-9);
    assert.match(checks[1]!.note, /^transport binds/);
    assert.ok(Math.abs(checks[2]!.value! - 800 / (1 / (1 / 900 + 1 / 1700))) < 1e-9, 'shared-CPU limit adds the two costs');
  });

  it('reports a check it cannot compute as not measured', () => {
    const [check] = computeChecks(base('ocr-rec', [row('nereid', 8, 50)], 80, 10));
    assert.equal(check!.value, null);
    assert.equal(check!.met, null);
    assert.match(check!.note, /not measured/);
  });
});
