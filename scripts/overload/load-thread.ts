/**
 * One open-loop load thread for the overload replay: sends pre-encoded ModelInfer requests
 * on a fixed schedule (never waiting for answers, so a slow server cannot slow the offer
 * down), for a fixed time, then waits for the calls still open up to a limit and cancels
 * the rest. Latency is counted from each call's scheduled send time, so queueing inside
 * the client is not hidden. Reports once, when it is done.
 */
import { credentials, status, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { parentPort, workerData } from 'node:worker_threads';
import { LatencyRecorder } from '../bench/stats.js';
import { RawInferenceClient } from '../lib/raw-service.js';

export interface LoadThreadJob {
  readonly target: string;
  /** Encoded ModelInferRequest messages, used round-robin. */
  readonly requests: readonly Uint8Array[];
  /** Requests per second this thread offers. */
  readonly rate: number;
  readonly durationMs: number;
  /** gRPC connections this thread spreads its calls over, round-robin. */
  readonly connections: number;
  /** Per-call gRPC deadline; 0 sends none. */
  readonly deadlineMs: number;
  /** After the load stops, how long to wait for open calls before cancelling them. */
  readonly drainLimitMs: number;
}

/** What a thread saw, by gRPC status code name ('OK', 'UNAVAILABLE', ...). */
export interface LoadThreadReport {
  readonly sent: number;
  readonly byCode: Record<string, number>;
  /** One `details` text per non-OK code, the first seen. */
  readonly firstDetails: Record<string, string>;
  /** Latencies (µs) of OK answers. */
  readonly okLatencies: Float64Array;
  /** Answers of each code per whole second since the load started. */
  readonly perSecond: Record<string, number[]>;
  /** Calls still open at the drain limit, cancelled by this thread (not counted in byCode). */
  readonly unanswered: number;
  /** When the load started and stopped, and the last answer came (ms since the epoch). */
  readonly startedAt: number;
  readonly stoppedAt: number;
  readonly lastAnswerAt: number;
}

const job = workerData as LoadThreadJob;
// A local subchannel pool per client gives each its own connection.
const clients = Array.from(
  { length: Math.max(1, job.connections) },
  () =>
    new RawInferenceClient(job.target, credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      'grpc.use_local_subchannel_pool': 1,
      // grpc-js keeps HTTP/2's 64 KiB receive window unless told otherwise; a busy client thread
      // then holds back the server's responses for want of WINDOW_UPDATEs (as in scripts/bench).
      'grpc-node.flow_control_window': 16 * 1024 * 1024,
    }),
);
type Send = (request: Buffer, options: { deadline?: number }, callback: (err: ServiceError | null) => void) => ClientUnaryCall;
const invokers = clients.map((client) => (client as unknown as Record<string, Send>)['ModelInfer']!.bind(client));
const requests = job.requests.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength));
const codeName = (code: number) => status[code] ?? `CODE_${code}`;
const epochMs = () => performance.timeOrigin + performance.now();

const byCode: Record<string, number> = {};
const firstDetails: Record<string, string> = {};
const latencies = new LatencyRecorder(1 << 16);
const perSecond: Record<string, number[]> = {};
const open = new Set<ClientUnaryCall>();
let sent = 0;
let lastAnswerAt = 0;
const startedAt = epochMs();
const start = performance.now();

function count(code: string, at: number): void {
  byCode[code] = (byCode[code] ?? 0) + 1;
  const series = (perSecond[code] ??= []);
  const second = Math.floor((at - start) / 1000);
  while (series.length <= second) series.push(0);
  series[second]! += 1;
}

function send(scheduledAt: number): void {
  const request = requests[sent++ % requests.length]!;
  const options = job.deadlineMs > 0 ? { deadline: Date.now() + job.deadlineMs } : {};
  const call: ClientUnaryCall = invokers[sent % invokers.length]!(request, options, (err) => {
    if (!open.delete(call)) return; // cancelled by us at the drain limit
    const now = performance.now();
    lastAnswerAt = epochMs();
    const code = err === null ? 'OK' : codeName(err.code);
    count(code, now);
    if (err === null) latencies.add((now - scheduledAt) * 1000);
    else firstDetails[code] ??= err.details;
    if (open.size === 0 && stopped) finish();
  });
  open.add(call);
}

let stopped = false;
let stoppedAt = 0;
let drainTimer: NodeJS.Timeout | undefined;

function finish(): void {
  if (drainTimer !== undefined) clearTimeout(drainTimer);
  const unanswered = open.size;
  for (const call of [...open]) {
    open.delete(call);
    call.cancel();
  }
  for (const client of clients) client.close();
  const okLatencies = latencies.snapshot();
  const report: LoadThreadReport = { sent, byCode, firstDetails, okLatencies, perSecond, unanswered, startedAt, stoppedAt, lastAnswerAt };
  parentPort!.postMessage(report, [okLatencies.buffer as ArrayBuffer]);
}

const interval = 1000 / job.rate;
let next = start;
const end = start + job.durationMs;
const tick = () => {
  const now = performance.now();
  while (next <= now && next < end) {
    send(next);
    next += interval;
  }
  if (next < end) {
    setTimeout(tick, Math.max(0, Math.min(interval, next - performance.now())));
    return;
  }
  stopped = true;
  stoppedAt = epochMs();
  if (open.size === 0) finish();
  else drainTimer = setTimeout(finish, job.drainLimitMs);
};
tick();
