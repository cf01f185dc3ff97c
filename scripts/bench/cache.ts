/**
 * The response-cache benchmark (`npm run bench:cache`): a workload whose requests repeat,
 * against Nereid with the cache (every request a hit), Nereid with a cache too small for
 * its distinct requests (every request a miss: key, lookup, execution, insertion and an
 * eviction), Nereid without a cache (the same model, computed), and the echo server (the
 * transport alone, answering with the model's real outputs). Closed loop at a few
 * concurrencies, with the harness of `npm run bench` (scripts/bench/load-generator.ts);
 * server CPU per request is read from /proc, the steadier figure on a shared machine.
 *
 *   npm run bench:cache -- [--workload simple|ocr-cls] [--concurrency 1,8] [--window-ms 2000]
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ModelInferRequest } from '../../src/generated/grpc_service.js';
import { measure } from './load-generator.js';
import { responseOutputs } from './response-outputs.js';
import { summarize } from './stats.js';
import { processCpuSeconds, startEcho, startNereid, type ServerProcess } from './targets.js';
import { randomTensor, seededRandom, WORKLOADS, type InputSpec } from './workloads.js';

interface Options {
  workload: string;
  concurrency: number[];
  windowMs: number;
  entry: 'dist' | 'source';
}

function parse(argv: readonly string[]): Options {
  const options: Options = { workload: 'simple', concurrency: [1, 8], windowMs: 2000, entry: 'dist' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--workload') options.workload = value;
    else if (flag === '--concurrency') options.concurrency = value.split(',').map(Number);
    else if (flag === '--window-ms') options.windowMs = Number(value);
    else if (flag === '--entry') options.entry = value === 'source' ? 'source' : 'dist';
    else throw new Error(`unknown flag ${flag}; flags: --workload, --concurrency, --window-ms, --entry`);
  }
  if (WORKLOADS[options.workload] === undefined || WORKLOADS[options.workload]!.sequenceLength !== undefined) {
    throw new Error(`--workload must be one of ${Object.keys(WORKLOADS).filter((w) => WORKLOADS[w]!.sequenceLength === undefined).join(', ')}`);
  }
  return options;
}

/** Distinct requests the miss target cycles through; its cache holds a few of them at most. */
const DISTINCT = 512;

function encode(model: string, inputs: readonly InputSpec[], seed: number): Uint8Array {
  const random = seededRandom(seed);
  const message = ModelInferRequest.fromPartial({
    modelName: model,
    inputs: inputs.map((input) => ({ name: input.name, datatype: input.datatype, shape: input.shape.map(BigInt) })),
    rawInputContents: inputs.map((input) => randomTensor(input, random)),
  });
  return ModelInferRequest.encode(message).finish().slice();
}

/** A copy of the workload's model with response_cache enabled in its config. */
function cachedRepository(source: string, model: string, scratch: string): string {
  const dir = path.join(scratch, 'cached');
  cpSync(path.join(source, model), path.join(dir, model), { recursive: true });
  const config = path.join(dir, model, 'config.pbtxt');
  writeFileSync(config, `${readFileSync(config, 'utf8')}\nresponse_cache { enable: true }\n`);
  return dir;
}

interface Row {
  target: string;
  concurrency: number;
  reqPerSec: number;
  p50Us: number;
  p99Us: number;
  serverCpuUsPerReq: number | null;
  errors: number;
}

async function run(server: ServerProcess, target: string, requests: readonly Uint8Array[], concurrency: number, windowMs: number): Promise<Row> {
  const cpu = () => Promise.resolve(processCpuSeconds(server.pid));
  const m = await measure(
    { target: server.address, requests, mode: 'concurrency', level: concurrency, clientWorkers: Math.min(2, concurrency), warmupMs: 1000, windowMs, stability: 0.1, maxWindows: 6, decodeEvery: 100 },
    cpu,
  );
  const s = summarize(m.latenciesUs);
  const [from, to] = m.snapshots;
  const served = m.latenciesUs.length;
  return {
    target,
    concurrency,
    reqPerSec: Math.round(m.requestsPerSec),
    p50Us: Math.round(s.p50Us),
    p99Us: Math.round(s.p99Us),
    serverCpuUsPerReq: from !== null && to !== null && served > 0 ? Math.round(((to - from) * 1e6) / served) : null,
    errors: m.errors,
  };
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const workload = WORKLOADS[options.workload]!;
  const scratch = mkdtempSync(path.join(tmpdir(), 'nereid-cache-bench-'));
  try {
    const source = await workload.repository(path.join(scratch, 'source'));
    const repository = cachedRepository(source, workload.model, scratch);
    const same = [encode(workload.model, workload.inputs, 1)];
    const distinct = Array.from({ length: DISTINCT }, (_, i) => encode(workload.model, workload.inputs, i + 1));
    const outputs = await responseOutputs(path.join(repository, workload.model, '1', 'model.onnx'), workload.inputs);
    const entryBytes = 256 + 44 + outputs.reduce((sum, o) => sum + 96 + o.name.length + 8 * o.shape.length + o.bytes, 0);
    const targets: [string, () => Promise<ServerProcess>, readonly Uint8Array[]][] = [
      ['echo', () => startEcho(outputs), same],
      ['nereid-hit', () => startNereid('hit', repository, options.entry, ['--cache-config', `local,size=${64 * 1024 * 1024}`]), same],
      // Room for a handful of entries: cycling through DISTINCT requests, every lookup misses.
      ['nereid-miss', () => startNereid('miss', repository, options.entry, ['--cache-config', `local,size=${4 * entryBytes}`]), distinct],
      ['nereid-no-cache', () => startNereid('plain', repository, options.entry), distinct],
    ];
    const rows: Row[] = [];
    for (const [name, start, requests] of targets) {
      const server = await start();
      try {
        for (const c of options.concurrency) {
          const row = await run(server, name, requests, c, options.windowMs);
          rows.push(row);
          console.error(JSON.stringify(row));
        }
      } finally {
        await server.stop();
      }
    }
    console.log(`workload ${workload.name} (${workload.model}); response ${outputs.reduce((s, o) => s + o.bytes, 0)} bytes; cache entry ${entryBytes} bytes`);
    console.log('| target | concurrency | req/s | p50 µs | p99 µs | server CPU µs/req | errors |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) console.log(`| ${r.target} | ${r.concurrency} | ${r.reqPerSec} | ${r.p50Us} | ${r.p99Us} | ${r.serverCpuUsPerReq ?? '—'} | ${r.errors} |`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
