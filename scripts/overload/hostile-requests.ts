/**
 * npx tsx scripts/overload/hostile-requests.ts [--mib 300] [--case NAME]... [--server-arg ARG]...
 *
 * Sends one hostile ModelInfer at a time to a fresh Nereid (loopback, port 0, the example
 * repository) and reports, per case, what the client got back (code, details, ms) and the
 * server's RSS before and at its peak while it handled the message (sampled from /proc every
 * 10 ms). The cases are messages that cost the server far more memory than a normal request
 * of their size, or far more than the model could ever use:
 *
 *   oversized      a `simple` request whose first raw input is --mib MiB (the model takes 64 bytes)
 *   shape-dims     one input whose shape has --mib Mi dims (1 byte each on the wire)
 *   empty-inputs   --mib/2 Mi inputs of 2 bytes each (an empty InferInputTensor)
 *   int-contents   one input with --mib Mi one-byte int_contents
 *   bytes-elements a BYTES input of --mib/4 Mi empty strings (4 bytes each) for simple_identity
 *   garbage        --mib MiB of 0xff (not a protobuf message)
 *
 * After each case the server must still be live and compute `simple` correctly.
 */
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { fileURLToPath } from 'node:url';
import { startNereid } from '../bench/targets.js';
import { ProtoClient } from '../lib/grpc-client.js';
import { RawInferenceClient } from '../lib/raw-service.js';
import { MiB, parseHostileArgs, peakRssDuring } from './hostile-case.js';

/** Protobuf wire helpers: just enough to write the hostile messages without a codec. */
function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
const tag = (field: number, wire: number) => varint(field * 8 + wire);
function lengthDelimited(field: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([...tag(field, 2), ...varint(body.length)]), body]);
}
const text = (field: number, value: string) => lengthDelimited(field, Buffer.from(value));

/** A `simple` input header (name, datatype INT32, shape [1,16]). */
function simpleInput(name: string, extra: Buffer[] = []): Buffer {
  return lengthDelimited(5, Buffer.concat([text(1, name), text(2, 'INT32'), lengthDelimited(3, Buffer.from([1, 16])), ...extra]));
}

function buildCase(name: string, mib: number): Buffer {
  const size = Math.round(mib * MiB);
  const model = text(1, 'simple');
  switch (name) {
    case 'oversized':
      return Buffer.concat([model, simpleInput('INPUT0'), simpleInput('INPUT1'), lengthDelimited(7, Buffer.alloc(size, 1)), lengthDelimited(7, Buffer.alloc(64, 1))]);
    case 'shape-dims':
      return Buffer.concat([model, lengthDelimited(5, Buffer.concat([text(1, 'INPUT0'), text(2, 'INT32'), lengthDelimited(3, Buffer.alloc(size, 1))]))]);
    case 'empty-inputs': {
      const one = Buffer.from([...tag(5, 2), 0]);
      return Buffer.concat([model, Buffer.alloc(Math.floor(size / 2) * 2).fill(one)]);
    }
    case 'int-contents':
      return Buffer.concat([model, simpleInput('INPUT0', [lengthDelimited(5, lengthDelimited(2, Buffer.alloc(size, 1)))])]);
    case 'bytes-elements': {
      const count = Math.floor(size / 4);
      const shape = Buffer.from([...varint(1), ...varint(count)]);
      const input = lengthDelimited(5, Buffer.concat([text(1, 'INPUT0'), text(2, 'BYTES'), lengthDelimited(3, shape)]));
      return Buffer.concat([text(1, 'simple_identity'), input, lengthDelimited(7, Buffer.alloc(count * 4))]);
    }
    case 'garbage':
      return Buffer.alloc(size, 0xff);
    default:
      throw new Error(`unknown case ${name}`);
  }
}

const CASES = ['oversized', 'shape-dims', 'empty-inputs', 'int-contents', 'bytes-elements', 'garbage'];

async function main(): Promise<void> {
  const { mib, cases, serverArgs } = parseHostileArgs(process.argv.slice(2), 300, CASES);
  const repository = fileURLToPath(new URL('../../models/', import.meta.url));
  for (const name of cases) {
    // A fresh server per case, so one case's garbage does not count against the next.
    const server = await startNereid('nereid', repository, 'source', serverArgs);
    const probe = new ProtoClient(server.address);
    const raw = new RawInferenceClient(server.address, credentials.createInsecure(), { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 });
    try {
      const message = buildCase(name, mib);
      const { answer, ms, beforeBytes: before, peakBytes: peak } = await peakRssDuring(server.pid!, () =>
        new Promise<{ code: string; details: string }>((resolve) => {
          (raw as unknown as Record<string, (m: Buffer, o: object, cb: (e: ServiceError | null) => void) => void>)['ModelInfer']!(
            message,
            { deadline: Date.now() + 60_000 },
            (err) => resolve(err === null ? { code: 'OK', details: '' } : { code: status[err.code] ?? String(err.code), details: err.details }),
          );
        }),
      );
      const live = await probe.call<{ live: boolean }>('ServerLive', {}, { deadlineMs: 10_000 }).then((r) => r.live, () => false);
      const sum = await probe
        .call<{ raw_output_contents: Buffer[] }>(
          'ModelInfer',
          {
            model_name: 'simple',
            inputs: ['INPUT0', 'INPUT1'].map((n) => ({ name: n, datatype: 'INT32', shape: [1, 16] })),
            raw_input_contents: [Buffer.from(Int32Array.from({ length: 16 }, (_, i) => i).buffer), Buffer.from(new Int32Array(16).fill(2).buffer)],
          },
          { deadlineMs: 10_000 },
        )
        .then((r) => new Int32Array(r.raw_output_contents[0]!.buffer.slice(r.raw_output_contents[0]!.byteOffset, r.raw_output_contents[0]!.byteOffset + 64))[15] === 17, () => false);
      console.log(
        `${name.padEnd(15)} ${(message.length / MiB).toFixed(0).padStart(4)} MiB sent: ${answer.code} in ${ms.toFixed(0)} ms; ` +
          `server RSS ${Math.round(before / MiB)} -> peak ${Math.round(peak / MiB)} MiB (+${Math.round((peak - before) / MiB)}); live ${live}, simple correct ${sum}\n  ${answer.details.slice(0, 300)}`,
      );
    } finally {
      raw.close();
      probe.close();
      await server.stop();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
