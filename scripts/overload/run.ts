/**
 * npx tsx scripts/overload/run.ts --rate 4500 [--duration-s 20] [options]
 *
 * Overload replay: starts Nereid on loopback (port 0) with the example repository, offers
 * open-loop load to one model at a fixed rate for a fixed time, then reports what a user
 * and an operator would see: OK/s and refusals/s during the load, other errors by gRPC
 * code, p50/p99 latency of OK answers, the server's RSS, how long its main thread stayed
 * busy after the load stopped, whether it answered a liveness probe during and after, and
 * whether it is live and computes correctly at the end. Stops the server and itself; a hard
 * limit kills the server if anything hangs. `--help` lists the options.
 */
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { ModelInferRequest } from '../../src/generated/grpc_service.js';
import { startWorker } from '../../src/instance/start-worker.js';
import { summarize } from '../bench/stats.js';
import { startNereid, type ServerProcess } from '../bench/targets.js';
import { ProtoClient } from '../lib/grpc-client.js';
import type { LoadThreadJob, LoadThreadReport } from './load-thread.js';
import { busyAfter, sampleProcess, type ProcessSample } from './process-probe.js';

const HELP = `npx tsx scripts/overload/run.ts --rate N [options]
  --rate N             requests per second offered, open loop (required)
  --duration-s N       how long the load lasts (default 20)
  --threads N          load-generating threads sharing the rate (default 1)
  --connections N      gRPC connections per thread (default 4): Node's HTTP/2 stops reading a
                       connection while its own write is blocked, so one connection carrying
                       tens of thousands of open calls can wedge with both sides' buffers full
  --deadline-ms N      gRPC deadline of each call; 0 = none (default 0)
  --drain-limit-s N    after the load, how long to wait for open calls before cancelling them (default 60)
  --settle-limit-s N   then how long to wait for the server's main thread to go idle (default 60)
  --repository DIR     model repository (default: the example repository, models/)
  --model NAME         model to load (default simple; its inputs must be [1,16] INT32 INPUT0/INPUT1), or
                       slow, the test repository's fixture (FP32 INPUT0 [1,16] and INT64 DELAY [1,1]; OUTPUT0 = INPUT0)
  --delay N            slow only: DELAY loop iterations per request (default 100), which sets the capacity
  --entry source|dist  run the server from src/ through tsx (default) or the build in dist/
  --server-arg ARG     extra server flag (repeatable), e.g. --server-arg=--log-verbose; the script finds
                       the server's port in its info log lines, so the log level must stay info or debug
  --json FILE          also write the report as JSON`;

interface Options {
  rate: number;
  durationS: number;
  threads: number;
  connections: number;
  deadlineMs: number;
  drainLimitS: number;
  settleLimitS: number;
  repository: string;
  model: string;
  delay: number;
  entry: 'source' | 'dist';
  serverArgs: string[];
  json: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    rate: NaN,
    durationS: 20,
    threads: 1,
    connections: 4,
    deadlineMs: 0,
    drainLimitS: 60,
    settleLimitS: 60,
    repository: fileURLToPath(new URL('../../models/', import.meta.url)),
    model: 'simple',
    delay: 100,
    entry: 'source',
    serverArgs: [],
    json: undefined,
  };
  const number = (name: string, value: string | undefined) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${name} needs a number >= 0, got ${value}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--rate': options.rate = number(flag, value()); break;
      case '--duration-s': options.durationS = number(flag, value()); break;
      case '--threads': options.threads = Math.max(1, Math.round(number(flag, value()))); break;
      case '--connections': options.connections = Math.max(1, Math.round(number(flag, value()))); break;
      case '--deadline-ms': options.deadlineMs = number(flag, value()); break;
      case '--drain-limit-s': options.drainLimitS = number(flag, value()); break;
      case '--settle-limit-s': options.settleLimitS = number(flag, value()); break;
      case '--repository': options.repository = value() ?? options.repository; break;
      case '--model': options.model = value() ?? options.model; break;
      case '--delay': options.delay = Math.round(number(flag, value())); break;
      case '--entry': options.entry = value() === 'dist' ? 'dist' : 'source'; break;
      case '--server-arg': options.serverArgs.push(value() ?? ''); break;
      case '--json': options.json = value(); break;
      case '--help': console.log(HELP); process.exit(0); break;
      default: throw new Error(`unknown option ${flag}\n${HELP}`);
    }
  }
  if (!(options.rate > 0)) throw new Error(`--rate is required\n${HELP}`);
  const level = options.serverArgs[options.serverArgs.indexOf('--log-level') + 1];
  if (options.serverArgs.includes('--log-level') && level !== 'info' && level !== 'debug') {
    throw new Error('the script reads the server\'s info log lines to find its port: keep --log-level at info or debug');
  }
  return options;
}

const epochMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const int32 = (values: number[]) => Buffer.from(Int32Array.from(values).buffer);

/** The `slow` fixture's request: OUTPUT0 = INPUT0 after `delay` loop iterations. */
function slowRequest(model: string, input: number[], delay: number) {
  return {
    modelName: model,
    inputs: [
      { name: 'INPUT0', datatype: 'FP32', shape: [1n, 16n] },
      { name: 'DELAY', datatype: 'INT64', shape: [1n, 1n] },
    ],
    rawInputContents: [Buffer.from(Float32Array.from(input).buffer), Buffer.from(BigInt64Array.of(BigInt(delay)).buffer)],
  };
}

/** Distinct encoded requests: INPUT0 counts up from a seed, INPUT1 is all 1 (slow: DELAY is `delay`). */
function encodedRequests(model: string, count: number, delay: number): Uint8Array[] {
  return Array.from({ length: count }, (_, k) => {
    const input = Array.from({ length: 16 }, (_, i) => k * 16 + i);
    const request =
      model === 'slow'
        ? slowRequest(model, input, delay)
        : {
            modelName: model,
            inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1n, 16n] })),
            rawInputContents: [int32(input), int32(new Array(16).fill(1))],
          };
    return ModelInferRequest.encode(ModelInferRequest.fromPartial(request)).finish().slice();
  });
}

/**
 * One ModelInfer checked against OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1
 * (slow: OUTPUT0 = INPUT0).
 */
async function answersCorrectly(client: ProtoClient, model: string, deadlineMs: number): Promise<string | true> {
  const a = Array.from({ length: 16 }, (_, i) => 7 * i - 20);
  const b = Array.from({ length: 16 }, (_, i) => 3 - i);
  if (model === 'slow') {
    try {
      const request = slowRequest(model, a, 1);
      const reply = await client.call<{ raw_output_contents: Buffer[] }>(
        'ModelInfer',
        { model_name: model, inputs: request.inputs.map((i) => ({ ...i, shape: i.shape.map(Number) })), raw_input_contents: request.rawInputContents },
        { deadlineMs },
      );
      const raw = reply.raw_output_contents[0]!;
      const got = Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
      return JSON.stringify(got) === JSON.stringify(a) ? true : 'wrong outputs';
    } catch (err) {
      return `${(err as { code?: number }).code ?? ''} ${(err as Error).message}`;
    }
  }
  try {
    const reply = await client.call<{ outputs: { name: string }[]; raw_output_contents: Buffer[] }>(
      'ModelInfer',
      {
        model_name: model,
        inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16] })),
        raw_input_contents: [int32(a), int32(b)],
      },
      { deadlineMs },
    );
    const read = (name: string) => {
      const raw = reply.raw_output_contents[reply.outputs.findIndex((o) => o.name === name)];
      return raw === undefined ? [] : Array.from(new Int32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
    };
    const sum = a.map((x, i) => x + b[i]!);
    const diff = a.map((x, i) => x - b[i]!);
    if (JSON.stringify(read('OUTPUT0')) !== JSON.stringify(sum) || JSON.stringify(read('OUTPUT1')) !== JSON.stringify(diff)) return 'wrong outputs';
    return true;
  } catch (err) {
    return `${(err as { code?: number }).code ?? ''} ${(err as Error).message}`;
  }
}

async function isLive(client: ProtoClient, deadlineMs: number): Promise<boolean> {
  try {
    return (await client.call<{ live: boolean }>('ServerLive', {}, { deadlineMs })).live;
  } catch {
    return false;
  }
}

function runThread(job: LoadThreadJob): { worker: Worker; report: Promise<LoadThreadReport> } {
  const entry = new URL(`./load-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  const worker = startWorker(entry, { workerData: job });
  const report = new Promise<LoadThreadReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, report };
}

/** SIGTERM, then SIGKILL if the server has not exited within `graceMs`. */
async function stopServer(server: ServerProcess, graceMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      if (server.pid !== undefined) process.kill(server.pid, 'SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([server.stop(), killed]);
  clearTimeout(timer);
}

const REFUSALS = new Set(['UNAVAILABLE', 'RESOURCE_EXHAUSTED']);
const mib = (bytes: number | undefined) => (bytes === undefined ? NaN : Math.round(bytes / 2 ** 20));

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const hardLimitMs = (options.durationS + options.drainLimitS + options.settleLimitS + 120) * 1000;
  const server = await startNereid('nereid', options.repository, options.entry, options.serverArgs);
  const guard = setTimeout(() => {
    console.error(`overload: hard limit of ${hardLimitMs / 1000} s reached; killing the server`);
    if (server.pid !== undefined) process.kill(server.pid, 'SIGKILL');
    process.exit(2);
  }, hardLimitMs);
  const probeClient = new ProtoClient(server.address);
  const samples: ProcessSample[] = [];
  const probes: { at: number; live: boolean; ms: number }[] = [];
  /** Items the model executed so far (ModelStatistics inference_count), once a second. */
  const executed: { at: number; items: number }[] = [];
  let sampler: NodeJS.Timeout | undefined;
  let prober: NodeJS.Timeout | undefined;
  try {
    const before = await answersCorrectly(probeClient, options.model, 10_000);
    if (before !== true) throw new Error(`the server does not answer ${options.model} correctly before the load: ${before}`);
    const pid = server.pid!;
    const sample = () => {
      const s = sampleProcess(pid);
      if (s !== undefined) samples.push(s);
    };
    sample();
    sampler = setInterval(sample, 100);
    prober = setInterval(() => {
      const at = epochMs();
      void isLive(probeClient, 1000).then((live) => probes.push({ at, live, ms: epochMs() - at }));
      void probeClient
        .call<{ model_stats: { inference_count: number }[] }>('ModelStatistics', { name: options.model }, { deadlineMs: 1000 })
        .then((reply) => executed.push({ at, items: Number(reply.model_stats[0]?.inference_count ?? 0) }))
        .catch(() => {});
    }, 1000);

    console.error(`overload: ${options.rate} req/s to ${options.model} for ${options.durationS} s (server pid ${pid}, ${server.address})`);
    const requests = encodedRequests(options.model, 16, options.delay);
    const threads = Array.from({ length: options.threads }, () =>
      runThread({
        target: server.address,
        requests,
        rate: options.rate / options.threads,
        connections: options.connections,
        durationMs: options.durationS * 1000,
        deadlineMs: options.deadlineMs,
        drainLimitMs: options.drainLimitS * 1000,
      }),
    );
    const reports = await Promise.all(threads.map((t) => t.report));
    await Promise.all(threads.map((t) => t.worker.terminate()));
    const stoppedAt = Math.max(...reports.map((r) => r.stoppedAt));
    const startedAt = Math.min(...reports.map((r) => r.startedAt));
    const lastAnswerAt = Math.max(...reports.map((r) => r.lastAnswerAt));

    // Wait for the main thread to go quiet (one second under a quarter of a core), or the limit.
    const settleUntil = epochMs() + options.settleLimitS * 1000;
    await sleep(1100);
    while (epochMs() < settleUntil) {
      const recent = samples.filter((s) => s.at >= epochMs() - 1000);
      const first = recent[0];
      const last = recent.at(-1);
      if (first !== undefined && last !== undefined && last.at - first.at > 800 && (last.mainThreadCpuS - first.mainThreadCpuS) / ((last.at - first.at) / 1000) < 0.25) break;
      await sleep(200);
    }
    clearInterval(prober);
    const liveAtEnd = await isLive(probeClient, 5000);
    const correctAtEnd = await answersCorrectly(probeClient, options.model, 5000);
    sample();
    clearInterval(sampler);

    const byCode: Record<string, number> = {};
    const details: Record<string, string> = {};
    const perSecond: Record<string, number[]> = {};
    for (const r of reports) {
      for (const [code, n] of Object.entries(r.byCode)) byCode[code] = (byCode[code] ?? 0) + n;
      for (const [code, text] of Object.entries(r.firstDetails)) details[code] ??= text;
      for (const [code, series] of Object.entries(r.perSecond)) {
        const into = (perSecond[code] ??= []);
        series.forEach((n, i) => (into[i] = (into[i] ?? 0) + n));
      }
    }
    const duringLoad = (code: string) => (perSecond[code] ?? []).slice(0, Math.ceil(options.durationS)).reduce((a, b) => a + (b ?? 0), 0);
    const latencies = new Float64Array(reports.reduce((n, r) => n + r.okLatencies.length, 0));
    let offset = 0;
    for (const r of reports) {
      latencies.set(r.okLatencies, offset);
      offset += r.okLatencies.length;
    }
    const ok = summarize(latencies);
    const sent = reports.reduce((n, r) => n + r.sent, 0);
    const refused = Object.entries(byCode).filter(([code]) => REFUSALS.has(code)).reduce((n, [, v]) => n + v, 0);
    const refusedDuringLoad = [...REFUSALS].reduce((n, code) => n + duringLoad(code), 0);
    const busy = busyAfter(samples, stoppedAt);
    const loadProbes = probes.filter((p) => p.at <= stoppedAt);
    const afterProbes = probes.filter((p) => p.at > stoppedAt);
    const report = {
      model: options.model,
      offeredPerSec: options.rate,
      connections: options.threads * options.connections,
      durationS: options.durationS,
      deadlineMs: options.deadlineMs,
      sentPerSec: sent / ((stoppedAt - startedAt) / 1000),
      okPerSecDuringLoad: duringLoad('OK') / options.durationS,
      refusedPerSecDuringLoad: refusedDuringLoad / options.durationS,
      answers: byCode,
      firstDetails: details,
      refusedTotal: refused,
      unanswered: reports.reduce((n, r) => n + r.unanswered, 0),
      okLatencyMs: { p50: ok.p50Us / 1000, p99: ok.p99Us / 1000, max: ok.maxUs / 1000 },
      rssMiB: { start: mib(samples[0]?.rssBytes), peak: mib(Math.max(...samples.map((s) => s.rssBytes))), end: mib(samples.at(-1)?.rssBytes) },
      lastAnswerAfterStopS: Math.max(0, (lastAnswerAt - stoppedAt) / 1000),
      mainThreadBusyAfterStopS: busy.seconds,
      mainThreadStillBusy: busy.stillBusy,
      liveProbesFailed: { duringLoad: `${loadProbes.filter((p) => !p.live).length}/${loadProbes.length}`, after: `${afterProbes.filter((p) => !p.live).length}/${afterProbes.length}` },
      liveAtEnd,
      correctAtEnd: correctAtEnd === true ? true : correctAtEnd,
      okPerSecondSeries: perSecond['OK'] ?? [],
      /** Items executed per second (from ModelStatistics), from the load's start. */
      executedPerSecondSeries: executed
        .filter((e) => e.at >= startedAt)
        .map((e, i, all) => (i === 0 ? 0 : Math.round(((e.items - all[i - 1]!.items) * 1000) / (e.at - all[i - 1]!.at)))),
      /** The main thread's CPU, % of a core, per second from the load's start. */
      mainThreadCpuSeries: perSecondCpu(samples, startedAt),
    };
    print(report);
    if (options.json !== undefined) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    }
  } finally {
    clearInterval(sampler);
    clearInterval(prober);
    probeClient.close();
    await stopServer(server);
    clearTimeout(guard);
  }
}

function perSecondCpu(samples: readonly ProcessSample[], from: number): number[] {
  const out: number[] = [];
  let previous = samples.find((s) => s.at >= from);
  if (previous === undefined) return out;
  for (const s of samples) {
    if (s.at - previous.at < 1000) continue;
    out.push(Math.round(((s.mainThreadCpuS - previous.mainThreadCpuS) / ((s.at - previous.at) / 1000)) * 100));
    previous = s;
  }
  return out;
}

function print(r: Record<string, unknown> & { answers: Record<string, number>; firstDetails: Record<string, string> }): void {
  const lines = [
    `offered ${r['offeredPerSec']} req/s for ${r['durationS']} s over ${r['connections']} connections (sent ${Math.round(r['sentPerSec'] as number)}/s), deadline ${r['deadlineMs'] === 0 ? 'none' : `${r['deadlineMs']} ms`}`,
    `during the load: OK ${Math.round(r['okPerSecDuringLoad'] as number)}/s, refused ${Math.round(r['refusedPerSecDuringLoad'] as number)}/s`,
    `answers: ${Object.entries(r.answers)
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `${code} ${n}`)
      .join(', ')}; unanswered at the drain limit ${r['unanswered']}`,
    ...Object.entries(r.firstDetails).map(([code, text]) => `  ${code}: ${text}`),
    `OK latency ms: ${JSON.stringify(r['okLatencyMs'], (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`,
    `RSS MiB: ${JSON.stringify(r['rssMiB'])}`,
    `after the load stopped: last answer +${(r['lastAnswerAfterStopS'] as number).toFixed(1)} s, main thread busy +${(r['mainThreadBusyAfterStopS'] as number).toFixed(1)} s${r['mainThreadStillBusy'] ? ' (still busy at the settle limit)' : ''}`,
    `ServerLive probes failed: ${JSON.stringify(r['liveProbesFailed'])}; live at end: ${r['liveAtEnd']}; correct at end: ${r['correctAtEnd']}`,
    `OK per second: ${(r['okPerSecondSeries'] as number[]).join(' ')}`,
    `items executed per second: ${(r['executedPerSecondSeries'] as number[]).join(' ')}`,
    `main thread CPU % per second: ${(r['mainThreadCpuSeries'] as number[]).join(' ')}`,
  ];
  console.log(lines.join('\n'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
