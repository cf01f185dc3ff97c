/** The real command line (src/main.ts under tsx) as a child process, with its JSON log lines. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Runs `nereid <args>`, keeping its JSON log lines from stdout; `env` adds variables. */
export function nereid(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const entries: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    entries.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = once(child, 'exit') as Promise<[number]>;
  /** Resolves with the first log entry whose msg is `msg`. */
  const waitForLog = async (msg: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const found = entries.find((e) => e['msg'] === msg);
      if (found !== undefined) return found;
      if (child.exitCode !== null) throw new Error(`exited before logging '${msg}': ${err}`);
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), exited]);
    }
  };
  return { child, exited, waitForLog, entries, stderr: () => err };
}
