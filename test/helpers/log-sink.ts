import { Writable } from 'node:stream';

/** Collects the JSON log lines a test server's logger writes (createLogging's `destination`). */
export function logSink(): { stream: Writable; lines: Record<string, unknown>[]; bytes: () => number } {
  const lines: Record<string, unknown>[] = [];
  let bytes = 0;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.byteLength;
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines, bytes: () => bytes };
}
