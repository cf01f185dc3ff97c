/**
 * Checks the Dockerfile's CPU image without a Docker engine: runs the steps of the `cpu`
 * target and the stages it copies from on this machine (this machine's Node stands in for
 * the node base image), each stage in its own directory, then starts the image's
 * ENTRYPOINT + CMD on a free loopback port and asks the server if it is ready.
 *
 * Usage: npx tsx scripts/check-docker-steps.ts [target]   (default target: cpu)
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProtoClient } from './lib/grpc-client.js';

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
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean) : [];
}

/** Runs a stage (and the stages it depends on) into `<root>/<stage>`; returns its root. */
function runStage(stages: Stage[], name: string, root: string, done: Map<string, StageState>): StageState {
  const existing = done.get(name);
  if (existing !== undefined) return existing;
  const stage = stages.find((s) => s.name === name);
  if (stage === undefined) throw new Error(`no stage ${name}`);
  const base = stages.find((s) => s.name === stage.base);
  const state: StageState =
    base !== undefined ? structuredClone(runStage(stages, base.name, root, done)) : { dir: path.join(root, name), workdir: '/', env: { ...process.env }, entry: [] };
  if (base !== undefined) {
    const dir = path.join(root, name);
    cpSync(state.dir, dir, { recursive: true, verbatimSymlinks: true });
    state.dir = dir;
  } else if (!/^node:20/.test(stage.base)) {
    throw new Error(`stage ${name} starts from ${stage.base}, which this check cannot stand in for`);
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
    } else if (!['EXPOSE', 'USER'].includes(op)) {
      throw new Error(`unsupported instruction ${op}`);
    }
  }
  const result: StageState = { ...state, entry: [...state.entry, ...cmd] };
  done.set(name, result);
  return result;
}

async function main(): Promise<void> {
  const target = process.argv[2] ?? 'cpu';
  const stages = parseDockerfile(readFileSync(path.join(CONTEXT, 'Dockerfile'), 'utf8'));
  const root = mkdtempSync(path.join(tmpdir(), 'nereid-docker-'));
  try {
    const image = runStage(stages, target, root, new Map());
    // Absolute paths in the command refer to the image's file system: map them into the stage.
    const argv = image.entry
      .map((a: string) => (a.startsWith('/') ? path.join(image.dir, a) : a))
      .map((a: string, i: number, all: string[]) => (all[i - 1] === '--grpc-port' ? '0' : a));
    const [command, ...args] = argv;
    console.log(`[${target}] starting: ${command} ${args.join(' ')}`);
    const child = spawn(command === 'node' ? process.execPath : command!, [...args, '--grpc-address', '127.0.0.1', '--metrics-address', '127.0.0.1', '--metrics-port', '0', '--log-format', 'json'], {
      cwd: path.join(image.dir, image.workdir),
      env: image.env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'gRPC endpoint listening') resolve(entry.port!);
        }
      });
      child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const client = new ProtoClient(`127.0.0.1:${port}`);
    let ready = false;
    for (let i = 0; i < 60 && !ready; i++) {
      ready = (await client.call<{ ready: boolean }>('ServerReady', {})).ready;
      if (!ready) await new Promise((r) => setTimeout(r, 500));
    }
    const metadata = await client.call<{ name: string; version: string }>('ServerMetadata', {});
    client.close();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (!ready || code !== 0) throw new Error(`image check failed: ready=${ready}, exit code ${code}`);
    console.log(`[${target}] OK: ${metadata.name} ${metadata.version} served the image's models and exited 0 on SIGTERM`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
