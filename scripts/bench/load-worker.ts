/**
 * One load-generating thread. It owns a gRPC channel and sends pre-encoded ModelInfer
 * requests (so the client spends almost nothing per request), closed loop (a fixed number
 * of requests outstanding) or open loop (a fixed schedule, latency counted from the
 * scheduled send time so queueing is not hidden). The coordinator collects its latencies
 * once per window.
 */
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { parentPort, workerData } from 'node:worker_threads';
import { ModelInferResponse } from '../../src/generated/grpc_service.js';
import { LatencyRecorder } from './stats.js';

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
}

export type ToLoadWorker = { type: 'start' } | { type: 'collect' } | { type: 'stop' };
export type FromLoadWorker =
  | { type: 'window'; latencies: Float64Array; completed: number; errors: number; firstError: string; recvUs: number; recvSamples: number }
  | { type: 'stopped' };

const job = workerData as LoadWorkerJob;
const FLOW_CONTROL_WINDOW = 16 * 1024 * 1024;
const port = parentPort!;
const identity = (b: Buffer) => b;
const Client = makeGenericClientConstructor(
  {
    ModelInfer: {
      path: '/inference.GRPCInferenceService/ModelInfer',
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
      originalName: 'ModelInfer',
    },
  },
  'GRPCInferenceService',
);
const client = new Client(job.target, credentials.createInsecure(), {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  // grpc-js keeps HTTP/2's 64 KiB receive window unless told otherwise, so a large response
  // stalls on WINDOW_UPDATE round trips; C-core clients (tritonclient, perf_analyzer) grow
  // their window by BDP probing. A large fixed window stands in for that.
  'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW,
});
const requests = job.requests.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength));
const call = (client as unknown as Record<string, (req: Buffer, cb: (err: ServiceError | null, res: Buffer) => void) => void>)['ModelInfer']!.bind(client);

const recorder = new LatencyRecorder();
let completed = 0;
let errors = 0;
let firstError = '';
let recvUs = 0;
let recvSamples = 0;
let sent = 0;
let outstanding = 0;
let running = false;
let onDrained: (() => void) | undefined;

function send(scheduledAt: number): void {
  const request = requests[sent++ % requests.length]!;
  outstanding++;
  call(request, (err, response) => {
    const latencyUs = (performance.now() - scheduledAt) * 1000;
    outstanding--;
    if (err !== null) {
      errors++;
      if (firstError === '') firstError = `${err.code} ${err.details}`;
    } else {
      completed++;
      recorder.add(latencyUs);
      if (completed % job.decodeEvery === 0) {
        const t0 = performance.now();
        const decoded = ModelInferResponse.decode(response);
        recvUs += (performance.now() - t0) * 1000;
        recvSamples++;
        if (decoded.rawOutputContents.length !== decoded.outputs.length) {
          errors++;
          firstError ||= 'response has outputs without raw_output_contents';
        }
      }
    }
    if (running && job.rate === 0) send(performance.now());
    if (outstanding === 0) onDrained?.();
  });
}

function openLoop(): void {
  const interval = 1000 / job.rate;
  let next = performance.now();
  const tick = () => {
    if (!running) return;
    const now = performance.now();
    while (next <= now) {
      send(next);
      next += interval;
    }
    setTimeout(tick, Math.max(0, Math.min(interval, next - performance.now())));
  };
  tick();
}

port.on('message', (message: ToLoadWorker) => {
  if (message.type === 'start') {
    running = true;
    if (job.rate > 0) openLoop();
    else for (let i = 0; i < job.concurrency; i++) send(performance.now());
  } else if (message.type === 'collect') {
    const latencies = recorder.values().slice();
    const reply: FromLoadWorker = { type: 'window', latencies, completed, errors, firstError, recvUs, recvSamples };
    port.postMessage(reply, [latencies.buffer]);
    recorder.clear();
    completed = errors = recvUs = recvSamples = 0;
  } else {
    running = false;
    const done = () => {
      client.close();
      port.postMessage({ type: 'stopped' } satisfies FromLoadWorker);
    };
    if (outstanding === 0) done();
    else onDrained = done;
  }
});
