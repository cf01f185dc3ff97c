/**
 * `npm run bench:report -- [--input bench/results/<file>.json ...] [--out <dir>]`
 *
 * Turns benchmark results (bench/results/*.json, see bench-types.ts) into, per run:
 * - `<base>.md`: machine, workload, settings, a perf_analyzer-style table per target, the
 *   in-process baseline, ratios between targets and the checks;
 * - `<base>-throughput.svg`: throughput vs load level, one line per target, dashed lines for the
 *   in-process baseline;
 * - `<base>-latency-<target>.svg`: p50/p90/p95/p99 vs load level for each target;
 * and a `README.md` index of the runs in each output directory.
 *
 * Without --input it reads every `*.json` in bench/results/ whose `schema` is BENCH_SCHEMA.
 * Outputs go next to each JSON unless --out names a directory.
 *
 * The render functions are pure and exported for the tests; the CLI runs only when this file
 * is the entry point.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMain } from '../lib/model-repo.js';
import { BENCH_SCHEMA, type BenchRun, type LatencySummary, type ResultRow } from './bench-types.js';
import { csvFileName, fileSlug, networkServerUs, parseCsv, perfAnalyzerHeader, toPerfAnalyzerCsv } from './csv.js';

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

/** Shown for a value that is missing or was not measured. */
export const DASH = '—';

const isNum = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Milliseconds from microseconds: 3 decimals below 1 ms, 2 below 10 ms, else 1. */
export function formatMs(us: number | null | undefined): string {
  if (!isNum(us)) return DASH;
  const ms = us / 1000;
  return ms.toFixed(Math.abs(ms) < 1 ? 3 : Math.abs(ms) < 10 ? 2 : 1);
}

/** Throughput: one decimal. */
export function formatRate(perSec: number | null | undefined): string {
  return isNum(perSec) ? perSec.toFixed(1) : DASH;
}

/** A ratio: two decimals. */
export function formatRatio(ratio: number | null | undefined): string {
  return isNum(ratio) ? ratio.toFixed(2) : DASH;
}

/** A general number: at most 3 decimals, trailing zeros dropped. */
function formatNumber(v: number | null | undefined): string {
  return isNum(v) ? String(Number(v.toFixed(3))) : DASH;
}

function formatUs(us: number | null | undefined): string {
  return isNum(us) ? String(Math.round(us)) : DASH;
}

/** Escapes a markdown table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function mdTable(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly boolean[] = []): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const rule = header.map((_, i) => (rightAligned[i] ? '---:' : '---'));
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}

/** A markdown link target for a file in the same directory. */
function href(file: string): string {
  return file.split('/').map(encodeURIComponent).join('/');
}

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

// ---------------------------------------------------------------------------------------------
// Run helpers
// ---------------------------------------------------------------------------------------------

/** The run's targets: `run.targets` in order, then any target that only appears in the results. */
export function targetsOf(run: BenchRun): string[] {
  return [...new Set([...run.targets, ...run.results.map((r) => r.target)])];
}

/**
 * Targets with rows per load level: every target but the in-process baseline, which has
 * its own section (batch sizes, not load levels).
 */
export function loadTargetsOf(run: BenchRun): string[] {
  return targetsOf(run).filter((t) => run.results.some((r) => r.target === t));
}

/** A target's rows by increasing level. */
export function rowsOf(run: BenchRun, target: string): ResultRow[] {
  return run.results.filter((r) => r.target === target).sort((a, b) => a.level - b.level);
}

function levelLabel(run: BenchRun): string {
  return run.settings.mode === 'request-rate' ? 'Request rate (req/s)' : 'Concurrency';
}

/** File names of a run's outputs. */
export function throughputSvgName(base: string): string {
  return `${base}-throughput.svg`;
}

export function latencySvgName(base: string, target: string): string {
  return `${base}-latency-${fileSlug(target)}.svg`;
}

export interface RatioRow {
  readonly level: number;
  readonly subjectPerSec: number;
  /** One entry per other target, in `others` order. */
  readonly vs: readonly { readonly target: string; readonly perSec: number; readonly ratio: number }[];
  /** subject / in-process best items per second; null without an in-process result. */
  readonly vsInProcessBest: number | null;
}

export interface RatioTable {
  /** The target the ratios are of: `nereid` when present, else the first target. */
  readonly subject: string | null;
  readonly others: readonly string[];
  readonly rows: readonly RatioRow[];
}

/**
 * Throughput ratios of the subject target (`nereid`, else the first target) to every other
 * target and to the in-process best, at each level the subject shares with all other targets.
 */
export function ratioTable(run: BenchRun): RatioTable {
  const targets = loadTargetsOf(run);
  const subject = targets.includes('nereid') ? 'nereid' : (targets[0] ?? null);
  if (subject === null) return { subject, others: [], rows: [] };
  const others = targets.filter((t) => t !== subject);
  const best = run.inProcess?.best.itemsPerSec;
  const rows: RatioRow[] = [];
  for (const row of rowsOf(run, subject)) {
    const vs: { target: string; perSec: number; ratio: number }[] = [];
    for (const other of others) {
      const match = run.results.find((r) => r.target === other && r.level === row.level);
      if (match === undefined) break;
      vs.push({ target: other, perSec: match.inferPerSec, ratio: row.inferPerSec / match.inferPerSec });
    }
    if (vs.length !== others.length) continue;
    rows.push({
      level: row.level,
      subjectPerSec: row.inferPerSec,
      vs,
      vsInProcessBest: isNum(best) && best > 0 ? row.inferPerSec / best : null,
    });
  }
  return { subject, others, rows };
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

function formatBytes(bytes: number): string {
  if (!isNum(bytes)) return DASH;
  const grouped = Math.round(bytes).toLocaleString('en-US');
  if (bytes < 1024) return `${grouped} B`;
  if (bytes < 1024 * 1024) return `${grouped} B (${(bytes / 1024).toFixed(1)} KiB)`;
  return `${grouped} B (${(bytes / 1024 / 1024).toFixed(2)} MiB)`;
}

function checkMark(met: boolean | null): string {
  return met === true ? '✅' : met === false ? '❌' : DASH;
}

function targetSection(run: BenchRun, base: string, target: string): string {
  const rows = rowsOf(run, target);
  const header = [
    levelLabel(run),
    'Inferences/Second',
    'p50 (ms)',
    'p90 (ms)',
    'p95 (ms)',
    'p99 (ms)',
    'Client Send (µs)',
    'Network+Server Send/Recv (µs)',
    'Server Queue (µs)',
    'Server Compute Input (µs)',
    'Server Compute Infer (µs)',
    'Server Compute Output (µs)',
    'Client Recv (µs)',
    'Client CPU %',
    'Server CPU %',
    'Server CPU µs/req',
    'Main thread µs/req',
    'Instances µs/req',
    'Client CPU µs/req',
    'Stable',
    'Errors',
  ];
  const body = rows.map((r) => [
    formatNumber(r.level),
    formatRate(r.inferPerSec),
    formatMs(r.latency.p50Us),
    formatMs(r.latency.p90Us),
    formatMs(r.latency.p95Us),
    formatMs(r.latency.p99Us),
    formatUs(r.clientSendUs),
    formatUs(networkServerUs(r)),
    formatUs(r.server?.queueUs),
    formatUs(r.server?.computeInputUs),
    formatUs(r.server?.computeInferUs),
    formatUs(r.server?.computeOutputUs),
    formatUs(r.clientRecvUs),
    isNum(r.clientCpuPct) ? r.clientCpuPct.toFixed(0) : DASH,
    isNum(r.serverCpuPct) ? r.serverCpuPct.toFixed(0) : DASH,
    formatUs(r.cpu?.serverTotalUs),
    formatUs(r.cpu?.serverMainUs),
    formatUs(r.cpu?.serverInstancesUs),
    formatUs(r.cpu?.clientUs),
    r.stable ? 'yes' : '**no**',
    r.errors > 0 ? `**${r.errors}**` : String(r.errors),
  ]);
  const parts = [`### ${target}`, '', mdTable(header, body, header.map((name) => name !== 'Stable'))];
  const notes = [...new Set(rows.filter((r) => r.server === null).map((r) => r.serverNote?.trim() || 'not reported'))];
  if (notes.length > 0) {
    parts.push('', ...notes.map((n) => `${DASH} Server split not available: ${cell(n)}`));
  }
  parts.push('', `![${cell(target)} latency](${href(latencySvgName(base, target))})`);
  return parts.join('\n');
}

function inProcessSection(run: BenchRun): string {
  const ip = run.inProcess;
  if (ip === null) return 'No in-process baseline in this run.';
  const summaryRow = (label: string, batch: number, perSec: number, l: LatencySummary): string[] => [
    label,
    String(batch),
    formatRate(perSec),
    formatMs(l.p50Us),
    formatMs(l.p99Us),
  ];
  const header = ['', 'Batch', 'Items/s', 'p50 (ms)', 'p99 (ms)'];
  const lines = [
    `ONNX Runtime alone in a child process of the benchmark (no server, no transport), on the same model: ${ip.sessions} session(s) × ${ip.threadsPerSession} thread(s). ` +
      'This is the compute limit a server can approach.',
    '',
    mdTable(
      header,
      [
        summaryRow('Batch 1', 1, ip.batch1.itemsPerSec, ip.batch1.latency),
        summaryRow('Best', ip.best.batch, ip.best.itemsPerSec, ip.best.latency),
      ],
      [false, true, true, true, true],
    ),
  ];
  if (ip.sweep.length > 0) {
    const sweep = [...ip.sweep].sort((a, b) => a.batch - b.batch);
    lines.push(
      '',
      'Batch sweep:',
      '',
      mdTable(
        ['Batch', 'Items/s', 'p50 (ms)', 'p90 (ms)', 'p99 (ms)', 'CPU µs/item'],
        sweep.map((s) => {
          const isBest = s.batch === ip.best.batch;
          const b = (text: string): string => (isBest ? `**${text}**` : text);
          return [
            b(String(s.batch)),
            b(formatRate(s.itemsPerSec)),
            formatMs(s.latency.p50Us),
            formatMs(s.latency.p90Us),
            formatMs(s.latency.p99Us),
            formatUs(s.cpuPerItemUs),
          ];
        }),
        [true, true, true, true, true, true],
      ),
    );
  }
  return lines.join('\n');
}

/** Issue 13's figures: overhead per request and the limits, per nereid target and level. */
function costSection(run: BenchRun): string {
  const rows = (run.cost ?? []).map((c) => [
    cell(c.target),
    formatNumber(c.level),
    formatUs(c.serverUs),
    formatUs(c.mainUs),
    formatUs(c.instancesUs),
    formatUs(c.echoUs),
    c.inProcessUs === null ? DASH : `${formatUs(c.inProcessUs)} (batch ${c.inProcessBatch})`,
    formatUs(c.overheadUs),
    formatRate(c.sharedLimitPerSec),
    formatRatio(c.limitRatio),
    formatRate(c.mainThreadCeilingPerSec),
  ]);
  return [
    'CPU per request from /proc over the measured windows. Overhead = server − echo at the same level (the same bytes both ways) − ' +
      'in-process ONNX Runtime CPU per item × items per request, at the in-process batch nearest the batches the server executed. ' +
      'Shared-CPU limit = 1 / (1/echo + 1/in-process best), what binds when client, transport and compute share the cores; ' +
      'one-loop ceiling = 1 / main-thread CPU per request.',
    '',
    mdTable(
      ['Target', levelLabel(run), 'Server µs', 'Main µs', 'Instances µs', 'Echo µs', 'In-process µs', 'Overhead µs', 'Shared-CPU limit (infer/s)', 'Throughput / limit', 'One-loop ceiling (infer/s)'],
      rows,
      [false, true, true, true, true, true, true, true, true, true, true],
    ),
  ].join('\n');
}

function ratioSection(run: BenchRun): string {
  const table = ratioTable(run);
  if (table.subject === null) return 'No results.';
  const hasInProcess = run.inProcess !== null;
  if (table.others.length === 0 && !hasInProcess) return 'Nothing to compare: one target and no in-process baseline.';
  if (table.rows.length === 0) return `No level was measured on ${table.subject} and ${table.others.join(', ')} alike.`;
  const subject = table.subject;
  const header = [
    levelLabel(run),
    `${subject} (infer/s)`,
    ...table.others.flatMap((o) => [`${o} (infer/s)`, `${subject} / ${o}`]),
    ...(hasInProcess ? [`${subject} / in-process best`] : []),
  ];
  const rows = table.rows.map((r) => [
    formatNumber(r.level),
    formatRate(r.subjectPerSec),
    ...r.vs.flatMap((v) => [formatRate(v.perSec), formatRatio(v.ratio)]),
    ...(hasInProcess ? [formatRatio(r.vsInProcessBest)] : []),
  ]);
  const lines = [
    `Throughput of ${subject} divided by that of ` +
      [...table.others, ...(hasInProcess ? ['the in-process best'] : [])].join(' and ') +
      (table.others.length > 0 ? `, at each ${levelLabel(run).toLowerCase()} measured on all targets.` : '.'),
    '',
    mdTable(header, rows, header.map(() => true)),
  ];
  if (hasInProcess) {
    lines.push('', `In-process best: ${formatRate(run.inProcess!.best.itemsPerSec)} items/s at batch ${run.inProcess!.best.batch}.`);
  }
  return lines.join('\n');
}

function checksSection(run: BenchRun): string {
  if (run.checks.length === 0) return 'No checks in this run.';
  return mdTable(
    ['', 'Check', 'Value', 'Goal', 'Note'],
    run.checks.map((c) => [checkMark(c.met), cell(c.name), formatNumber(c.value), cell(c.goal), cell(c.note)]),
  );
}

/** The markdown report of one run; `base` is the file name stem its SVGs are named after. */
export function renderMarkdown(run: BenchRun, base: string): string {
  const m = run.machine;
  const w = run.workload;
  const s = run.settings;
  const out: string[] = [];
  out.push(`# Benchmark: ${w.name}`, '');
  out.push(
    `Run \`${base}\`, started ${run.startedAt}, took ${formatNumber(run.durationSec)} s. ` +
      `Targets: ${targetsOf(run).map((t) => `\`${t}\``).join(', ')}.`,
    '',
  );
  out.push(`![Throughput vs ${levelLabel(run).toLowerCase()}](${href(throughputSvgName(base))})`, '');

  out.push('## Machine', '');
  out.push(
    mdTable(
      ['', ''],
      [
        ['CPUs', `${m.cpus} × ${cell(m.cpuModel)}`],
        ['CPU int8 features', cell(m.cpuInt8 ?? 'not recorded')],
        ['Memory', `${formatNumber(m.memoryGiB)} GiB`],
        ['Node', cell(m.node)],
        ['OS', cell(m.os)],
        ['Commit', m.commit === '' ? 'unknown' : `\`${cell(m.commit)}\``],
      ],
    ),
    '',
  );

  out.push('## Workload', '');
  out.push(
    mdTable(
      ['', ''],
      [
        ['Name', cell(w.name)],
        ['Model', `\`${cell(w.model)}\``],
        ...w.inputs.map((i) => [`Input \`${cell(i.name)}\``, `${cell(i.datatype)} [${i.shape.join(', ')}]`]),
        ['Batch size', String(w.batchSize)],
        ['Request size', formatBytes(w.requestBytes)],
      ],
    ),
    '',
  );

  out.push('## Settings', '');
  out.push(
    mdTable(
      ['', ''],
      [
        ['Mode', s.mode],
        [s.mode === 'request-rate' ? 'Request rates (req/s)' : 'Concurrency levels', s.levels.join(', ')],
        ['Warm-up', `${s.warmupMs} ms`],
        ['Window', `${s.windowMs} ms`],
        ['Stability', `last 3 windows within ±${formatNumber(s.stability * 100)} % of their mean`],
        ['Max windows', String(s.maxWindows)],
        ['Rounds', String(s.rounds)],
        ['Client workers', String(s.clientWorkers)],
        ['Seed', String(s.seed)],
      ],
    ),
    '',
  );

  out.push('## Results', '');
  out.push(
    'Per target, by increasing level. Latency is from request sent to response received; the split ' +
      'columns follow perf_analyzer (Network+Server Send/Recv = mean latency minus the other parts).',
    '',
  );
  for (const target of loadTargetsOf(run)) out.push(targetSection(run, base, target), '');

  out.push('## In-process baseline', '', inProcessSection(run), '');
  if (run.cost !== undefined && run.cost.length > 0) out.push('## CPU per request', '', costSection(run), '');
  out.push('## Ratios', '', ratioSection(run), '');
  if (run.precision !== undefined) out.push('## Precision variants (measured by the server at load)', '', precisionSection(run), '');
  out.push('## Checks', '', checksSection(run), '');
  return out.join('\n');
}

/** The figures the server measured for each precision against fp32, from its ModelConfig parameters. */
function precisionSection(run: BenchRun): string {
  const info = run.precision!;
  const f = info.figures;
  const precisions = ['fp16', 'int8'].filter((p) => f[`precision.${p}.status`] !== undefined);
  const int8 = (k: string) => f[`precision.int8.${k}`];
  const lines = [
    `int8 mode: ${info.int8Mode}; int8_format ${info.int8Format ?? 'auto'}${int8('format') === undefined ? '' : `, served as ${int8('format')}`}.${info.tolerancesLifted ? ' Tolerances were lifted for this run so that every variant serves and can be timed.' : ''} ` +
      'The default tolerance is relative L2 error <= 0.05 and, for classifier outputs, top-1 agreement >= 0.99.',
    '',
    mdTable(
      ['Precision', 'Served', 'Meets default tolerance', 'Max abs error', 'Relative L2 error', 'Top-1 agreement', 'Validation batches', 'Speed-up at load', 'File bytes'],
      precisions.map((p) => {
        const raw = (k: string) => f[`precision.${p}.${k}`];
        const v = (k: string) => cell(raw(k) ?? DASH);
        const rel = Number(raw('relative_l2_error'));
        const top1 = raw('top1_agreement') === undefined ? 1 : Number(raw('top1_agreement'));
        const meets = Number.isFinite(rel) ? (rel <= 0.05 && top1 >= 0.99 ? 'yes' : 'no') : DASH;
        return [p, v('status'), meets, v('max_abs_error'), v('relative_l2_error'), v('top1_agreement'), v('validation_batches'), v('speedup_vs_fp32'), v('file_bytes')];
      }),
    ),
  ];
  for (const p of precisions) if (f[`precision.${p}.reason`] !== undefined) lines.push('', `${p}: ${f[`precision.${p}.reason`]}`);
  if (int8('format_choice') !== undefined) {
    lines.push('', `int8 format: ${int8('format_choice')}. Measured on ${int8('cpu')}: ${int8('formats_measured')}.`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// SVG
// ---------------------------------------------------------------------------------------------

const WIDTH = 720;
const HEIGHT = 420;
const PLOT = { left: 72, right: WIDTH - 210, top: 52, bottom: HEIGHT - 60 };
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const PERCENTILE_COLORS = ['#1f77b4', '#2ca02c', '#ff7f0e', '#d62728'];
const REFERENCE_COLORS = ['#555555', '#000000'];

interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
}

interface ReferenceLine {
  readonly label: string;
  readonly color: string;
  readonly y: number;
}

interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly log2X: boolean;
  readonly series: readonly Series[];
  readonly references: readonly ReferenceLine[];
}

/** An SVG coordinate; throws rather than ever writing NaN. */
function n(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`non-finite SVG coordinate ${v}`);
  return String(Math.round(v * 10) / 10);
}

/** Round tick steps (1, 2, 5 × 10^k) from 0 to at least `max`, about `count` of them. */
function niceTicks(max: number, count = 5): number[] {
  const top = max > 0 && Number.isFinite(max) ? max : 1;
  const raw = top / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const t = Number((i * step).toPrecision(12));
    ticks.push(t);
    if (t >= top) break;
  }
  return ticks;
}

function tickLabel(v: number): string {
  if (Math.abs(v) >= 10_000) return `${Number((v / 1000).toPrecision(4))}k`;
  return String(Number(v.toPrecision(4)));
}

/** True when every level is a positive integer power of two (1, 2, 4, ...). */
export function powersOfTwo(levels: readonly number[]): boolean {
  return levels.length > 0 && levels.every((l) => Number.isInteger(l) && l > 0 && (l & (l - 1)) === 0 && l <= 2 ** 30);
}

function renderChart(spec: ChartSpec): string {
  const points = spec.series.flatMap((s) => s.points).filter(([x, y]) => isNum(x) && isNum(y) && (!spec.log2X || x > 0));
  const xs = points.map(([x]) => x);
  const ys = [...points.map(([, y]) => y), ...spec.references.map((r) => r.y).filter(isNum)];

  // y: linear from 0.
  const yTicks = niceTicks(Math.max(0, ...ys) * 1.05); // headroom above the highest point
  const yMax = yTicks[yTicks.length - 1]!;
  const sy = (y: number): number => PLOT.bottom - (y / yMax) * (PLOT.bottom - PLOT.top);

  // x: log2 over the levels' range, or linear from 0.
  let sx: (x: number) => number;
  let xTicks: number[];
  if (spec.log2X) {
    const lo = xs.length > 0 ? Math.log2(Math.min(...xs)) : 0;
    const hi = xs.length > 0 ? Math.log2(Math.max(...xs)) : 3;
    const pad = hi > lo ? 0.3 : 1;
    const a = lo - pad;
    const b = hi + pad;
    sx = (x) => PLOT.left + ((Math.log2(x) - a) / (b - a)) * (PLOT.right - PLOT.left);
    const exps: number[] = [];
    for (let e = Math.round(lo); e <= Math.round(hi); e++) exps.push(e);
    const stride = Math.ceil(exps.length / 12);
    xTicks = exps.filter((_, i) => i % stride === 0).map((e) => 2 ** e);
  } else {
    xTicks = niceTicks(Math.max(0, ...xs), 6);
    const xMax = xTicks[xTicks.length - 1]!;
    sx = (x) => PLOT.left + (x / xMax) * (PLOT.right - PLOT.left);
  }

  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      `font-family="sans-serif" font-size="12" role="img">`,
  );
  o.push(`<title>${escapeXml(spec.title)}</title>`);
  o.push(`<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  o.push(
    `<text x="${n((PLOT.left + PLOT.right) / 2)}" y="28" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`,
  );

  // Grid and ticks.
  o.push('<g class="grid" stroke="#e6e6e6" stroke-width="1">');
  for (const t of yTicks) o.push(`<line x1="${PLOT.left}" y1="${n(sy(t))}" x2="${PLOT.right}" y2="${n(sy(t))}"/>`);
  for (const t of xTicks) o.push(`<line x1="${n(sx(t))}" y1="${PLOT.top}" x2="${n(sx(t))}" y2="${PLOT.bottom}"/>`);
  o.push('</g>');
  o.push('<g class="axes" stroke="#333333" stroke-width="1">');
  o.push(`<line x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}"/>`);
  o.push(`<line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${PLOT.bottom}"/>`);
  for (const t of yTicks) o.push(`<line x1="${PLOT.left - 5}" y1="${n(sy(t))}" x2="${PLOT.left}" y2="${n(sy(t))}"/>`);
  for (const t of xTicks) o.push(`<line x1="${n(sx(t))}" y1="${PLOT.bottom}" x2="${n(sx(t))}" y2="${PLOT.bottom + 5}"/>`);
  o.push('</g>');
  o.push('<g class="tick-labels" fill="#333333">');
  for (const t of yTicks) {
    o.push(`<text x="${PLOT.left - 8}" y="${n(sy(t) + 4)}" text-anchor="end">${escapeXml(tickLabel(t))}</text>`);
  }
  for (const t of xTicks) {
    o.push(`<text x="${n(sx(t))}" y="${PLOT.bottom + 19}" text-anchor="middle">${escapeXml(tickLabel(t))}</text>`);
  }
  o.push('</g>');
  o.push(
    `<text x="${n((PLOT.left + PLOT.right) / 2)}" y="${HEIGHT - 18}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
  );
  const yMid = (PLOT.top + PLOT.bottom) / 2;
  o.push(`<text x="20" y="${n(yMid)}" text-anchor="middle" transform="rotate(-90 20 ${n(yMid)})">${escapeXml(spec.yLabel)}</text>`);
  if (points.length === 0) {
    o.push(`<text x="${n((PLOT.left + PLOT.right) / 2)}" y="${n(yMid)}" text-anchor="middle" fill="#999999">no data</text>`);
  }

  // Reference lines, then series on top.
  for (const r of spec.references) {
    if (!isNum(r.y)) continue;
    o.push(
      `<line class="reference" x1="${PLOT.left}" y1="${n(sy(r.y))}" x2="${PLOT.right}" y2="${n(sy(r.y))}" ` +
        `stroke="${r.color}" stroke-width="1.5" stroke-dasharray="6 4"><title>${escapeXml(r.label)}</title></line>`,
    );
  }
  for (const s of spec.series) {
    const pts = s.points
      .filter(([x, y]) => isNum(x) && isNum(y) && (!spec.log2X || x > 0))
      .slice()
      .sort((a, b) => a[0] - b[0]);
    o.push(`<g class="series" fill="${s.color}">`);
    o.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round" ` +
        `points="${pts.map(([x, y]) => `${n(sx(x))},${n(sy(y))}`).join(' ')}"><title>${escapeXml(s.label)}</title></polyline>`,
    );
    for (const [x, y] of pts) o.push(`<circle cx="${n(sx(x))}" cy="${n(sy(y))}" r="3"/>`);
    o.push('</g>');
  }

  // Legend, right of the plot.
  o.push('<g class="legend" font-size="11">');
  let ly = PLOT.top + 6;
  const lx = PLOT.right + 14;
  for (const s of spec.series) {
    o.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    o.push(`<circle cx="${lx + 12}" cy="${ly}" r="3" fill="${s.color}"/>`);
    o.push(`<text x="${lx + 30}" y="${ly + 4}">${escapeXml(s.label)}</text>`);
    ly += 20;
  }
  for (const r of spec.references) {
    if (!isNum(r.y)) continue;
    o.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${r.color}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
    o.push(`<text x="${lx + 30}" y="${ly + 4}">${escapeXml(r.label)}</text>`);
    ly += 20;
  }
  o.push('</g>');
  o.push('</svg>');
  return o.join('\n') + '\n';
}

function useLog2(run: BenchRun): boolean {
  return powersOfTwo([...run.settings.levels, ...run.results.map((r) => r.level)]);
}

/** Throughput (infer/s) vs level, one line per target, dashed lines for the in-process baseline. */
export function renderThroughputSvg(run: BenchRun): string {
  const levelName = run.settings.mode === 'request-rate' ? 'request rate' : 'concurrency';
  const references: ReferenceLine[] = [];
  const ip = run.inProcess;
  if (ip !== null) {
    if (ip.best.batch !== 1) {
      references.push({ label: 'in-process batch 1', color: REFERENCE_COLORS[0]!, y: ip.batch1.itemsPerSec });
    }
    references.push({ label: `in-process best (batch ${ip.best.batch})`, color: REFERENCE_COLORS[1]!, y: ip.best.itemsPerSec });
  }
  return renderChart({
    title: `Throughput vs ${levelName}: ${run.workload.name}`,
    xLabel: levelLabel(run) + (useLog2(run) ? ', log2 scale' : ''),
    yLabel: 'Throughput (infer/s)',
    log2X: useLog2(run),
    series: loadTargetsOf(run).map((target, i) => ({
      label: target,
      color: PALETTE[i % PALETTE.length]!,
      points: rowsOf(run, target).map((r) => [r.level, r.inferPerSec] as const),
    })),
    references,
  });
}

/** p50/p90/p95/p99 latency (ms) vs level for one target, one line per percentile. */
export function renderLatencySvg(run: BenchRun, target: string): string {
  const levelName = run.settings.mode === 'request-rate' ? 'request rate' : 'concurrency';
  const rows = rowsOf(run, target);
  const percentiles = [
    ['p50', (l: LatencySummary) => l.p50Us],
    ['p90', (l: LatencySummary) => l.p90Us],
    ['p95', (l: LatencySummary) => l.p95Us],
    ['p99', (l: LatencySummary) => l.p99Us],
  ] as const;
  return renderChart({
    title: `Latency vs ${levelName}: ${target}`,
    xLabel: levelLabel(run) + (useLog2(run) ? ', log2 scale' : ''),
    yLabel: 'Latency (ms)',
    log2X: useLog2(run),
    series: percentiles.map(([label, pick], i) => ({
      label,
      color: PERCENTILE_COLORS[i]!,
      points: rows.map((r) => {
        const us = pick(r.latency);
        return [r.level, isNum(us) ? us / 1000 : NaN] as const;
      }),
    })),
    references: [],
  });
}

// ---------------------------------------------------------------------------------------------
// Index and consistency
// ---------------------------------------------------------------------------------------------

export interface IndexEntry {
  readonly run: BenchRun;
  readonly base: string;
  /** The JSON, relative to the index's directory. */
  readonly json: string;
}

/** `bench/results/README.md`: one table row per run, newest first. */
export function renderIndex(entries: readonly IndexEntry[]): string {
  const sorted = [...entries].sort((a, b) => b.run.startedAt.localeCompare(a.run.startedAt) || a.base.localeCompare(b.base));
  const lines = [
    '# Benchmark results',
    '',
    'Generated by `npm run bench:report`; one row per run (`*.json` here), newest first.',
    '',
  ];
  if (sorted.length === 0) return [...lines, 'No runs yet.', ''].join('\n');
  const rows = sorted.map(({ run, base, json }) => {
    const w = run.workload;
    const commit = run.machine.commit === '' ? DASH : `\`${cell(shortCommit(run.machine.commit))}\``;
    return [
      `[${cell(base)}](${href(base + '.md')})`,
      cell(run.startedAt.slice(0, 16).replace('T', ' ')),
      `${cell(w.name)} (\`${cell(w.model)}\`, batch ${w.batchSize})`,
      cell(targetsOf(run).join(', ')),
      commit,
      `[throughput](${href(throughputSvgName(base))}) · [JSON](${href(json)})`,
    ];
  });
  lines.push(mdTable(['Run', 'Started (UTC)', 'Workload', 'Targets', 'Commit', 'Links'], rows), '');
  return lines.join('\n');
}

function shortCommit(commit: string): string {
  const dirty = commit.endsWith('-dirty');
  const hash = dirty ? commit.slice(0, -'-dirty'.length) : commit;
  return (/^[0-9a-f]{40}$/i.test(hash) ? hash.slice(0, 12) : hash) + (dirty ? '-dirty' : '');
}

/**
 * Compares a CSV written for `target` with the one the run's JSON gives; returns the
 * differences found (empty when they agree).
 */
export function checkCsvConsistency(run: BenchRun, target: string, csvText: string): string[] {
  const problems: string[] = [];
  const actual = parseCsv(csvText);
  const expected = parseCsv(
    toPerfAnalyzerCsv(
      run.results.filter((r) => r.target === target),
      run.settings.mode,
    ),
  );
  const wantHeader = perfAnalyzerHeader(run.settings.mode);
  if (actual.header.join(',') !== wantHeader.join(',')) {
    problems.push(`header is "${actual.header.join(',')}", expected "${wantHeader.join(',')}"`);
  }
  if (actual.rows.length !== expected.rows.length) {
    problems.push(`${actual.rows.length} rows, the JSON has ${expected.rows.length}`);
  }
  for (let i = 0; i < Math.min(actual.rows.length, expected.rows.length); i++) {
    const a = actual.rows[i]!;
    const e = expected.rows[i]!;
    // Compare level and throughput only: time cells may have been rounded differently.
    if (a[0] !== e[0] || Number(a[1]) !== Number(e[1])) {
      problems.push(`row ${i + 1} is ${a.slice(0, 2).join(',')}, the JSON gives ${e.slice(0, 2).join(',')}`);
    }
  }
  return problems;
}

/** A light shape check: enough for the report to render without throwing. */
export function isBenchRun(value: unknown): value is BenchRun {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const isObj = (x: unknown): boolean => typeof x === 'object' && x !== null;
  return (
    v.schema === BENCH_SCHEMA &&
    typeof v.startedAt === 'string' &&
    isObj(v.machine) &&
    isObj(v.workload) &&
    isObj(v.settings) &&
    Array.isArray(v.targets) &&
    Array.isArray(v.results) &&
    Array.isArray(v.checks) &&
    (v.inProcess === null || isObj(v.inProcess))
  );
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

const DEFAULT_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

const USAGE = `Usage: npm run bench:report -- [--input <run.json> ...] [--out <dir>]

Writes <base>.md, <base>-throughput.svg and <base>-latency-<target>.svg for each run, and a
README.md index in each output directory. Default input: every *.json in bench/results/.`;

interface Loaded {
  readonly run: BenchRun;
  readonly file: string;
  readonly base: string;
}

async function loadRun(file: string): Promise<BenchRun | string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    return `cannot read ${file}: ${(err as Error).message}`;
  }
  if (!isBenchRun(parsed)) {
    const schema = typeof parsed === 'object' && parsed !== null ? (parsed as { schema?: unknown }).schema : undefined;
    return `${file}: not a ${BENCH_SCHEMA} result (schema ${JSON.stringify(schema)})`;
  }
  return parsed;
}

async function jsonFilesIn(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join(dir, f));
}

export async function main(argv: readonly string[]): Promise<number> {
  let values: { input?: string[]; out?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: { input: { type: 'string', multiple: true }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }

  const explicit = [...(values.input ?? []), ...positionals].map((f) => path.resolve(f));
  const files = explicit.length > 0 ? explicit : await jsonFilesIn(DEFAULT_DIR);
  let failed = false;
  const loaded: Loaded[] = [];
  for (const file of files) {
    const result = await loadRun(file);
    if (typeof result === 'string') {
      // A file named on the command line must be a run; others in the directory may be anything.
      if (explicit.length > 0) {
        console.error(result);
        failed = true;
      }
      continue;
    }
    loaded.push({ run: result, file, base: path.basename(file, '.json') });
  }
  if (loaded.length === 0) {
    console.error(explicit.length > 0 ? 'No benchmark runs to report.' : `No ${BENCH_SCHEMA} results in ${DEFAULT_DIR}.`);
    return failed ? 1 : 0;
  }

  const outDirs = new Map<string, Loaded[]>();
  for (const item of loaded) {
    const { run, file, base } = item;
    const dir = values.out !== undefined ? path.resolve(values.out) : path.dirname(file);
    await mkdir(dir, { recursive: true });
    const written: [string, string][] = [
      [path.join(dir, `${base}.md`), renderMarkdown(run, base)],
      [path.join(dir, throughputSvgName(base)), renderThroughputSvg(run)],
      ...loadTargetsOf(run).map((t): [string, string] => [path.join(dir, latencySvgName(base, t)), renderLatencySvg(run, t)]),
    ];
    for (const [out, text] of written) {
      await writeFile(out, text);
      console.log(`wrote ${path.relative(process.cwd(), out)}`);
    }
    for (const target of targetsOf(run)) {
      const csv = path.join(path.dirname(file), csvFileName(base, target));
      if (!existsSync(csv)) continue;
      for (const problem of checkCsvConsistency(run, target, await readFile(csv, 'utf8'))) {
        console.error(`warning: ${path.relative(process.cwd(), csv)}: ${problem}`);
      }
    }
    outDirs.set(dir, [...(outDirs.get(dir) ?? []), item]);
  }

  for (const [dir, processed] of outDirs) {
    // The index lists every run in the directory, not only those reported now.
    const entries = new Map<string, IndexEntry>();
    for (const file of await jsonFilesIn(dir)) {
      const run = await loadRun(file);
      if (typeof run === 'string') continue;
      const base = path.basename(file, '.json');
      if (existsSync(path.join(dir, `${base}.md`))) entries.set(base, { run, base, json: path.basename(file) });
    }
    for (const { run, file, base } of processed) {
      entries.set(base, { run, base, json: path.relative(dir, file).split(path.sep).join('/') });
    }
    const index = path.join(dir, 'README.md');
    await writeFile(index, renderIndex([...entries.values()]));
    console.log(`wrote ${path.relative(process.cwd(), index)}`);
  }
  return failed ? 1 : 0;
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
