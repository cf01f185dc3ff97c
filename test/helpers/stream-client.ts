/** A ModelStreamInfer call for tests, on the proto-loader client: write requests, collect responses, wait for the end. */
import type * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import type { ProtoClient } from '../../scripts/lib/grpc-client.js';

/** A ModelStreamInferResponse as the proto-loader client decodes it (keepCase, longs as numbers, oneofs). */
export interface StreamResponse {
  readonly error_message: string;
  readonly infer_response: {
    readonly id: string;
    readonly model_name: string;
    readonly model_version: string;
    readonly outputs: readonly { name: string; datatype: string; shape: number[] }[];
    readonly raw_output_contents: readonly Buffer[];
    readonly parameters: Record<string, { bool_param?: boolean }>;
  };
}

export interface TestStream {
  readonly call: grpc.ClientDuplexStream<Record<string, unknown>, StreamResponse>;
  /** Responses in arrival order, with when each arrived (performance.now()). */
  readonly responses: StreamResponse[];
  readonly arrivals: number[];
  write(request: Record<string, unknown>): void;
  /** Resolves once `count` responses have arrived. */
  waitFor(count: number): Promise<void>;
  /** Half-closes and resolves with the call's final status. */
  end(): Promise<grpc.StatusObject>;
  /** Resolves with the call's status when it ends (without half-closing). */
  readonly status: Promise<grpc.StatusObject>;
}

/** Opens a ModelStreamInfer call; `read: false` leaves responses unread until `call.resume()`. */
export function openStream(client: ProtoClient, options: { metadata?: grpc.Metadata; deadlineMs?: number; read?: boolean } = {}): TestStream {
  const method = (client.inference as unknown as Record<string, (metadata?: grpc.Metadata, options?: grpc.CallOptions) => TestStream['call']>)['ModelStreamInfer']!;
  const callOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  const call = method.call(client.inference, options.metadata, callOptions);
  const responses: StreamResponse[] = [];
  const arrivals: number[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const status = new Promise<grpc.StatusObject>((resolve) => {
    call.on('status', resolve);
    call.on('error', () => {});
  });
  const onData = (response: StreamResponse) => {
    responses.push(response);
    arrivals.push(performance.now());
    for (const waiter of [...waiters]) {
      if (responses.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  if (options.read === false) {
    call.pause();
    call.once('resume', () => call.on('data', onData));
  } else call.on('data', onData);
  return {
    call,
    responses,
    arrivals,
    status,
    write: (request) => call.write(request),
    waitFor: (count) => (responses.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    end: () => {
      call.end();
      return status;
    },
  };
}

/** An INT32 tensor's raw bytes. */
export function int32Bytes(values: readonly number[]): Buffer {
  return Buffer.from(Int32Array.from(values).buffer);
}

/** The INT32 values of a raw output. */
export function int32Values(raw: Buffer): number[] {
  return Array.from(new Int32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
}

/** The request tritonclient's async_stream_infer builds for a sequence model with one INT32 [1,1] INPUT. */
export function sequenceRequest(model: string, value: number, sequenceId: number | string, start: boolean, end: boolean, id = ''): Record<string, unknown> {
  return {
    model_name: model,
    id,
    inputs: [{ name: 'INPUT', datatype: 'INT32', shape: [1, 1] }],
    outputs: [{ name: 'OUTPUT' }],
    raw_input_contents: [int32Bytes([value])],
    parameters: {
      sequence_id: typeof sequenceId === 'string' ? { string_param: sequenceId } : { int64_param: sequenceId },
      sequence_start: { bool_param: start },
      sequence_end: { bool_param: end },
    },
  };
}

/**
 * A ModelStreamInfer call on a bare HTTP/2 connection that writes the given encoded
 * requests and never reads a byte of the responses: its stream stays paused, so once
 * HTTP/2's receive windows (64 KiB) are full the server can send nothing more. grpc-js
 * clients keep reading into their own buffers even when paused, so they cannot show
 * back-pressure. `read()` starts reading and counts the response messages.
 */
export function unreadStream(port: number, requests: readonly Uint8Array[]): { read(): Promise<number>; close(): void } {
  const session = http2.connect(`http://127.0.0.1:${port}`, { maxSessionMemory: 1024 });
  const stream = session.request({ ':method': 'POST', ':path': '/inference.GRPCInferenceService/ModelStreamInfer', 'content-type': 'application/grpc', te: 'trailers' });
  stream.pause();
  for (const request of requests) {
    const frame = Buffer.alloc(5 + request.byteLength);
    frame.writeUInt32BE(request.byteLength, 1);
    frame.set(request, 5);
    stream.write(frame);
  }
  stream.end();
  return {
    read: () =>
      new Promise((resolve, reject) => {
        let buffered = Buffer.alloc(0);
        let messages = 0;
        stream.on('data', (chunk: Buffer) => {
          buffered = Buffer.concat([buffered, chunk]);
          while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
            buffered = buffered.subarray(5 + buffered.readUInt32BE(1));
            messages += 1;
          }
        });
        stream.on('trailers', (trailers) => (String(trailers['grpc-status']) === '0' ? resolve(messages) : reject(new Error(`grpc-status ${String(trailers['grpc-status'])}`))));
        stream.on('error', reject);
        stream.resume();
      }),
    close: () => session.close(),
  };
}
