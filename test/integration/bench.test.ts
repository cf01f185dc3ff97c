import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseCsv } from '../../scripts/bench/csv.js';
import { renderMarkdown, renderThroughputSvg } from '../../scripts/bench/report.js';
import { parseOptions, runBench, writeRun } from '../../scripts/bench/run.js';
import { scratchDirectory } from '../helpers/fixtures.js';

describe('benchmark harness, a few seconds against the example repository', () => {
  it('produces a report whose numbers agree with each other', async () => {
    const out = scratchDirectory('bench');
    const parsed = parseOptions([
      '--workload', 'simple',
      '--concurrency', '1,4',
      '--rounds', '1',
      '--warmup-ms', '200',
      '--window-ms', '300',
      '--max-windows', '3',
      '--inprocess-ms', '200',
      '--out', out,
    ]);
    assert.notEqual(parsed, 'help');
    if (parsed === 'help') return;
    const run = await runBench({ ...parsed, quiet: true, nereidEntry: 'source' });

    assert.deepEqual(run.targets, ['nereid', 'echo', 'inprocess']);
    assert.equal(run.results.length, 4);
    for (const row of run.results) {
      assert.equal(row.errors, 0, `${row.target} c=${row.level} had errors`);
      assert.ok(row.inferPerSec > 0);
      assert.equal(row.inferPerSec, row.requestsPerSec * run.workload.batchSize);
      const l = row.latency;
      assert.ok(l.count > 0 && l.p50Us <= l.p90Us && l.p90Us <= l.p95Us && l.p95Us <= l.p99Us && l.p99Us <= l.maxUs);
      assert.ok(row.windows >= 3);
      if (row.target === 'nereid') {
        // The server's own split of each request, from ModelStatistics over the same windows.
        const split = row.server;
        assert.ok(split !== null, 'nereid rows carry the server-side split');
        const phases = split.queueUs + split.computeInputUs + split.computeInferUs + split.computeOutputUs;
        assert.ok(Object.values(split).every((v) => v >= 0), `non-negative phases: ${JSON.stringify(split)}`);
        assert.ok(phases < row.latency.meanUs, `server phases ${phases} µs fit in the client's mean latency ${row.latency.meanUs} µs`);
      } else {
        assert.equal(row.server, null, 'echo keeps no statistics');
        assert.match(row.serverNote ?? '', /^blank: /);
      }
      assert.ok(row.clientCpuPct > 0);
      // CPU per request from /proc: every column present, finite and not negative.
      const cpu = row.cpu;
      assert.ok(cpu !== undefined, `${row.target} c=${row.level} has CPU per request`);
      for (const [name, value] of Object.entries(cpu)) {
        assert.ok(typeof value === 'number' && Number.isFinite(value) && value >= 0, `${row.target} c=${row.level} ${name} = ${value}`);
      }
      assert.ok(cpu.serverTotalUs! > 0 && cpu.clientUs > 0 && cpu.serverMainUs! > 0);
      assert.ok(Math.abs(cpu.serverMainUs! + cpu.serverInstancesUs! + cpu.serverOtherUs! - cpu.serverTotalUs!) < 1e-6 * cpu.serverTotalUs!, 'the groups add up to the total');
      // Inference runs on the instance threads, which the echo does not have.
      if (row.target === 'nereid') assert.ok(cpu.serverInstancesUs! > 0, 'nereid spends CPU on its instance threads');
    }
    // The echo answers with the model's outputs: simple's two INT32 [1,16].
    assert.deepEqual(run.responseOutputs, [
      { name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16], bytes: 64 },
      { name: 'OUTPUT1', datatype: 'INT32', shape: [1, 16], bytes: 64 },
    ]);
    for (const point of run.inProcess!.sweep) assert.ok(Number.isFinite(point.cpuPerItemUs) && point.cpuPerItemUs! > 0, `in-process batch ${point.batch} CPU per item`);
    assert.deepEqual(run.cost?.map((c) => [c.target, c.level]), [['nereid', 1], ['nereid', 4]]);
    for (const c of run.cost!) {
      for (const value of [c.serverUs, c.mainUs, c.instancesUs, c.echoUs, c.inProcessUs, c.sharedLimitPerSec, c.limitRatio, c.mainThreadCeilingPerSec]) {
        assert.ok(typeof value === 'number' && Number.isFinite(value) && value >= 0, `cost at c=${c.level}: ${JSON.stringify(c)}`);
      }
      // The overhead may come out negative on a noisy machine, but it is a number.
      assert.ok(Number.isFinite(c.overheadUs), `overhead at c=${c.level}`);
    }
    assert.ok(run.inProcess !== null && run.inProcess.best.itemsPerSec >= run.inProcess.batch1.itemsPerSec);
    assert.equal(run.checks.length, 4, 'simple: nereid/echo, traced/untraced, overhead and the shared-CPU limit');
    for (const check of run.checks) assert.equal(check.value, null, `${check.name}: checked at c=16, which this run skipped`);

    const file = writeRun(run, out);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), JSON.parse(JSON.stringify(run)));
    const csv = parseCsv(readFileSync(path.join(out, 'simple-nereid.csv'), 'utf8'));
    assert.equal(csv.header[0], 'Concurrency');
    assert.equal(csv.header[1], 'Inferences/Second');
    assert.equal(csv.rows.length, 2);
    const nereidAt4 = run.results.find((r) => r.target === 'nereid' && r.level === 4)!;
    const csvAt4 = csv.rows.find((r) => r[0] === '4')!;
    assert.equal(Number(csvAt4[1]), Number(nereidAt4.inferPerSec.toPrecision(6)));
    assert.equal(Number(csvAt4[csv.header.indexOf('p99 latency')]), Math.round(nereidAt4.latency.p99Us));
    assert.ok(existsSync(path.join(out, 'simple-echo.csv')));

    const markdown = renderMarkdown(run, 'simple');
    assert.match(markdown, /nereid/);
    assert.match(markdown, /echo/);
    assert.match(markdown, /## CPU per request/);
    const svg = renderThroughputSvg(run);
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.doesNotMatch(svg, /NaN/);
  });

  it('--protocol http measures nereid and echo over HTTP/REST with binary data, overhead against the HTTP echo', async () => {
    const both = parseOptions(['--workload', 'simple', '--protocol', 'grpc,http']);
    assert.deepEqual(both !== 'help' && both.targets, ['nereid', 'nereid-http', 'echo', 'echo-http', 'inprocess']);
    assert.throws(() => parseOptions(['--workload', 'simple', '--protocol', 'https']), /--protocol must be grpc, http or grpc,http/);
    const parsed = parseOptions([
      '--workload', 'simple',
      '--protocol', 'http',
      '--concurrency', '2',
      '--rounds', '1',
      '--warmup-ms', '200',
      '--window-ms', '300',
      '--max-windows', '3',
      '--inprocess-ms', '200',
      '--out', scratchDirectory('bench-http'),
    ]);
    assert.notEqual(parsed, 'help');
    if (parsed === 'help') return;
    const run = await runBench({ ...parsed, quiet: true, nereidEntry: 'source' });

    assert.deepEqual(run.targets, ['nereid-http', 'echo-http', 'inprocess']);
    for (const row of run.results) {
      assert.equal(row.errors, 0, `${row.target} had errors`);
      assert.ok(row.inferPerSec > 0 && row.latency.count > 0);
      assert.ok(row.cpu !== undefined && row.cpu.serverTotalUs! > 0 && row.cpu.serverMainUs! > 0 && row.cpu.clientUs > 0, `${row.target} CPU per request: ${JSON.stringify(row.cpu)}`);
      // The server's statistics are read over gRPC whatever protocol carries the load.
      if (row.target === 'nereid-http') assert.ok(row.server !== null && row.cpu.serverInstancesUs! > 0);
      else assert.equal(row.server, null);
      // Bodies with a JSON header and binary tensors, timed as the client builds them.
      assert.ok(row.clientSendUs !== null && row.clientSendUs > 0);
    }
    const [cost] = run.cost!;
    assert.equal(cost?.target, 'nereid-http');
    assert.equal(cost.echoUs, run.results.find((r) => r.target === 'echo-http')!.cpu!.serverTotalUs, 'HTTP overhead is measured against the HTTP echo');
    assert.ok(Number.isFinite(cost.overheadUs) && Number.isFinite(cost.limitRatio));
  });
});
