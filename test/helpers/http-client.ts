/** A small KServe v2 REST client for tests: JSON and Triton's binary tensor data extension, over node's fetch. */

export interface HttpReply {
  readonly status: number;
  readonly headers: Headers;
  /** The JSON part of the body (the whole body when there is no Inference-Header-Content-Length). */
  readonly json: any;
  /** Bytes after the JSON header (binary outputs, in order). */
  readonly binary: Buffer;
}

/** A tensor sent as binary data after the JSON header. */
export interface BinaryInput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
  readonly parameters?: Record<string, unknown>;
}

/** Reads a response: JSON header and binary tail, decompressed by fetch when the server compressed it. */
export async function readReply(response: Response): Promise<HttpReply> {
  const body = Buffer.from(await response.arrayBuffer());
  const headerLength = response.headers.get('inference-header-content-length');
  const split = headerLength === null ? body.length : Number(headerLength);
  const text = body.subarray(0, split).toString('utf8');
  return { status: response.status, headers: response.headers, json: text === '' ? undefined : JSON.parse(text), binary: body.subarray(split) };
}

/** A request body with binary inputs: the JSON (with binary_data_size set) then the tensors, and its header length. */
export function binaryBody(request: Record<string, unknown>, inputs: readonly BinaryInput[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(
    JSON.stringify({
      ...request,
      inputs: inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape, parameters: { ...i.parameters, binary_data_size: i.data.byteLength } })),
    }),
  );
  return { body: Buffer.concat([json, ...inputs.map((i) => Buffer.from(i.data.buffer, i.data.byteOffset, i.data.byteLength))]), headerLength: json.length };
}

/** Client for one server's HTTP port. */
export class HttpClient {
  constructor(readonly base: string) {}

  async get(path: string): Promise<HttpReply> {
    return readReply(await fetch(`${this.base}${path}`));
  }

  async post(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpReply> {
    const payload = body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    return readReply(await fetch(`${this.base}${path}`, { method: 'POST', body: payload, headers }));
  }

  /** POST .../infer with binary inputs (Inference-Header-Content-Length set). */
  async inferBinary(model: string, request: Record<string, unknown>, inputs: readonly BinaryInput[], headers: Record<string, string> = {}): Promise<HttpReply> {
    const { body, headerLength } = binaryBody(request, inputs);
    return this.post(`/v2/models/${model}/infer`, body, { 'inference-header-content-length': String(headerLength), 'content-type': 'application/octet-stream', ...headers });
  }
}
