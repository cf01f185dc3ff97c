/**
 * perf_analyzer-compatible CSV (its `-f` output), so that the spreadsheets and scripts written
 * for perf_analyzer read Nereid's results unchanged, and a small CSV parser.
 *
 * Differences from perf_analyzer, all deliberate:
 * - times are rounded to the nearest microsecond (perf_analyzer truncates nanoseconds / 1000);
 * - a cell is left blank when the value was not measured (perf_analyzer writes 0);
 * - ties in throughput are ordered by level (perf_analyzer's std::sort leaves them unspecified).
 */
import type { BenchRun, BenchSettings, ResultRow } from './bench-types.js';

/** perf_analyzer's columns after the first (`Concurrency` or `Request Rate`), in its order. */
export const PERF_ANALYZER_COLUMNS = [
  'Inferences/Second',
  'Client Send',
  'Network+Server Send/Recv',
  'Server Queue',
  'Server Compute Input',
  'Server Compute Infer',
  'Server Compute Output',
  'Client Recv',
  'p50 latency',
  'p90 latency',
  'p95 latency',
  'p99 latency',
] as const;

/** The full header row for a mode. */
export function perfAnalyzerHeader(mode: BenchSettings['mode']): string[] {
  return [mode === 'request-rate' ? 'Request Rate' : 'Concurrency', ...PERF_ANALYZER_COLUMNS];
}

/**
 * perf_analyzer's "Network+Server Send/Recv": the part of the mean latency that is neither
 * client serialization, client deserialization, server queueing nor server compute —
 * mean - (client send + client recv + queue + compute input + compute infer + compute output),
 * floored at 0 as perf_analyzer does (the terms come from different clocks). Null when any
 * term is unknown.
 */
export function networkServerUs(row: ResultRow): number | null {
  const { clientSendUs, clientRecvUs, server } = row;
  if (clientSendUs === null || clientRecvUs === null || server === null) return null;
  const mean = row.latency.meanUs;
  if (!Number.isFinite(mean)) return null;
  const known =
    clientSendUs + clientRecvUs + server.queueUs + server.computeInputUs + server.computeInferUs + server.computeOutputUs;
  return Math.max(0, mean - known);
}

/** perf_analyzer's row order: increasing throughput; equal throughputs by increasing level. */
export function perfAnalyzerOrder(rows: readonly ResultRow[]): ResultRow[] {
  return [...rows].sort((a, b) => a.inferPerSec - b.inferPerSec || a.level - b.level);
}

/** A time cell: whole microseconds, blank when unknown. */
function usCell(us: number | null | undefined): string {
  return us === null || us === undefined || !Number.isFinite(us) ? '' : String(Math.round(us));
}

/** A throughput cell: six significant digits, like perf_analyzer's default stream formatting. */
function rateCell(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(6))) : '';
}

/**
 * The rows of ONE target as perf_analyzer's CSV: header, then one line per level in
 * perf_analyzer's order (increasing Inferences/Second). Every line ends with "\n".
 * Throws when the rows belong to more than one target.
 */
export function toPerfAnalyzerCsv(rows: readonly ResultRow[], mode: BenchSettings['mode']): string {
  const targets = new Set(rows.map((r) => r.target));
  if (targets.size > 1) {
    throw new Error(`toPerfAnalyzerCsv: one target per CSV, got ${[...targets].join(', ')}`);
  }
  const lines = [perfAnalyzerHeader(mode).join(',')];
  for (const row of perfAnalyzerOrder(rows)) {
    const s = row.server;
    lines.push(
      [
        rateCell(row.level),
        rateCell(row.inferPerSec),
        usCell(row.clientSendUs),
        usCell(networkServerUs(row)),
        usCell(s?.queueUs),
        usCell(s?.computeInputUs),
        usCell(s?.computeInferUs),
        usCell(s?.computeOutputUs),
        usCell(row.clientRecvUs),
        usCell(row.latency.p50Us),
        usCell(row.latency.p90Us),
        usCell(row.latency.p95Us),
        usCell(row.latency.p99Us),
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

/** A file-name-safe form of a target name (anything but letters, digits, `.`, `_`, `-` becomes `-`). */
export function fileSlug(name: string): string {
  const slug = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '');
  return slug === '' ? 'target' : slug;
}

/** The CSV file of one target of a run: `<base>-<target>.csv`. */
export function csvFileName(base: string, target: string): string {
  return `${base}-${fileSlug(target)}.csv`;
}

/** One CSV per target of a run, keyed by target, in `run.targets` order. */
export function perfAnalyzerCsvByTarget(run: BenchRun): Map<string, string> {
  const out = new Map<string, string>();
  const targets = [...new Set([...run.targets, ...run.results.map((r) => r.target)])];
  for (const target of targets) {
    out.set(
      target,
      toPerfAnalyzerCsv(
        run.results.filter((r) => r.target === target),
        run.settings.mode,
      ),
    );
  }
  return out;
}

export interface ParsedCsv {
  readonly header: string[];
  readonly rows: string[][];
}

/**
 * Parses CSV text (RFC 4180: `,` separators, `"` quoting with `""` for a quote, LF or CRLF line
 * ends). The first record is the header; blank lines are skipped. Rows are returned as written,
 * without checking their width against the header.
 */
export function parseCsv(text: string): ParsedCsv {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  const endRecord = (): void => {
    if (fieldStarted || record.length > 0 || field !== '') {
      record.push(field);
      records.push(record);
    }
    record = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) throw new Error('parseCsv: unterminated quoted field');
  endRecord();
  const [header = [], ...rows] = records;
  return { header, rows };
}
