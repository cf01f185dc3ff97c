/**
 * One load-generating thread over HTTP/REST, the twin of load-worker.ts (same messages,
 * same closed and open loops): pre-encoded infer bodies with Triton's binary tensor data
 * extension (a JSON header with binary_data_size per input and binary_data_output=true, the
 * tensors after it, Inference-Header-Content-Length naming the JSON's length), sent with
 * node:http over a keep-alive agent, one connection per outstanding request, as
 * tritonclient.http and perf_analyzer -i http do.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { LoadWindow } from './load-window.js';
import { runOpenLoop } from './open-loop.js';

export interface HttpLoadWorkerJob {
  /** host:port of the HTTP endpoint. */
  readonly target: string;
  /** The infer route, e.g. /v2/models/simple/infer. */
  readonly path: string;
  /** Request bodies (JSON header then binary tensors), used round-robin. */
  readonly requests: readonly Uint8Array[];
  /** Each body's JSON header length (Inference-Header-Content-Length). */
  readonly headerLengths: readonly number[];
  /** Closed loop: requests kept outstanding by this worker. */
  readonly concurrency: number;
  /** Open loop: requests per second sent by this worker (0 = closed loop). */
  readonly rate: number;
  /** Parse one response in this many, to check it and time Client Recv. */
  readonly decodeEvery: number;
}

const job = workerData as HttpLoadWorkerJob;
const port = parentPort!;
const [host = '127.0.0.1', portText = '80'] = job.target.split(':');
// Closed loop: one connection per outstanding request, kept open; open loop: as many as needed.
const agent = new Agent({ keepAlive: true, maxSockets: job.rate > 0 ? Infinity : Math.max(1, job.concurrency) });
const requests = job.requests.map((r, i) => ({
  body: Buffer.from(r.buffer, r.byteOffset, r.byteLength),
  headers: {
    'content-type': 'application/octet-stream',
    'content-length': String(r.byteLength),
    'inference-header-content-length': String(job.headerLengths[i]),
  },
}));

const window = new LoadWindow();
let sent = 0;

/** Checks a response as a client would read it: the JSON header, and binary outputs that fill the rest. */
function check(response: IncomingMessage, body: Buffer): void {
  const t0 = performance.now();
  const declared = response.headers['inference-header-content-length'];
  const headerLength = declared === undefined ? body.length : Number(declared);
  const header = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as { outputs?: { parameters?: { binary_data_size?: number } }[] };
  window.decoded((performance.now() - t0) * 1000);
  const binary = (header.outputs ?? []).reduce((s, o) => s + (o.parameters?.binary_data_size ?? -Infinity), 0);
  if (binary !== body.length - headerLength) window.failed(`response outputs are not all binary data filling the body (${binary} of ${body.length - headerLength} bytes)`);
}

function send(scheduledAt: number): void {
  const { body, headers } = requests[sent++ % requests.length]!;
  window.sent();
  const call = httpRequest({ agent, host, port: Number(portText), path: job.path, method: 'POST', headers }, (response) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => {
      const latencyUs = (performance.now() - scheduledAt) * 1000;
      const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (response.statusCode !== 200) window.failed(`HTTP ${response.statusCode} ${whole.toString('utf8', 0, 300)}`);
      else if (window.succeeded(latencyUs, job.decodeEvery)) check(response, whole);
      window.settled();
      if (window.running && job.rate === 0) send(performance.now());
    });
  });
  call.on('error', (err) => {
    window.failed(err.message);
    window.settled();
    if (window.running && job.rate === 0) send(performance.now());
  });
  call.end(body);
}

window.serve(
  port,
  () => {
    if (job.rate > 0) runOpenLoop(job.rate, () => window.running, send);
    else for (let i = 0; i < job.concurrency; i++) send(performance.now());
  },
  () => agent.destroy(),
);
