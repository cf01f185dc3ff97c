import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BENCH_SCHEMA, type BenchRun, type LatencySummary, type ResultRow } from '../../../scripts/bench/bench-types.js';
import { toPerfAnalyzerCsv } from '../../../scripts/bench/csv.js';
import { computeChecks } from '../../../scripts/bench/checks.js';
import {
  checkCsvConsistency,
  escapeXml,
  isBenchRun,
  main,
  powersOfTwo,
  ratioTable,
  renderIndex,
  renderLatencySvg,
  renderMarkdown,
  renderThroughputSvg,
} from '../../../scripts/bench/report.js';

const lat = (p50Ms: number): LatencySummary => ({
  count: 1000,
  meanUs: p50Ms * 1000 * 1.1,
  p50Us: p50Ms * 1000,
  p90Us: p50Ms * 1500,
  p95Us: p50Ms * 1800,
  p99Us: p50Ms * 2500,
  maxUs: p50Ms * 4000,
});

function row(target: string, level: number, inferPerSec: number, over: Partial<ResultRow> = {}): ResultRow {
  return {
    target,
    level,
    inferPerSec,
    requestsPerSec: inferPerSec,
    serverCpuPct: null,
    latency: lat(level),
    clientSendUs: 12,
    clientRecvUs: 8,
    server: { queueUs: 50, computeInputUs: 4, computeInferUs: 700, computeOutputUs: 3 },
    clientCpuPct: 40,
    windows: 3,
    stable: true,
    errors: 0,
    ...over,
  };
}

const ECHO_NOTE = 'the echo server keeps no statistics';

/** nereid at 1, 2, 4, 8; echo at 1, 2, 4 only, without a server split; in-process best 1000/s at batch 8. */
const RUN: BenchRun = {
  schema: BENCH_SCHEMA,
  startedAt: '2025-03-01T10:20:30.000Z',
  durationSec: 321.5,
  machine: {
    cpus: 16,
    cpuModel: 'Test CPU @ 3.0GHz',
    memoryGiB: 62.5,
    node: 'v20.20.2',
    os: 'linux 6.8.0 x64',
    commit: '0123456789abcdef0123456789abcdef01234567-dirty',
  },
  workload: {
    name: 'resnet50 fp32',
    model: 'resnet50',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 224, 224] }],
    batchSize: 1,
    requestBytes: 602112,
  },
  settings: {
    mode: 'concurrency',
    levels: [1, 2, 4, 8],
    warmupMs: 2000,
    windowMs: 5000,
    stability: 0.1,
    maxWindows: 10,
    rounds: 2,
    clientWorkers: 4,
    seed: 42,
  },
  targets: ['nereid', 'echo'],
  results: [
    row('nereid', 1, 100),
    row('nereid', 2, 180),
    row('nereid', 4, 300, { stable: false, errors: 3 }),
    row('nereid', 8, 400),
    row('echo', 1, 200, { server: null, serverNote: ECHO_NOTE }),
    row('echo', 2, 400, { server: null, serverNote: ECHO_NOTE }),
    row('echo', 4, 500, { server: null, serverNote: ECHO_NOTE }),
  ],
  inProcess: {
    sessions: 1,
    threadsPerSession: 16,
    sweep: [
      { batch: 1, itemsPerSec: 250, latency: lat(4) },
      { batch: 8, itemsPerSec: 1000, latency: lat(8) },
    ],
    batch1: { itemsPerSec: 250, latency: lat(4) },
    best: { batch: 8, itemsPerSec: 1000, latency: lat(8) },
  },
  checks: [
    { name: 'nereid / echo at concurrency 4', value: 0.6, goal: '>= 0.5', met: true, note: 'ok' },
    { name: 'nereid / in-process best', value: 0.4, goal: '>= 0.8', met: false, note: 'far off' },
    { name: 'p99 at concurrency 1', value: null, goal: '<= 5 ms', met: null, note: 'not measured' },
  ],
};

/** Table lines of the markdown section that starts with `heading`. */
function section(md: string, heading: string): string {
  const start = md.indexOf(heading);
  assert.ok(start >= 0, `no ${heading}`);
  const next = md.indexOf('\n#', start + heading.length);
  return md.slice(start, next < 0 ? undefined : next);
}

/** Splits a markdown table line into trimmed cells. */
const cells = (line: string): string[] =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((c) => c.trim());

/**
 * A small well-formedness check: tags balance, attribute values are quoted, and text holds no
 * raw `<` or unescaped `&`.
 */
function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  const token = /<[^>]*>|[^<]+/g;
  for (const match of xml.matchAll(token)) {
    const t = match[0];
    if (!t.startsWith('<')) {
      assert.doesNotMatch(t, /&(?!(amp|lt|gt|quot|apos);)/, `unescaped & in ${JSON.stringify(t)}`);
      continue;
    }
    if (t.startsWith('</')) {
      const name = t.slice(2, -1).trim();
      assert.equal(stack.pop(), name, `mismatched </${name}>`);
      continue;
    }
    const m = /^<([A-Za-z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>$/.exec(t);
    assert.ok(m !== null, `malformed tag ${t}`);
    if (m[3] !== '/') stack.push(m[1]!);
  }
  assert.deepEqual(stack, [], 'unclosed tags');
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;

// Explicit messages: a failing message-less assert.ok makes node parse the source for one, which
// takes minutes on this file under tsx.
const has = (text: string, needle: string): void => assert.ok(text.includes(needle), `missing ${needle}`);
const lacks = (text: string, needle: string): void => assert.ok(!text.includes(needle), `unexpected ${needle}`);

describe('renderMarkdown', () => {
  const md = renderMarkdown(RUN, 'run1');

  it('describes the machine, workload and settings', () => {
    for (const text of [
      '16 × Test CPU @ 3.0GHz',
      '62.5 GiB',
      'v20.20.2',
      'linux 6.8.0 x64',
      '`0123456789abcdef0123456789abcdef01234567-dirty`',
      '`resnet50`',
      'FP32 [1, 3, 224, 224]',
      '602,112 B (588.0 KiB)',
      '| Concurrency levels | 1, 2, 4, 8 |',
      '| Rounds | 2 |',
      '| Client workers | 4 |',
      '| Seed | 42 |',
      '±10 %',
    ]) {
      assert.ok(md.includes(text), `missing ${text}`);
    }
  });

  it('has a perf_analyzer-style table per target, by increasing level', () => {
    const nereid = section(md, '### nereid');
    const lines = nereid.split('\n').filter((l) => l.startsWith('|'));
    const header = cells(lines[0]!);
    assert.deepEqual(header.slice(0, 6), ['Concurrency', 'Inferences/Second', 'p50 (ms)', 'p90 (ms)', 'p95 (ms)', 'p99 (ms)']);
    for (const name of ['Client CPU %', 'Stable', 'Errors']) assert.ok(header.includes(name), `no ${name} column`);
    const body = lines.slice(2).map(cells);
    assert.deepEqual(
      body.map((c) => c[0]),
      ['1', '2', '4', '8'],
    );
    const at2 = body[1]!;
    assert.deepEqual(at2.slice(0, 6), ['2', '180.0', '2.00', '3.00', '3.60', '5.00']);
    const col = (name: string): number => header.indexOf(name);
    // mean 2200 - (12 + 8 + 50 + 4 + 700 + 3) = 1423.
    assert.equal(at2[col('Network+Server Send/Recv (µs)')], '1423');
    assert.equal(at2[col('Server Compute Infer (µs)')], '700');
    assert.equal(at2[col('Client CPU %')], '40');
    const at4 = body[2]!;
    assert.equal(at4[col('Stable')], '**no**');
    assert.equal(at4[col('Errors')], '**3**');
    has(md, '### echo');
  });

  it('shows "—" for a null server split, with the note once below the table', () => {
    const echo = section(md, '### echo');
    const lines = echo.split('\n').filter((l) => l.startsWith('|'));
    const header = cells(lines[0]!);
    for (const line of lines.slice(2)) {
      const c = cells(line);
      for (const name of ['Server Queue (µs)', 'Server Compute Infer (µs)', 'Network+Server Send/Recv (µs)']) {
        assert.equal(c[header.indexOf(name)], '—');
      }
    }
    assert.equal(count(md, ECHO_NOTE), 1);
    assert.ok(!section(md, '### nereid').includes('Server split not available'));
  });

  it('shows the in-process baseline: batch 1, best, and the sweep', () => {
    const ip = section(md, '## In-process baseline');
    has(ip, '1 session(s) × 16 thread(s)');
    assert.match(ip, /\| Batch 1 \| 1 \| 250\.0 \| 4\.00 \|/);
    assert.match(ip, /\| Best \| 8 \| 1000\.0 \| 8\.00 \|/);
    assert.match(ip, /\| \*\*8\*\* \| \*\*1000\.0\*\* \|/);
  });

  it('computes the ratios at the levels both targets have', () => {
    const ratios = section(md, '## Ratios');
    const lines = ratios.split('\n').filter((l) => l.startsWith('|'));
    assert.deepEqual(cells(lines[0]!), [
      'Concurrency',
      'nereid (infer/s)',
      'echo (infer/s)',
      'nereid / echo',
      'nereid / in-process best',
    ]);
    assert.deepEqual(lines.slice(2).map(cells), [
      ['1', '100.0', '200.0', '0.50', '0.10'],
      ['2', '180.0', '400.0', '0.45', '0.18'],
      ['4', '300.0', '500.0', '0.60', '0.30'],
    ]);
  });

  it('lists the checks with ✅ / ❌ / —', () => {
    const checks = section(md, '## Checks');
    assert.match(checks, /\| ✅ \| nereid \/ echo at concurrency 4 \| 0\.6 \| >= 0\.5 \| ok \|/);
    assert.match(checks, /\| ❌ \| nereid \/ in-process best \| 0\.4 \| >= 0\.8 \| far off \|/);
    assert.match(checks, /\| — \| p99 at concurrency 1 \| — \| <= 5 ms \| not measured \|/);
  });

  it('links the SVGs', () => {
    has(md, '](run1-throughput.svg)');
    has(md, '](run1-latency-nereid.svg)');
    has(md, '](run1-latency-echo.svg)');
  });

  it('renders a run without in-process result, checks or other targets', () => {
    const solo: BenchRun = {
      ...RUN,
      targets: ['nereid'],
      results: RUN.results.filter((r) => r.target === 'nereid'),
      inProcess: null,
      checks: [],
    };
    const text = renderMarkdown(solo, 'solo');
    has(text, 'No in-process baseline');
    has(text, 'No checks');
    has(text, 'Nothing to compare');
  });
});

describe('ratioTable', () => {
  it('takes nereid as the subject and skips levels the other target lacks', () => {
    const t = ratioTable(RUN);
    assert.equal(t.subject, 'nereid');
    assert.deepEqual(t.others, ['echo']);
    assert.deepEqual(
      t.rows.map((r) => [r.level, r.vs[0]!.ratio, r.vsInProcessBest]),
      [
        [1, 0.5, 0.1],
        [2, 0.45, 0.18],
        [4, 0.6, 0.3],
      ],
    );
  });

  it('leaves the in-process baseline out of the per-level ratios and target sections, as real runs list it', () => {
    const run = { ...RUN, targets: ['nereid', 'echo', 'inprocess'] };
    const t = ratioTable(run);
    assert.deepEqual(t.others, ['echo']);
    assert.equal(t.rows.length, 3);
    const md = renderMarkdown(run, 'run');
    assert.doesNotMatch(md, /No level was measured/);
    assert.doesNotMatch(md, /### inprocess/);
    assert.match(md, /Targets: `nereid`, `echo`, `inprocess`/);
  });

  it('falls back to the first target when there is no nereid', () => {
    const t = ratioTable({ ...RUN, targets: ['b', 'a'], results: [row('a', 1, 50), row('b', 1, 100)] });
    assert.equal(t.subject, 'b');
    assert.equal(t.rows[0]!.vs[0]!.ratio, 2);
  });
});

describe('renderThroughputSvg', () => {
  const svg = renderThroughputSvg(RUN);

  it('is a well-formed SVG document', () => {
    assert.match(svg, /^<svg /);
    has(svg, 'xmlns="http://www.w3.org/2000/svg"');
    has(svg, 'font-family="sans-serif"');
    assertWellFormedXml(svg);
    lacks(svg, 'NaN');
  });

  it('has one line per target, a legend, and dashed in-process lines', () => {
    assert.equal(count(svg, '<polyline'), 2);
    for (const label of ['>nereid<', '>echo<', '>in-process batch 1<', '>in-process best (batch 8)<']) {
      assert.ok(svg.includes(label), `missing legend ${label}`);
    }
    assert.equal(count(svg, 'class="reference"'), 2);
    has(svg, 'stroke-dasharray');
    // One marker per point in the plot, plus one per series in the legend.
    assert.equal(count(svg, '<circle'), 7 + 2);
  });

  it('uses a log2 x axis for power-of-two levels and a linear one otherwise', () => {
    has(svg, 'log2 scale');
    for (const tick of ['>1<', '>2<', '>4<', '>8<']) assert.ok(svg.includes(tick));
    assert.equal(powersOfTwo([1, 2, 4, 8]), true);
    assert.equal(powersOfTwo([1, 3, 6]), false);
    assert.equal(powersOfTwo([]), false);
    const linear = renderThroughputSvg({
      ...RUN,
      settings: { ...RUN.settings, levels: [1, 3, 6] },
      results: [row('nereid', 1, 10), row('nereid', 3, 30), row('nereid', 6, 50), row('echo', 3, 40)],
    });
    lacks(linear, 'log2');
    assertWellFormedXml(linear);
    assert.equal(count(linear, '<polyline'), 2);
  });

  it('escapes labels and never writes NaN, even for missing values', () => {
    const odd: BenchRun = {
      ...RUN,
      workload: { ...RUN.workload, name: 'a<b & "c"' },
      targets: ['x<y>&z'],
      results: [
        row('x<y>&z', 1, 10),
        row('x<y>&z', 2, NaN),
        row('x<y>&z', 4, 30, { latency: { ...lat(1), p99Us: NaN, p95Us: null as unknown as number } }),
      ],
      inProcess: null,
    };
    const t = renderThroughputSvg(odd);
    assertWellFormedXml(t);
    has(t, 'x&lt;y&gt;&amp;z');
    has(t, 'a&lt;b &amp; &quot;c&quot;');
    lacks(t, 'NaN');
    const l = renderLatencySvg(odd, 'x<y>&z');
    assertWellFormedXml(l);
    lacks(l, 'NaN');
    const md = renderMarkdown(odd, 'odd');
    lacks(md, 'NaN');
    assert.equal(escapeXml(`<&>"'`), '&lt;&amp;&gt;&quot;&apos;');
  });

  it('renders an empty run without failing', () => {
    const empty: BenchRun = { ...RUN, targets: [], results: [], inProcess: null, settings: { ...RUN.settings, levels: [] } };
    const t = renderThroughputSvg(empty);
    assertWellFormedXml(t);
    has(t, 'no data');
    lacks(t, 'NaN');
  });
});

describe('renderLatencySvg', () => {
  it('has one line per percentile, with a legend', () => {
    const svg = renderLatencySvg(RUN, 'nereid');
    assert.match(svg, /^<svg /);
    has(svg, 'xmlns="http://www.w3.org/2000/svg"');
    assertWellFormedXml(svg);
    assert.equal(count(svg, '<polyline'), 4);
    for (const p of ['>p50<', '>p90<', '>p95<', '>p99<']) assert.ok(svg.includes(p));
    has(svg, 'Latency (ms)');
    has(svg, 'nereid');
    lacks(svg, 'NaN');
  });
});

describe('renderIndex', () => {
  it('lists runs newest first, with workload, date, commit and links', () => {
    const older: BenchRun = { ...RUN, startedAt: '2025-01-01T00:00:00.000Z', machine: { ...RUN.machine, commit: '' } };
    const index = renderIndex([
      { run: older, base: 'old', json: 'old.json' },
      { run: RUN, base: 'run1', json: 'run1.json' },
    ]);
    const rows = index.split('\n').filter((l) => l.startsWith('| ['));
    assert.equal(rows.length, 2);
    has(rows[0]!, '[run1](run1.md)');
    has(rows[0]!, '2025-03-01 10:20');
    has(rows[0]!, 'resnet50 fp32');
    has(rows[0]!, '`0123456789ab-dirty`');
    has(rows[0]!, '(run1-throughput.svg)');
    has(rows[0]!, '(run1.json)');
    has(rows[1]!, '[old](old.md)');
  });
});

describe('checkCsvConsistency', () => {
  it('accepts the CSV the JSON gives and reports differences', () => {
    const csv = toPerfAnalyzerCsv(
      RUN.results.filter((r) => r.target === 'nereid'),
      'concurrency',
    );
    assert.deepEqual(checkCsvConsistency(RUN, 'nereid', csv), []);
    const lines = csv.trimEnd().split('\n');
    assert.equal(checkCsvConsistency(RUN, 'nereid', lines.slice(0, -1).join('\n')).length, 1);
    const changed = [lines[0], lines[1]!.replace(/^1,100,/, '1,101,'), ...lines.slice(2)].join('\n');
    assert.match(checkCsvConsistency(RUN, 'nereid', changed).join(';'), /row 1/);
  });
});

describe('bench:report CLI', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nereid-report-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the markdown, the SVGs and the index; rejects a named non-run file', async (t) => {
    t.mock.method(console, 'log', () => {});
    const errors: string[] = [];
    t.mock.method(console, 'error', (msg: unknown) => errors.push(String(msg)));
    const input = path.join(dir, 'run1.json');
    writeFileSync(input, JSON.stringify(RUN));
    assert.ok(isBenchRun(JSON.parse(readFileSync(input, 'utf8'))));
    const out = path.join(dir, 'out');
    assert.equal(await main(['--input', input, '--out', out]), 0);
    for (const f of ['run1.md', 'run1-throughput.svg', 'run1-latency-nereid.svg', 'run1-latency-echo.svg', 'README.md']) {
      assert.ok(existsSync(path.join(out, f)), `missing ${f}`);
    }
    assert.equal(readFileSync(path.join(out, 'run1.md'), 'utf8'), renderMarkdown(RUN, 'run1'));
    assert.ok(readFileSync(path.join(out, 'README.md'), 'utf8').includes('(../run1.json)'));

    // Next to the JSON by default.
    assert.equal(await main([input]), 0);
    assert.ok(existsSync(path.join(dir, 'run1.md')));
    assert.ok(readFileSync(path.join(dir, 'README.md'), 'utf8').includes('[run1](run1.md)'));

    const other = path.join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ schema: 'something-else/1' }));
    assert.equal(isBenchRun(JSON.parse(readFileSync(other, 'utf8'))), false);
    assert.equal(await main(['--input', other]), 1);
    assert.match(errors.join('\n'), /not a nereid-bench\/1 result/);
  });
});

describe('precision runs', () => {
  const figures = {
    'precision.served': 'fp32,fp16,int8',
    'precision.fp16.status': 'served',
    'precision.fp16.relative_l2_error': '0.003',
    'precision.fp16.top1_agreement': '1',
    'precision.int8.status': 'served',
    'precision.int8.relative_l2_error': '0.13',
    'precision.int8.top1_agreement': '0.97',
    'precision.int8.speedup_vs_fp32': '0.7',
  };
  const run: BenchRun = {
    ...RUN,
    workload: { ...RUN.workload, name: 'ocr-cls', model: 'ocr_cls' },
    settings: { ...RUN.settings, levels: [1, 8] },
    targets: ['nereid-fp32', 'nereid-fp16', 'nereid-int8'],
    results: [row('nereid-fp32', 8, 400), row('nereid-fp16', 8, 380), row('nereid-int8', 8, 500), row('nereid-int8', 1, 200), row('nereid-fp32', 1, 150)],
    inProcess: null,
    checks: [],
    precision: { int8Mode: 'static', tolerancesLifted: true, figures },
  };

  it('checks int8 against fp32 in the same run, and the classifier agreement', () => {
    const checks = computeChecks(run);
    const int8 = checks.find((c) => c.name === 'ocr-cls: int8 (static) / fp32 peak throughput')!;
    assert.equal(int8.value, 1.25);
    assert.equal(int8.met, false);
    assert.equal(int8.goal, '>= 1.50');
    assert.match(int8.note, /^peaks at c=8 and c=8; tolerances lifted to time it; int8 served/);
    assert.equal(checks.find((c) => c.name.includes('fp16 / fp32'))!.value, 0.95);
    const agreement = checks.find((c) => c.name.startsWith('ocr-cls: int8 top-1 agreement'))!;
    assert.deepEqual([agreement.value, agreement.met], [0.97, false]);
  });

  it('reports the load-time figures and whether each meets the default tolerance', () => {
    const md = renderMarkdown({ ...run, checks: computeChecks(run) }, 'ocr-cls');
    const table = section(md, '## Precision variants').split('\n').filter((l) => l.startsWith('| fp16') || l.startsWith('| int8'));
    assert.deepEqual(cells(table[0]!).slice(0, 3), ['fp16', 'served', 'yes']);
    assert.deepEqual(cells(table[1]!).slice(0, 3), ['int8', 'served', 'no']);
    assert.match(md, /Tolerances were lifted for this run/);
  });

  it('names the int8 format, how it was chosen and the CPU it was measured on', () => {
    const withFormat: BenchRun = {
      ...run,
      machine: { ...run.machine, cpuInt8: 'x64 (Test CPU): avx2' },
      precision: {
        ...run.precision!,
        int8Format: 'auto',
        figures: {
          ...figures,
          'precision.int8.format': 'u8u8',
          'precision.int8.format_choice': "auto: ONNX Runtime's U8S8 kernel saturates on this CPU (x86 without VNNI), so u8u8 and u8s8_reduce_range (both exact there) were measured and the better one is served: u8u8 is the fastest within tolerance, against u8s8_reduce_range",
          'precision.int8.cpu': "x64 (Test CPU): avx2; ONNX Runtime's U8S8 kernel saturates",
          'precision.int8.formats_measured': 'u8u8: relative L2 error 0.011, 1.4x fp32; u8s8_reduce_range: relative L2 error 0.017, 1.2x fp32',
        },
      },
    };
    const md = renderMarkdown({ ...withFormat, checks: computeChecks(withFormat) }, 'ocr-cls');
    assert.match(section(md, '## Machine'), /\| CPU int8 features \| x64 \(Test CPU\): avx2 \|/);
    const precision = section(md, '## Precision variants');
    assert.match(precision, /^int8 mode: static; int8_format auto, served as u8u8\./m);
    assert.match(precision, /int8 format: auto: .*u8u8 is the fastest within tolerance, against u8s8_reduce_range\. Measured on x64 \(Test CPU\): avx2; ONNX Runtime's U8S8 kernel saturates: u8u8: relative L2 error 0\.011/);
    assert.match(section(renderMarkdown(run, 'old'), '## Machine'), /\| CPU int8 features \| not recorded \|/, 'older runs render');
  });
});
