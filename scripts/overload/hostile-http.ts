/**
 * npx tsx scripts/overload/hostile-http.ts [--mib 60] [--case NAME]... [--server-arg ARG]...
 *
 * Sends one hostile JSON inference request at a time over HTTP/REST to a fresh Nereid
 * (loopback, port 0, the example repository) and reports, per case, the HTTP status and
 * error the client got back, the time to the answer, and the server's RSS before and at
 * its peak while it handled the body (sampled from /proc every 10 ms: what the server's
 * process.memoryUsage().rss reports). Each body is --mib MiB of JSON, under the 64 MiB body
 * limit, that JSON.parse turns into far more memory than its size:
 *
 *   empty-arrays  one `simple` input whose `data` is [[],[],...]
 *   objects       one `simple` input whose `data` is [{},{},...]
 *   zeros         one `simple` input whose `data` is [0,0,...]
 *   split         the zeros spread over 60 inputs (under any per-input bound)
 *   unknown-key   [[],[],...] under a key the decoder ignores, beside a valid request
 *
 * After each case the server must still be live and compute `simple` correctly over HTTP.
 */
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startNereid } from '../bench/targets.js';
import { MiB, parseHostileArgs, peakRssDuring } from './hostile-case.js';

const simpleInputs = '{"name":"INPUT0","datatype":"INT32","shape":[1,16],"data":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},{"name":"INPUT1","datatype":"INT32","shape":[1,16],"data":[2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2]}';

/** `{head}` + `item,` repeated to about `size` bytes (the last comma dropped) + `{tail}`. */
function repeated(head: string, item: string, tail: string, size: number): Buffer {
  const count = Math.floor((size - head.length - tail.length) / (item.length + 1));
  const body = Buffer.alloc(head.length + count * (item.length + 1) - 1 + tail.length);
  body.write(head, 0);
  body.fill(`${item},`, head.length, head.length + count * (item.length + 1) - 1);
  body.write(tail, body.length - tail.length);
  return body;
}

function buildCase(name: string, mib: number): Buffer {
  const size = Math.round(mib * MiB);
  const one = (item: string) => repeated('{"inputs":[{"name":"INPUT0","datatype":"INT32","shape":[1,16],"data":[', item, ']}]}', size);
  switch (name) {
    case 'empty-arrays':
      return one('[]');
    case 'objects':
      return one('{}');
    case 'zeros':
      return one('0');
    case 'split': {
      const inputs = 60;
      const each = Math.floor(size / inputs / 2);
      const input = (i: number) => `{"name":"IN${i}","datatype":"INT32","shape":[${each}],"data":[${'0,'.repeat(each - 1)}0]}`;
      return Buffer.from(`{"inputs":[${Array.from({ length: inputs }, (_, i) => input(i)).join(',')}]}`);
    }
    case 'unknown-key':
      return repeated('{"padding":[', '[]', `],"inputs":[${simpleInputs}]}`, size);
    default:
      throw new Error(`unknown case ${name}`);
  }
}

const CASES = ['empty-arrays', 'objects', 'zeros', 'split', 'unknown-key'];

function post(address: string, path: string, body: Buffer): Promise<{ status: number; text: string }> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port: Number(port), path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const { mib, cases, serverArgs } = parseHostileArgs(process.argv.slice(2), 60, CASES);
  const repository = fileURLToPath(new URL('../../models/', import.meta.url));
  for (const name of cases) {
    // A fresh server per case, so one case's garbage does not count against the next.
    const server = await startNereid('nereid', repository, 'source', serverArgs);
    try {
      const address = server.httpAddress!;
      const body = buildCase(name, mib);
      const { answer, ms, beforeBytes: before, peakBytes: peak } = await peakRssDuring(server.pid!, () =>
        post(address, '/v2/models/simple/infer', body).catch((err: Error) => ({ status: 0, text: err.message })),
      );
      const sum = await post(address, '/v2/models/simple/infer', Buffer.from(`{"inputs":[${simpleInputs}]}`)).then(
        (r) => r.status === 200 && (JSON.parse(r.text) as { outputs: { name: string; data: number[] }[] }).outputs.find((o) => o.name === 'OUTPUT0')!.data[15] === 17,
        () => false,
      );
      console.log(
        `${name.padEnd(13)} ${(body.length / MiB).toFixed(0).padStart(3)} MiB sent: ${answer.status} in ${ms.toFixed(0)} ms; ` +
          `server RSS ${Math.round(before / MiB)} -> peak ${Math.round(peak / MiB)} MiB (+${Math.round((peak - before) / MiB)}); simple correct after ${sum}\n  ${answer.text.slice(0, 300)}`,
      );
    } finally {
      await server.stop();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
