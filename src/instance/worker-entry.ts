/**
 * Entry point of a model instance's worker thread. It owns one backend (an ONNX Runtime
 * session) for its whole life and runs one execution at a time, so a blocking `session.run` never touches the
 * main thread's event loop.
 */
import { MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { createBackend } from '../backend/create-backend.js';
import { ProfilingSessions } from '../backend/profiling-sessions.js';
import type { ModelBackend, ResponseSender } from '../backend/model-backend.js';
import { nowMs } from '../core/execution.js';
import { InferError } from '../core/errors.js';
import { warmupFailure, type WarmupRun } from '../core/warmup.js';
import type { FromWorker, RunMessage, ToWorker, WorkerStartup } from './messages.js';
import { isRunWire, packResult, unpackRun } from './run-wire.js';
import { forwardConsole, workerLogger } from './worker-log.js';

/**
 * Output buffers the main thread gave back (ModelInstance.takeBack) are not reused: ONNX Runtime's
 * binding allocates each run's outputs. Dropped, they would wait for this isolate's next
 * collection, which in a worker that allocates little comes many runs later (ocr_rec over HTTP on
 * Node 26: peak RSS 518 MB against 382 MB when freed). Posted in the transfer list of a message to
 * a port whose other end is closed, they are detached at once and freed with the dropped message,
 * on every Node version (ArrayBuffer.prototype.transfer(0) would do it from Node 21 only).
 */
const discard = new MessageChannel();
discard.port2.close();

function freeReturned(buffers: readonly ArrayBuffer[]): void {
  discard.port1.postMessage(null, [...buffers]);
}

const port = parentPort;
if (port === null) throw new Error('worker-entry must run in a worker thread');
const startup = workerData as WorkerStartup;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

const logger = workerLogger(post);
forwardConsole(logger);
/** Sessions of a profile in progress; empty (and free) while no profile runs. */
const profiling = new ProfilingSessions(startup.backend, startup.settings);

async function handleRun(session: ModelBackend, message: RunMessage): Promise<void> {
  const inputBuffers = uniqueBuffers(message.inputs.map((t) => t.buffer));
  const start = nowMs();
  try {
    if (message.decoupled) {
      await handleDecoupledRun(session, message, inputBuffers, start);
      return;
    }
    let compute;
    let outputs;
    if (message.profile !== undefined) {
      const run = await profiling.run(message.profile, message.inputs, message.outputNames, message.variant);
      // Compute starts after the profiling session's set-up, which the h2d phase then shows.
      compute = { start: run.start, end: run.computeEnd };
      outputs = run.outputs;
    } else {
      const run = await session.run(message.inputs, message.outputNames, message.variant);
      compute = { start, end: run.computeEnd };
      outputs = run.outputs;
    }
    const outputBuffers = uniqueBuffers(outputs.map((t) => t.buffer));
    post(packResult({ type: 'result', runId: message.runId, outputs, inputBuffers, compute }), [...outputBuffers, ...inputBuffers]);
  } catch (err) {
    const known = err instanceof InferError;
    const text = err instanceof Error ? err.message : String(err);
    // The requests' own failure lines say the same per request; this one ties the batch together.
    logger.debug({ errorId: known ? err.id : 'BACKEND_ERROR', error: text, variant: message.variant }, 'execution failed');
    post(
      {
        type: 'run-failed',
        runId: message.runId,
        errorId: known ? err.id : 'BACKEND_ERROR',
        message: known ? text : `onnx runtime error: ${text}`,
        inputBuffers,
      },
      inputBuffers,
    );
  }
}

/**
 * A decoupled run: responses go out as the backend sends them, each with its buffers
 * transferred; the result (no outputs) goes when the execution returns, and
 * `responses-end` once every request has had its final response.
 */
async function handleDecoupledRun(session: ModelBackend, message: RunMessage, inputBuffers: ArrayBuffer[], start: number): Promise<void> {
  if (session.runDecoupled === undefined) throw new InferError('INTERNAL', 'this backend cannot run a decoupled model');
  const runId = message.runId;
  const responses: ResponseSender = {
    send(index, outputs, final) {
      post({ type: 'response', runId, index, ...(outputs !== undefined ? { outputs } : {}), final }, uniqueBuffers((outputs ?? []).map((t) => t.buffer)));
    },
    fail(index, error) {
      post({ type: 'response', runId, index, error: { id: error.id, message: error.message }, final: true });
    },
  };
  const { computeEnd, responsesDone } = await session.runDecoupled(message.inputs, message.outputNames, responses);
  void responsesDone.then(
    () => post({ type: 'responses-end', runId }),
    (err: unknown) => {
      responses.fail(0, InferError.from(err));
      post({ type: 'responses-end', runId });
    },
  );
  post(packResult({ type: 'result', runId, outputs: [], inputBuffers, compute: { start, end: computeEnd } }), inputBuffers);
}

/**
 * Runs every model_warmup sample on every variant, `executions` times each, before the
 * instance reports ready (Triton warms each instance before the model is READY). Inputs
 * are borrowed by each run, so one copy serves every repetition.
 */
async function warmUp(session: ModelBackend, runs: readonly WarmupRun[]): Promise<void> {
  for (const run of runs) {
    const started = nowMs();
    for (let i = 0; i < run.executions; i++) {
      try {
        await session.run(run.inputs, run.outputNames, run.variant);
      } catch (err) {
        throw new Error(warmupFailure(run.sample, err instanceof Error ? err.message : String(err)));
      }
    }
    logger.debug({ sample: run.sample, variant: run.variant, executions: run.executions, ms: Math.round((nowMs() - started) * 10) / 10 }, 'warmup sample ran');
  }
}

function uniqueBuffers(buffers: ArrayBuffer[]): ArrayBuffer[] {
  return [...new Set(buffers)];
}

async function main(): Promise<void> {
  let session: ModelBackend;
  const loading = nowMs();
  try {
    session = await createBackend(startup.backend, startup.settings);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const { executionProvider, deviceId } = startup.settings;
    const where = executionProvider === 'cpu' ? '' : `the ${executionProvider} execution provider could not create a session on device ${deviceId}: `;
    post({ type: 'load-failed', message: `${where}${text}` });
    return;
  }
  try {
    await warmUp(session, startup.warmup);
  } catch (err) {
    await session.release().catch(() => undefined);
    post({ type: 'load-failed', message: (err as Error).message });
    return;
  }
  // Runs are serialized: the pool sends the next one only after this one answered, but
  // chaining keeps the order even if that ever changes.
  let chain = Promise.resolve();
  port!.on('message', (message: ToWorker) => {
    if (isRunWire(message)) {
      const run = unpackRun(message);
      if (run.returned !== undefined) freeReturned(run.returned);
      chain = chain.then(() => handleRun(session, run));
      return;
    }
    if (message.type === 'stop') {
      chain = chain.then(() => profiling.releaseAll()).then(() => session.release()).finally(() => port!.close());
      return;
    }
    if (message.type === 'crash') {
      // After the runs already received, as documented: a run's first step may await, and
      // exiting on arrival could kill the execution the drill means to let finish.
      chain = chain.then(() => process.exit(70));
      return;
    }
    if (message.type === 'profile-end') {
      chain = chain.then(async () => post({ type: 'profile-data', id: message.id, profile: await profiling.end(message.id, startup.instanceName) }));
      return;
    }
  });
  const { executionProvider, deviceId } = startup.settings;
  logger.debug({ executionProvider, deviceId, loadMs: Math.round(nowMs() - loading) }, 'session loaded');
  post({ type: 'ready' });
}

void main();
