/**
 * The HTTP transport baseline, the HTTP twin of echo-server.ts: a bare node:http server
 * (the stack Nereid's HTTP endpoint uses, with the same keep-alive timeout) answering
 * POST /v2/models/{m}/infer. It reads the body, parses the JSON header before the binary
 * tensors (Triton's binary tensor data extension: Inference-Header-Content-Length) and answers
 * with the model's real outputs' names, shapes and sizes when given them (argv[2], JSON
 * ResponseOutput[]) as binary data after a JSON header, as Nereid does with
 * binary_data_output=true; without them it echoes each binary input back as an output. No
 * validation, no scheduling, no ONNX: what is left is HTTP/1.1 and JSON.
 * Runs as its own process: prints {"msg":"listening","port":N} on stdout; stops on SIGTERM.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { KEEP_ALIVE_MS } from '../../src/transport/http/http-endpoint.js';
import type { ResponseOutput } from './bench-types.js';

const INFER = /^\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?\/infer$/;

const spec = process.argv[2] === undefined ? undefined : (JSON.parse(process.argv[2]) as ResponseOutput[]);
// Filled once; the JSON header is written per request, as the server writes its own.
const contents = spec?.map((o) => Buffer.alloc(o.bytes, 0x5a));

interface HeaderInput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly parameters?: { readonly binary_data_size?: number };
}

function reply(response: ServerResponse, status: number, parts: readonly Buffer[], headers: Record<string, string | number>): void {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  response.writeHead(status, { ...headers, 'content-length': length });
  if (parts.length > 1) response.cork();
  for (const part of parts) response.write(part);
  response.end();
}

function infer(model: string, request: IncomingMessage, body: Buffer, response: ServerResponse): void {
  const declared = request.headers['inference-header-content-length'];
  const headerLength = declared === undefined ? body.length : Number(declared);
  const header = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as { id?: string; inputs: HeaderInput[] };
  const outputs: string[] = [];
  const binary: Buffer[] = [];
  const describe = (name: string, datatype: string, shape: readonly number[], bytes: number) =>
    `{"name":${JSON.stringify(name)},"datatype":"${datatype}","shape":[${shape.join(',')}],"parameters":{"binary_data_size":${bytes}}}`;
  if (spec !== undefined && contents !== undefined) {
    spec.forEach((o, i) => {
      outputs.push(describe(o.name, o.datatype, o.shape, o.bytes));
      binary.push(contents[i]!);
    });
  } else {
    let offset = headerLength;
    for (const input of header.inputs) {
      const size = input.parameters?.binary_data_size ?? 0;
      outputs.push(describe(input.name, input.datatype, input.shape, size));
      binary.push(body.subarray(offset, offset + size));
      offset += size;
    }
  }
  const id = header.id === undefined || header.id === '' ? '' : `"id":${JSON.stringify(header.id)},`;
  const text = Buffer.from(`{${id}"model_name":${JSON.stringify(model)},"model_version":"1","outputs":[${outputs.join(',')}]}`);
  reply(response, 200, [text, ...binary], { 'content-type': 'application/octet-stream', 'inference-header-content-length': text.length });
}

const server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, (request, response) => {
  const path = (request.url ?? '/').split('?', 1)[0]!;
  const match = request.method === 'POST' ? INFER.exec(path) : null;
  if (path === '/v2/health/ready' || path === '/v2/health/live') return reply(response, 200, [], {});
  if (match === null) return reply(response, 404, [Buffer.from('{"error":"echo server"}')], { 'content-type': 'application/json' });
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    try {
      infer(decodeURIComponent(match[1]!), request, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), response);
    } catch (err) {
      reply(response, 400, [Buffer.from(JSON.stringify({ error: (err as Error).message }))], { 'content-type': 'application/json' });
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  const bound = server.address();
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: typeof bound === 'object' && bound !== null ? bound.port : 0 })}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
