/**
 * What the hostile-body scripts (hostile-requests.ts over gRPC, hostile-http.ts over HTTP/REST)
 * share: their command line, and sending one case to a server while sampling its resident memory.
 */
import { sampleProcess } from './process-probe.js';

export const MiB = 1024 * 1024;

/** `--mib N`, `--case NAME` (repeatable; all of `cases` when none) and `--server-arg ARG` (repeatable). */
export function parseHostileArgs(argv: readonly string[], defaultMib: number, cases: readonly string[]): { mib: number; cases: string[]; serverArgs: string[] } {
  let mib = defaultMib;
  const chosen: string[] = [];
  const serverArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (flag === '--mib') mib = Number(value());
    else if (flag === '--case') chosen.push(value());
    else if (flag === '--server-arg') serverArgs.push(value());
    else throw new Error(`unknown option ${flag}; see the header of this file`);
  }
  return { mib, cases: chosen.length > 0 ? chosen : [...cases], serverArgs };
}

/**
 * Runs `send` against the server `pid`, sampling its RSS every 10 ms from before the send until
 * 500 ms after the answer (the server may still be digesting what it answered early).
 */
export async function peakRssDuring<T>(pid: number, send: () => Promise<T>): Promise<{ answer: T; ms: number; beforeBytes: number; peakBytes: number }> {
  const beforeBytes = sampleProcess(pid)!.rssBytes;
  let peakBytes = beforeBytes;
  const sampler = setInterval(() => (peakBytes = Math.max(peakBytes, sampleProcess(pid)?.rssBytes ?? 0)), 10);
  const started = performance.now();
  try {
    const answer = await send();
    const ms = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 500));
    return { answer, ms, beforeBytes, peakBytes };
  } finally {
    clearInterval(sampler);
  }
}
