/**
 * One load-generating thread. It owns a gRPC channel and sends pre-encoded ModelInfer
 * requests (so the client spends almost nothing per request), closed loop (a fixed number
 * of requests outstanding) or open loop (a fixed schedule, latency counted from the
 * scheduled send time so queueing is not hidden). The coordinator collects its latencies
 * once per window.
 */
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { parentPort, workerData } from 'node:worker_threads';
import { ModelInferResponse, ModelStreamInferResponse } from '../../src/generated/grpc_service.js';
import { RawInferenceClient } from '../lib/raw-service.js';
import { LoadWindow } from './load-window.js';
import { runOpenLoop } from './open-loop.js';

export interface LoadWorkerJob {
  readonly target: string;
  /** Encoded ModelInferRequest messages, used round-robin. */
  readonly requests: readonly Uint8Array[];
  /** Closed loop: requests kept outstanding by this worker. */
  readonly concurrency: number;
  /** Open loop: requests per second sent by this worker (0 = closed loop). */
  readonly rate: number;
  /** Decode one response in this many, to check it and time Client Recv. */
  readonly decodeEvery: number;
  /**
   * perf_analyzer's --streaming: each outstanding request slot has a ModelStreamInfer call
   * of its own and sends its next request on it when the response comes (closed loop only).
   */
  readonly streaming?: boolean;
  /**
   * With streaming: each slot sends sequences of this many requests (sequence_start on the
   * first, sequence_end on the last; string IDs, unique per worker and slot), as
   * perf_analyzer's --sequence-length does.
   */
  readonly sequenceLength?: number;
  /** Distinguishes this worker's sequence IDs from other workers'. */
  readonly workerIndex?: number;
}

export type ToLoadWorker = { type: 'start' } | { type: 'collect' } | { type: 'stop' };
export type FromLoadWorker =
  | { type: 'window'; latencies: Float64Array; completed: number; errors: number; firstError: string; recvUs: number; recvSamples: number }
  | { type: 'stopped' };

const job = workerData as LoadWorkerJob;
const FLOW_CONTROL_WINDOW = 16 * 1024 * 1024;
const port = parentPort!;
const client = new RawInferenceClient(job.target, credentials.createInsecure(), {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  // grpc-js keeps HTTP/2's 64 KiB receive window unless told otherwise, so a large response
  // stalls on WINDOW_UPDATE round trips; C-core clients (tritonclient, perf_analyzer) grow
  // their window by BDP probing. A large fixed window stands in for that.
  'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW,
});
const requests = job.requests.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength));
const call = (client as unknown as Record<string, (req: Buffer, cb: (err: ServiceError | null, res: Buffer) => void) => void>)['ModelInfer']!.bind(client);

const window = new LoadWindow();
let sent = 0;

function send(scheduledAt: number): void {
  const request = requests[sent++ % requests.length]!;
  window.sent();
  call(request, (err, response) => {
    const latencyUs = (performance.now() - scheduledAt) * 1000;
    if (err !== null) window.failed(`${err.code} ${err.details}`);
    else if (window.succeeded(latencyUs, job.decodeEvery)) {
      const t0 = performance.now();
      const decoded = ModelInferResponse.decode(response);
      window.decoded((performance.now() - t0) * 1000);
      if (decoded.rawOutputContents.length !== decoded.outputs.length) window.failed('response has outputs without raw_output_contents');
    }
    window.settled();
    if (window.running && job.rate === 0) send(performance.now());
  });
}

/** A protobuf field: tag, length, bytes. */
function field(number: number, bytes: Uint8Array): Buffer {
  const lengthBytes: number[] = [];
  for (let n = bytes.length; ; n >>>= 7) {
    if (n < 0x80) {
      lengthBytes.push(n);
      break;
    }
    lengthBytes.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([(number << 3) | 2, ...lengthBytes]), bytes]);
}

/** A bool_param / string_param InferParameter entry of ModelInferRequest.parameters (field 4). */
function parameter(key: string, value: { bool?: boolean; string?: string }): Buffer {
  // string_param is field 3, bool_param field 1 (a varint).
  const choice = value.string !== undefined ? field(3, Buffer.from(value.string)) : Buffer.from([(1 << 3) | 0, value.bool ? 1 : 0]);
  return field(4, Buffer.concat([field(1, Buffer.from(key)), field(2, choice)]));
}

/**
 * One stream slot: a ModelStreamInfer call with one request outstanding. Each request
 * gets its own id (field 3, appended: protobuf keeps the last value of a field), so a
 * response is matched to its send time; with a sequence length, the sequence parameters too.
 */
function streamSlot(slot: number): void {
  const call = (client as unknown as { ModelStreamInfer: () => import('@grpc/grpc-js').ClientDuplexStream<Buffer, Buffer> }).ModelStreamInfer();
  let sentAt = 0;
  let position = 0;
  let sequence = 0;
  const next = () => {
    if (!window.running) {
      call.end();
      return;
    }
    const base = requests[sent++ % requests.length]!;
    const parts = [base, field(3, Buffer.from(`${slot}`))];
    const length = job.sequenceLength ?? 0;
    if (length > 0) {
      if (position === 0) sequence += 1;
      const id = `${(job.workerIndex ?? 0) * 1_000_000 + slot * 10_000 + sequence}`;
      parts.push(parameter('sequence_id', { string: id }), parameter('sequence_start', { bool: position === 0 }), parameter('sequence_end', { bool: position === length - 1 }));
      position = (position + 1) % length;
    }
    window.sent();
    sentAt = performance.now();
    call.write(Buffer.concat(parts));
  };
  call.on('data', (response: Buffer) => {
    const latencyUs = (performance.now() - sentAt) * 1000;
    if (window.succeeded(latencyUs, job.decodeEvery)) {
      const t0 = performance.now();
      const decoded = ModelStreamInferResponse.decode(response);
      window.decoded((performance.now() - t0) * 1000);
      if (decoded.errorMessage !== '') window.failed(decoded.errorMessage);
    }
    next();
    window.settled();
  });
  call.on('error', (err: Error) => {
    window.failed(err.message);
    window.settled();
  });
  next();
}

window.serve(
  port,
  () => {
    if (job.rate > 0) runOpenLoop(job.rate, () => window.running, send);
    else if (job.streaming === true) for (let i = 0; i < job.concurrency; i++) streamSlot(i);
    else for (let i = 0; i < job.concurrency; i++) send(performance.now());
  },
  () => client.close(),
);
