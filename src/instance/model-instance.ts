import { InferError } from '../core/errors.js';
import type { BackendSpec, BufferTensor, DecoupledResponse, ExecutionRequest, ExecutionResult, InstancePlan } from '../core/execution.js';
import type { Logger } from '../core/logger.js';
import type { ProfileGate, ProfileParticipant, WorkerProfile } from '../core/profiling.js';
import type { WarmupRun } from '../core/warmup.js';
import type { FromWorker, ResultMessage, RunFailedMessage, RunMessage, ToWorker, WorkerStartup } from './messages.js';
import { isResultWire, packRun, unpackResult } from './run-wire.js';
import { spawnInstanceWorker, type SpawnWorker, type WorkerPort } from './worker-port.js';

/**
 * Output buffers kept for the next run message at most: a few executions' worth, since
 * the run after a result is often sent before that result's responses are written.
 */
const MAX_RETURNED = 32;

type State = 'starting' | 'idle' | 'busy' | 'failed' | 'stopped';

interface Pending {
  readonly runId: number;
  /** The execution's sampled requests, named in the worker's log lines while it runs. */
  readonly traces: ExecutionRequest['traces'];
  resolve(result: ExecutionResult): void;
  reject(err: Error): void;
}

/**
 * Main-thread handle of one model instance: a worker thread that owns one ONNX Runtime
 * session. Runs one execution at a time. Input buffers are transferred to the worker
 * and come back with the result; output buffers arrive by transfer as well.
 *
 * If the worker dies, the execution in flight fails with INSTANCE_FAILED and
 * `onFailure` listeners run, so the pool can start a replacement.
 */
export class ModelInstance implements ProfileParticipant {
  private state: State = 'starting';
  private nextRunId = 1;
  private pending: Pending | undefined;
  private failureListener: ((reason: string) => void) | undefined;
  private onStartupEnd: ((error?: Error) => void) | undefined;
  /** Set by stop() while an execution is still running; called once it has answered. */
  private afterRun: (() => void) | undefined;
  /** Decoupled runs whose responses are still coming, by run id. */
  private readonly responders = new Map<number, (response: DecoupledResponse) => void>();
  /**
   * Output buffers given back by the main thread since the last run (ExecutionResult.giveBack):
   * they leave the main isolate with the next run message, so that the main heap is not
   * fully collected for their external memory. Bounded (see MAX_RETURNED).
   */
  private returned: ArrayBuffer[] = [];
  /** Profiles whose data was asked of the worker (collect), by profile id. */
  private readonly collecting = new Map<string, { resolve(profile: WorkerProfile): void; reject(err: Error): void }>();

  private constructor(
    readonly plan: InstancePlan,
    private readonly worker: WorkerPort,
    private readonly logger: Logger,
    /** Asked before each execution whether it runs under ONNX Runtime's profiler; absent: never. */
    private readonly profileGate: ProfileGate | undefined,
  ) {}

  /**
   * Starts the worker and resolves once its session is loaded and has run `warmup`;
   * rejects with the load or warm-up error.
   */
  static start(
    plan: InstancePlan,
    backend: BackendSpec,
    logger: Logger,
    spawn: SpawnWorker = spawnInstanceWorker,
    warmup: readonly WarmupRun[] = [],
    profileGate?: ProfileGate,
  ): Promise<ModelInstance> {
    const startup: WorkerStartup = { instanceName: plan.name, backend, settings: plan.settings, warmup };
    const worker = spawn(startup);
    const instance = new ModelInstance(plan, worker, logger, profileGate);
    return new Promise((resolve, reject) => {
      instance.onStartupEnd = (error) => (error === undefined ? resolve(instance) : reject(error));
      worker.on('message', (message: FromWorker) => instance.handleMessage(message));
      worker.on('error', (err) => instance.handleDeath(`worker threw: ${err.message}`));
      worker.on('exit', (code) => instance.handleDeath(`worker exited with code ${code}`));
    });
  }


  get name(): string {
    return this.plan.name;
  }

  get isIdle(): boolean {
    return this.state === 'idle';
  }

  get currentState(): State {
    return this.state;
  }

  /** Called once if the worker dies after start-up, with the reason. */
  onFailure(listener: (reason: string) => void): void {
    this.failureListener = listener;
  }

  /** Runs one execution. Only call when idle; the instance is busy until it settles. */
  execute(request: ExecutionRequest): Promise<ExecutionResult> {
    if (this.state !== 'idle') {
      return Promise.reject(new InferError('INTERNAL', `instance '${this.name}' is ${this.state}, not idle`));
    }
    this.state = 'busy';
    const runId = this.nextRunId++;
    const decoupled = request.onResponse !== undefined;
    const ticket = decoupled ? undefined : this.profileGate?.claim(this.name, this);
    const message: { -readonly [K in keyof RunMessage]: RunMessage[K] } = {
      type: 'run',
      runId,
      inputs: request.inputs,
      outputNames: request.outputNames,
      variant: request.variant,
      decoupled,
      ...(ticket !== undefined ? { profile: ticket } : {}),
    };
    if (request.onResponse !== undefined) this.responders.set(runId, request.onResponse);
    const transfer = [...new Set(request.inputs.map((t) => t.buffer))];
    if (this.returned.length > 0) {
      // Piggybacked on the run: no message (and no wake) of their own. The worker frees them.
      message.returned = this.returned;
      for (const buffer of this.returned) transfer.push(buffer);
      this.returned = [];
    }
    return new Promise((resolve, reject) => {
      this.pending = { runId, traces: request.traces, resolve, reject };
      this.post(packRun(message), transfer);
    });
  }

  /**
   * Asks the worker to release its session and exit, after the execution in flight (if
   * any) has answered. Terminates it only if it then fails to exit: terminating a worker
   * while onnxruntime-node is inside `run` aborts the whole process.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.state === 'stopped' || this.state === 'failed') return;
    const running = this.pending;
    this.state = 'stopped';
    if (running !== undefined) await new Promise<void>((resolve) => (this.afterRun = resolve));
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.post({ type: 'stop' });
    const timer = setTimeout(() => void this.worker.terminate(), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /**
   * What the worker recorded for profile `id`. The request queues behind the executions
   * already sent, so it answers once the profiled ones have run; it fails if the worker
   * stops or dies first.
   */
  collect(id: string): Promise<WorkerProfile> {
    if (this.state === 'stopped' || this.state === 'failed') return Promise.reject(new Error(`model instance '${this.name}' stopped before its profile was read`));
    return new Promise((resolve, reject) => {
      this.collecting.set(id, { resolve, reject });
      this.post({ type: 'profile-end', id });
    });
  }

  /** Fault drill: makes the worker exit as a crash would (see CrashMessage). */
  crash(): void {
    this.post({ type: 'crash' });
  }

  private post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  private handleMessage(message: FromWorker): void {
    if (isResultWire(message)) {
      this.settle(unpackResult(message));
      return;
    }
    switch (message.type) {
      case 'ready':
        this.state = 'idle';
        this.onStartupEnd?.();
        this.onStartupEnd = undefined;
        return;
      case 'load-failed':
        this.state = 'stopped';
        this.onStartupEnd?.(new Error(message.message));
        this.onStartupEnd = undefined;
        void this.worker.terminate();
        return;
      case 'run-failed':
        this.settle(message);
        return;
      case 'response':
        this.responders.get(message.runId)?.({
          index: message.index,
          ...(message.outputs !== undefined ? { outputs: message.outputs } : {}),
          ...(message.error !== undefined ? { error: message.error } : {}),
          final: message.final,
        });
        return;
      case 'responses-end':
        this.responders.delete(message.runId);
        return;
      case 'profile-data':
        this.collecting.get(message.id)?.resolve(message.profile);
        this.collecting.delete(message.id);
        return;
      case 'log':
        // This logger already names model, version and instance; add the execution's traces.
        this.logger[message.level]({ ...message.fields, ...traceFields(this.pending?.traces) }, message.message);
        return;
    }
  }

  /** Settles the execution in flight with its result or failure (one for another run is ignored). */
  private settle(message: ResultMessage | RunFailedMessage): void {
    const pending = this.pending;
    if (pending === undefined || pending.runId !== message.runId) return;
    this.pending = undefined;
    if (this.state === 'busy') this.state = 'idle';
    this.afterRun?.();
    this.afterRun = undefined;
    if (message.type === 'result') {
      const { outputs, inputBuffers } = message;
      pending.resolve({ outputs, inputBuffers, compute: message.compute, giveBack: () => this.takeBack(outputs, inputBuffers) });
    } else {
      pending.reject(new InferError(message.errorId, message.message));
    }
  }

  /**
   * Keeps an execution's output buffers for the next run message. Skips a buffer that is
   * also an input buffer (it went back to the staging pool), one already detached, and any
   * beyond MAX_RETURNED, and keeps nothing once the worker is gone.
   */
  private takeBack(outputs: readonly BufferTensor[], inputBuffers: readonly ArrayBuffer[]): void {
    if (this.state === 'failed' || this.state === 'stopped') return;
    for (const output of outputs) {
      const buffer = output.buffer;
      if (buffer.byteLength === 0 || this.returned.length >= MAX_RETURNED || this.returned.includes(buffer) || inputBuffers.includes(buffer)) continue;
      this.returned.push(buffer);
    }
  }

  private handleDeath(reason: string): void {
    const wasStarting = this.onStartupEnd !== undefined;
    for (const waiter of this.collecting.values()) waiter.reject(new Error(`model instance '${this.name}' ended before its profile was read (${reason})`));
    this.collecting.clear();
    this.afterRun?.();
    this.afterRun = undefined;
    if (this.state === 'failed' || (this.state === 'stopped' && this.pending === undefined)) return;
    this.state = 'failed';
    this.returned = [];
    if (wasStarting) {
      this.onStartupEnd?.(new Error(reason));
      this.onStartupEnd = undefined;
      return;
    }
    const pending = this.pending;
    this.pending = undefined;
    const message = `model instance '${this.name}' failed while running this request (${reason}); the instance is being replaced`;
    pending?.reject(new InferError('INSTANCE_FAILED', message));
    // Decoupled requests whose responses were still coming get no more of them.
    for (const respond of this.responders.values()) respond({ index: -1, error: { id: 'INSTANCE_FAILED', message }, final: true });
    this.responders.clear();
    this.failureListener?.(reason);
  }
}

/** Log fields for an execution's traces: trace_id and span_id for one request, trace_ids for a batch. */
function traceFields(traces: ExecutionRequest['traces']): Record<string, unknown> {
  if (traces === undefined || traces.length === 0) return {};
  if (traces.length === 1) return { trace_id: traces[0]!.traceId, span_id: traces[0]!.spanId };
  return { trace_ids: traces.map((t) => t.traceId) };
}
