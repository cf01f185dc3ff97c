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
    }
    assert.ok(run.inProcess !== null && run.inProcess.best.itemsPerSec >= run.inProcess.batch1.itemsPerSec);
    assert.equal(run.checks.length, 2, 'simple: nereid/echo and traced/untraced');
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
    const svg = renderThroughputSvg(run);
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.doesNotMatch(svg, /NaN/);
  });
});
