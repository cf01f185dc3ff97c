import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LatencySummary, ResultRow, ServerSplit } from '../../../scripts/bench/bench-types.js';
import {
  csvFileName,
  fileSlug,
  networkServerUs,
  parseCsv,
  perfAnalyzerHeader,
  perfAnalyzerOrder,
  toPerfAnalyzerCsv,
} from '../../../scripts/bench/csv.js';

const latency = (meanUs: number, p50Us = 900, p90Us = 1200, p95Us = 1300, p99Us = 1500): LatencySummary => ({
  count: 1000,
  meanUs,
  p50Us,
  p90Us,
  p95Us,
  p99Us,
  maxUs: 2000,
});

const split: ServerSplit = { queueUs: 100, computeInputUs: 5, computeInferUs: 600, computeOutputUs: 5 };

function row(level: number, inferPerSec: number, over: Partial<ResultRow> = {}): ResultRow {
  return {
    target: 'nereid',
    level,
    inferPerSec,
    requestsPerSec: inferPerSec,
    serverCpuPct: null,
    latency: latency(1000),
    clientSendUs: 10,
    clientRecvUs: 20,
    server: split,
    clientCpuPct: 50,
    windows: 3,
    stable: true,
    errors: 0,
    ...over,
  };
}

const HEADER =
  'Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,' +
  'Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency';

describe('toPerfAnalyzerCsv', () => {
  it('writes exactly perf_analyzer\'s header', () => {
    const [header] = toPerfAnalyzerCsv([], 'concurrency').split('\n');
    assert.equal(header, HEADER);
    assert.equal(perfAnalyzerHeader('concurrency').join(','), HEADER);
  });

  it('starts the header with Request Rate in request-rate mode', () => {
    const [header] = toPerfAnalyzerCsv([], 'request-rate').split('\n');
    assert.equal(header, HEADER.replace(/^Concurrency,/, 'Request Rate,'));
  });

  it('writes one line per row, times as whole microseconds, ending in a newline', () => {
    const csv = toPerfAnalyzerCsv([row(4, 1234.5)], 'concurrency');
    // Network+Server = 1000 - (10 + 20 + 100 + 5 + 600 + 5) = 260.
    assert.equal(csv, `${HEADER}\n4,1234.5,10,260,100,5,600,5,20,900,1200,1300,1500\n`);
  });

  it('rounds times to the nearest microsecond and throughput to 6 significant digits', () => {
    const csv = toPerfAnalyzerCsv(
      [
        row(1, 1234.56789, {
          clientSendUs: 10.6,
          clientRecvUs: 19.4,
          latency: latency(1000.2, 900.5, 1200.49, 1300, 1500),
        }),
      ],
      'concurrency',
    );
    const line = csv.split('\n')[1]!;
    // 1000.2 - (10.6 + 19.4 + 710) = 260.2 -> 260.
    assert.equal(line, '1,1234.57,11,260,100,5,600,5,19,901,1200,1300,1500');
  });

  it('leaves the server cells and Network+Server blank when the server split is null', () => {
    const csv = toPerfAnalyzerCsv([row(2, 500, { server: null, serverNote: 'no statistics' })], 'concurrency');
    assert.equal(csv.split('\n')[1], '2,500,10,,,,,,20,900,1200,1300,1500');
  });

  it('leaves Client Send / Client Recv and Network+Server blank when they were not measured', () => {
    const csv = toPerfAnalyzerCsv([row(2, 500, { clientSendUs: null, clientRecvUs: null })], 'concurrency');
    assert.equal(csv.split('\n')[1], '2,500,,,100,5,600,5,,900,1200,1300,1500');
    const sendOnly = toPerfAnalyzerCsv([row(2, 500, { clientRecvUs: null })], 'concurrency');
    assert.equal(sendOnly.split('\n')[1], '2,500,10,,100,5,600,5,,900,1200,1300,1500');
  });

  it('floors Network+Server at 0, as perf_analyzer does', () => {
    const r = row(1, 100, { latency: latency(500) });
    assert.equal(networkServerUs(r), 0);
    assert.equal(toPerfAnalyzerCsv([r], 'concurrency').split('\n')[1]!.split(',')[3], '0');
  });

  it('computes Network+Server as the mean minus every other part', () => {
    assert.equal(networkServerUs(row(1, 1)), 260);
    assert.equal(networkServerUs(row(1, 1, { server: null })), null);
    assert.equal(networkServerUs(row(1, 1, { clientSendUs: null })), null);
    assert.equal(networkServerUs(row(1, 1, { clientRecvUs: null })), null);
    assert.equal(networkServerUs(row(1, 1, { latency: latency(NaN) })), null);
  });

  it('orders rows by increasing throughput, ties by level', () => {
    const rows = [row(1, 300), row(2, 100), row(4, 200), row(8, 200), row(16, 150)];
    const csv = toPerfAnalyzerCsv(rows, 'concurrency');
    const levels = csv
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]);
    assert.deepEqual(levels, ['2', '16', '4', '8', '1']);
    assert.deepEqual(
      perfAnalyzerOrder(rows).map((r) => r.level),
      [2, 16, 4, 8, 1],
    );
    // The input is not reordered.
    assert.deepEqual(
      rows.map((r) => r.level),
      [1, 2, 4, 8, 16],
    );
  });

  it('writes fractional request rates as they are', () => {
    const csv = toPerfAnalyzerCsv([row(12.5, 12.4)], 'request-rate');
    assert.equal(csv.split('\n')[1]!.split(',')[0], '12.5');
  });

  it('refuses rows of more than one target', () => {
    assert.throws(() => toPerfAnalyzerCsv([row(1, 1), row(1, 1, { target: 'echo' })], 'concurrency'), /one target/);
  });

  it('round-trips through parseCsv', () => {
    const rows = [row(1, 300), row(2, 100, { server: null }), row(4, 200, { clientSendUs: null })];
    const parsed = parseCsv(toPerfAnalyzerCsv(rows, 'concurrency'));
    assert.deepEqual(parsed.header, perfAnalyzerHeader('concurrency'));
    assert.equal(parsed.rows.length, 3);
    for (const r of parsed.rows) assert.equal(r.length, 13);
    assert.deepEqual(parsed.rows[0], ['2', '100', '10', '', '', '', '', '', '20', '900', '1200', '1300', '1500']);
    assert.deepEqual(parsed.rows[1], ['4', '200', '', '', '100', '5', '600', '5', '20', '900', '1200', '1300', '1500']);
    assert.deepEqual(parsed.rows[2], ['1', '300', '10', '260', '100', '5', '600', '5', '20', '900', '1200', '1300', '1500']);
  });
});

describe('parseCsv', () => {
  it('splits header and rows, keeping empty cells', () => {
    assert.deepEqual(parseCsv('a,b,c\n1,,3\n,,\n'), {
      header: ['a', 'b', 'c'],
      rows: [
        ['1', '', '3'],
        ['', '', ''],
      ],
    });
  });

  it('handles quotes, escaped quotes, embedded commas and newlines, and CRLF', () => {
    const parsed = parseCsv('name,note\r\n"a,b","say ""hi"""\r\n"multi\nline",x');
    assert.deepEqual(parsed.header, ['name', 'note']);
    assert.deepEqual(parsed.rows, [
      ['a,b', 'say "hi"'],
      ['multi\nline', 'x'],
    ]);
  });

  it('skips blank lines and gives nothing for empty text', () => {
    assert.deepEqual(parseCsv('a\n\n1\n\n'), { header: ['a'], rows: [['1']] });
    assert.deepEqual(parseCsv(''), { header: [], rows: [] });
  });

  it('rejects an unterminated quote', () => {
    assert.throws(() => parseCsv('a\n"oops'), /unterminated/);
  });
});

describe('file names', () => {
  it('makes target names safe for file names', () => {
    assert.equal(fileSlug('nereid'), 'nereid');
    assert.equal(fileSlug('triton grpc/8001'), 'triton-grpc-8001');
    assert.equal(fileSlug('../x'), 'x');
    assert.equal(fileSlug('///'), 'target');
    assert.equal(csvFileName('2024-01-01-resnet', 'echo'), '2024-01-01-resnet-echo.csv');
  });
});
