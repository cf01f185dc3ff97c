/**
 * A one-line way to call a model: `npm run infer -- simple [--url host:port] [--version N]`.
 * Reads the model's metadata, sends a small request (input 0 counts up from 0, the others
 * are all 1; BYTES inputs carry those numbers as decimal strings), and prints the outputs.
 * Uses a client built from proto/ at run time, like any KServe v2 / Triton client.
 */
import { ProtoClient } from './lib/grpc-client.js';

interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

const TYPED: Record<string, { bytes: number; read: (b: Buffer, i: number) => number | bigint; write: (b: Buffer, v: number, i: number) => void }> = {
  BOOL: { bytes: 1, read: (b, i) => b.readUInt8(i), write: (b, v, i) => b.writeUInt8(v ? 1 : 0, i) },
  UINT8: { bytes: 1, read: (b, i) => b.readUInt8(i), write: (b, v, i) => b.writeUInt8(v, i) },
  INT8: { bytes: 1, read: (b, i) => b.readInt8(i), write: (b, v, i) => b.writeInt8(v, i) },
  UINT16: { bytes: 2, read: (b, i) => b.readUInt16LE(i), write: (b, v, i) => b.writeUInt16LE(v, i) },
  INT16: { bytes: 2, read: (b, i) => b.readInt16LE(i), write: (b, v, i) => b.writeInt16LE(v, i) },
  UINT32: { bytes: 4, read: (b, i) => b.readUInt32LE(i), write: (b, v, i) => b.writeUInt32LE(v, i) },
  INT32: { bytes: 4, read: (b, i) => b.readInt32LE(i), write: (b, v, i) => b.writeInt32LE(v, i) },
  UINT64: { bytes: 8, read: (b, i) => b.readBigUInt64LE(i), write: (b, v, i) => b.writeBigUInt64LE(BigInt(v), i) },
  INT64: { bytes: 8, read: (b, i) => b.readBigInt64LE(i), write: (b, v, i) => b.writeBigInt64LE(BigInt(v), i) },
  FP32: { bytes: 4, read: (b, i) => b.readFloatLE(i), write: (b, v, i) => b.writeFloatLE(v, i) },
  FP64: { bytes: 8, read: (b, i) => b.readDoubleLE(i), write: (b, v, i) => b.writeDoubleLE(v, i) },
};

function parseArgs(argv: string[]): { model: string; url: string; version: string } {
  let model: string | undefined;
  let url = process.env['NEREID_URL'] ?? '127.0.0.1:8001';
  let version = '';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--url') url = argv[++i] ?? url;
    else if (arg === '--version') version = argv[++i] ?? '';
    else if (!arg.startsWith('--')) model = arg;
    else throw new Error(`unknown option ${arg}`);
  }
  if (model === undefined) throw new Error('usage: npm run infer -- <model> [--url host:port] [--version N]');
  return { model, url, version };
}

/** Concrete shape: batch (a leading -1) = 1, any other variable dim = 4. */
function concrete(shape: number[]): number[] {
  return shape.map((d, i) => (d >= 0 ? d : i === 0 ? 1 : 4));
}

function encode(input: TensorMetadata, index: number): Buffer {
  const count = concrete(input.shape).reduce((a, b) => a * b, 1);
  const value = (i: number) => (index === 0 ? i : 1);
  if (input.datatype === 'BYTES') {
    return Buffer.concat(
      Array.from({ length: count }, (_, i) => {
        const text = Buffer.from(String(value(i)));
        const length = Buffer.alloc(4);
        length.writeUInt32LE(text.length);
        return Buffer.concat([length, text]);
      }),
    );
  }
  const codec = TYPED[input.datatype];
  if (codec === undefined) throw new Error(`input '${input.name}' has datatype ${input.datatype}, which this client cannot fill`);
  const buffer = Buffer.alloc(count * codec.bytes);
  for (let i = 0; i < count; i++) codec.write(buffer, value(i), i * codec.bytes);
  return buffer;
}

function decode(datatype: string, raw: Buffer): string[] {
  if (datatype === 'BYTES') {
    const out: string[] = [];
    for (let offset = 0; offset < raw.length; ) {
      const length = raw.readUInt32LE(offset);
      out.push(JSON.stringify(raw.subarray(offset + 4, offset + 4 + length).toString('utf8')));
      offset += 4 + length;
    }
    return out;
  }
  const codec = TYPED[datatype];
  if (codec === undefined) return [`<${raw.length} bytes of ${datatype}>`];
  return Array.from({ length: raw.length / codec.bytes }, (_, i) => String(codec.read(raw, i * codec.bytes)));
}

async function main(): Promise<void> {
  const { model, url, version } = parseArgs(process.argv.slice(2));
  const client = new ProtoClient(url);
  try {
    const metadata = await client.call<{ inputs: TensorMetadata[]; outputs: TensorMetadata[]; versions: string[] }>('ModelMetadata', { name: model, version });
    const inputs = metadata.inputs.map((input) => ({ name: input.name, datatype: input.datatype, shape: concrete(input.shape) }));
    const raw = metadata.inputs.map(encode);
    const response = await client.call<{ model_version: string; outputs: TensorMetadata[]; raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: model,
      model_version: version,
      id: 'npm-run-infer',
      inputs,
      raw_input_contents: raw,
    });
    console.log(`${model} version ${response.model_version} at ${url}`);
    inputs.forEach((input, i) => console.log(`  input  ${input.name} ${input.datatype} [${input.shape}]: ${decode(input.datatype, raw[i]!).join(' ')}`));
    response.outputs.forEach((output, i) =>
      console.log(`  output ${output.name} ${output.datatype} [${output.shape}]: ${decode(output.datatype, response.raw_output_contents[i]!).slice(0, 64).join(' ')}`),
    );
  } finally {
    client.close();
  }
}

main().catch((err: Error & { details?: string }) => {
  console.error(`infer failed: ${err.details ?? err.message}`);
  process.exit(1);
});
