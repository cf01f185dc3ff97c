/**
 * First-request latency with and without model_warmup, for the PaddleOCR classifier and
 * recogniser: each round starts a fresh server process (src/main.ts) for each model's cold
 * copy and for its warmed copy (one CPU instance, so the first request meets the instance
 * that warm-up ran on, or did not), waits until it is ready and connected, then times the
 * first request and five more for the steady state.
 * Wall-clock figures: run it on a quiet machine and read the median over rounds.
 *
 * Usage: npx tsx scripts/warmup-figures.ts [--rounds 5]
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ProtoClient } from './lib/grpc-client.js';
import { makeOcrRepository } from './make-ocr-repository.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const rounds = Number(process.argv.includes('--rounds') ? process.argv[process.argv.indexOf('--rounds') + 1] : 5);
const MODELS = [
  { name: 'ocr_cls', dims: [3, 48, 192] },
  { name: 'ocr_rec', dims: [3, 48, 320] },
] as const;

const scratch = await mkdtemp(path.join(tmpdir(), 'nereid-warmup-figures-'));
const source = path.join(scratch, 'source');
const repository = path.join(scratch, 'repository');
try {
  await makeOcrRepository(source);
  for (const model of MODELS) {
    const config = (await readFile(path.join(source, model.name, 'config.pbtxt'), 'utf8')) + '\ninstance_group [ { count: 1, kind: KIND_CPU } ]\n';
    const warmup = `model_warmup [ { name: "one line" batch_size: 1 inputs { key: "x" value: { data_type: TYPE_FP32, dims: [ ${model.dims.join(', ')} ], random_data: true } } } ]\n`;
    for (const [suffix, extra] of [['cold', ''], ['warm', warmup]] as const) {
      const dir = path.join(repository, `${model.name}_${suffix}`);
      await cp(path.join(source, model.name), dir, { recursive: true, dereference: true });
      await writeFile(path.join(dir, 'config.pbtxt'), config.replace(`name: "${model.name}"`, `name: "${model.name}_${suffix}"`) + extra);
    }
  }
  const results = new Map<string, { first: number[]; firstCompute: number[]; steady: number[] }>();
  for (let round = 0; round < rounds; round++) {
    for (const model of MODELS) {
      const elements = model.dims.reduce((a, b) => a * b, 1);
      const raw = Buffer.from(Float32Array.from({ length: elements }, (_, i) => (i % 255) / 255).buffer);
      // Alternate which copy goes first, so that neither always meets a busier machine.
      for (const suffix of round % 2 === 0 ? ['cold', 'warm'] : ['warm', 'cold']) {
        const name = `${model.name}_${suffix}`;
        // A process of its own per measurement: a process's first request also pays for the
        // JIT of the request path and ONNX Runtime's process-wide set-up.
        const server = spawn(process.execPath, ['--import', 'tsx', MAIN, '--model-repository', repository, '--model-control-mode', 'explicit', '--load-model', name,
          '--grpc-address', '127.0.0.1', '--grpc-port', '0', '--metrics-port', '0', '--metrics-address', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'inherit'] });
        const port = await new Promise<number>((resolve, reject) => {
          createInterface({ input: server.stdout! }).on('line', (line) => {
            const entry = JSON.parse(line) as { msg?: string; port?: number };
            if (entry.msg === 'gRPC endpoint listening') resolve(entry.port!);
          });
          server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
        });
        const client = new ProtoClient(`127.0.0.1:${port}`);
        try {
          // Ready (model loaded and warmed) and connected before timing.
          while (!(await client.call<{ ready: boolean }>('ServerReady', {})).ready) await new Promise((r) => setTimeout(r, 50));
          const infer = async () => {
            const started = performance.now();
            await client.call('ModelInfer', { model_name: name, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, ...model.dims] }], raw_input_contents: [raw] });
            return performance.now() - started;
          };
          const entry = results.get(name) ?? { first: [], firstCompute: [], steady: [] };
          entry.first.push(await infer());
          // session.run alone (compute_infer of the one execution so far), apart from the main thread's first-call costs.
          const stats = await client.call<{ model_stats: { inference_stats: { compute_infer: { ns: string | number } } }[] }>('ModelStatistics', { name });
          entry.firstCompute.push(Number(stats.model_stats[0]!.inference_stats.compute_infer.ns) / 1e6);
          for (let i = 0; i < 5; i++) entry.steady.push(await infer());
          results.set(name, entry);
        } finally {
          client.close();
          const exited = once(server, 'exit');
          server.kill('SIGTERM');
          await exited;
        }
      }
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(`| model | warm-up | first request, median of ${rounds} (ms) | its session.run (ms) | first requests (ms) | later requests, median (ms) |`);
  console.log('| --- | --- | ---: | ---: | --- | ---: |');
  for (const [name, { first, firstCompute, steady }] of results) {
    const [model, suffix] = [name.replace(/_(cold|warm)$/, ''), name.endsWith('warm') ? 'yes' : 'no'];
    console.log(`| ${model} | ${suffix} | ${median(first).toFixed(1)} | ${median(firstCompute).toFixed(1)} | ${first.map((v) => v.toFixed(0)).join(', ')} | ${median(steady).toFixed(1)} |`);
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
