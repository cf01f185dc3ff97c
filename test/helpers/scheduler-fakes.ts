/**
 * Fakes for scheduler tests: a hand-driven clock, an instance pool whose executions the
 * test finishes by hand, and builders for validated requests whose input values carry a
 * per-request marker, so a test can read which requests an execution held, in order.
 */
import type { BufferTensor, ComputeTiming, ExecutionRequest, ExecutionResult, Executor, InstanceSet } from '../../src/core/execution.js';
import type { ParameterValue } from '../../src/core/infer-request.js';
import type { Logger } from '../../src/core/logger.js';
import type { ModelInfo } from '../../src/core/model-info.js';
import { validateInferRequest, type ValidatedRequest } from '../../src/core/request-validation.js';
import type { Clock } from '../../src/scheduler/clock.js';

/** Lets every pending promise callback run (microtasks drain before the next macrotask). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when the test says so. Timers fire during `advance`, each at
 * its own instant (so `now()` inside a callback is the instant it was due), in due order.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(callback: () => void, delayMs: number): () => void {
    const id = this.seq++;
    this.timers.set(id, { id, at: this.t + Math.max(0, delayMs), callback });
    return () => {
      this.timers.delete(id);
    };
  }

  /** Timers armed and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing the timers that fall due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      let due: Timer | undefined;
      for (const timer of this.timers.values()) {
        if (timer.at <= target && (due === undefined || timer.at < due.at || (timer.at === due.at && timer.id < due.id))) due = timer;
      }
      if (due === undefined) break;
      this.timers.delete(due.id);
      this.t = Math.max(this.t, due.at);
      due.callback();
      await settle();
    }
    this.t = target;
    await settle();
  }
}

/** One execution the fake pool received. */
export interface FakeCall {
  readonly instance: string;
  /** The assembled inputs, copied when the execution started (values read as FP32; `bytes` as they were). */
  readonly inputs: readonly { readonly name: string; readonly shape: readonly number[]; readonly values: readonly number[]; readonly bytes: Uint8Array }[];
  /** The outputs the execution asked for. */
  readonly outputNames: readonly string[];
  /** Markers of the requests in the batch, in batch order (see `makeRequest`). */
  readonly markers: readonly number[];
  /** The model variant the execution asked for. */
  readonly variant: string;
  readonly state: 'running' | 'done' | 'failed';
  /** Completes the execution: outputs are the inputs, renamed to the requested outputs (or `outputs` when given). */
  finish(compute?: ComputeTiming, outputs?: BufferTensor[]): void;
  /** Fails the execution. */
  fail(err: unknown): void;
}

/**
 * N fake instances. `acquire` leases an idle one (`acquireInstance` a given one);
 * `execute` records the call and settles when the test says; the instance is idle again
 * when the lease holder calls `release`, and the onIdle listeners run in a microtask after
 * it, as the real InstancePool does. `fail(index)` runs the instance-failure listeners.
 */
export class FakePool implements InstanceSet {
  readonly calls: FakeCall[] = [];
  private readonly busy: boolean[];
  private readonly listeners: (() => void)[] = [];
  private idleQueued = false;
  private readonly failureListeners: ((index: number, name: string) => void)[] = [];

  constructor(
    private readonly clock: Clock,
    instances = 1,
  ) {
    this.busy = Array.from({ length: instances }, () => false);
  }

  get idle(): number {
    return this.busy.filter((b) => !b).length;
  }

  /** Executions not yet finished. */
  get running(): FakeCall[] {
    return this.calls.filter((c) => c.state === 'running');
  }

  onIdle(listener: () => void): void {
    this.listeners.push(listener);
  }

  get instanceCount(): number {
    return this.busy.length;
  }

  isInstanceIdle(index: number): boolean {
    return this.busy[index] === false;
  }

  acquireInstance(index: number): Executor | undefined {
    return this.isInstanceIdle(index) ? this.lease(index) : undefined;
  }

  onInstanceFailed(listener: (index: number, name: string) => void): void {
    this.failureListeners.push(listener);
  }

  /** Runs the instance-failure listeners for instance `index`, as a dead worker would. */
  fail(index: number): void {
    for (const listener of this.failureListeners) listener(index, `fake_${index}`);
  }

  acquire(): Executor | undefined {
    const index = this.busy.indexOf(false);
    return index < 0 ? undefined : this.lease(index);
  }

  private lease(index: number): Executor {
    this.busy[index] = true;
    const instanceName = `fake_${index}`;
    let leased = true;
    const free = () => {
      if (!leased) throw new Error(`lease of ${instanceName} released twice`);
      leased = false;
      this.busy[index] = false;
      if (this.idleQueued) return;
      this.idleQueued = true;
      queueMicrotask(() => {
        this.idleQueued = false;
        for (const listener of this.listeners) listener();
      });
    };
    return {
      instanceName,
      executionProvider: 'cpu',
      deviceId: 0,
      execute: (request) => this.record(instanceName, request),
      release: free,
    };
  }

  private record(instance: string, request: ExecutionRequest): Promise<ExecutionResult> {
    const copies = request.inputs.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: [...t.shape],
      bytes: new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice(),
    }));
    const inputs = copies.map((c) => ({
      name: c.name,
      shape: c.shape,
      values: c.bytes.byteLength % 4 === 0 ? Array.from(new Float32Array(c.bytes.buffer)) : [],
      bytes: c.bytes,
    }));
    const markers: number[] = [];
    for (const value of inputs[0]?.values ?? []) {
      const marker = Math.floor(value / 1000);
      if (markers[markers.length - 1] !== marker) markers.push(marker);
    }
    return new Promise((resolve, reject) => {
      let state: FakeCall['state'] = 'running';
      const check = () => {
        if (state !== 'running') throw new Error(`execution on ${instance} already ${state}`);
      };
      const call: FakeCall = {
        instance,
        inputs,
        markers,
        outputNames: request.outputNames,
        variant: request.variant,
        get state() {
          return state;
        },
        finish: (compute, given) => {
          check();
          state = 'done';
          const outputs: BufferTensor[] = given ?? request.outputNames.map((name, i) => {
            const input = copies[i]!;
            const bytes = input.bytes.slice();
            return { name, datatype: input.datatype, shape: input.shape, buffer: bytes.buffer, byteOffset: 0, byteLength: bytes.byteLength };
          });
          const now = this.clock.now();
          resolve({ outputs, inputBuffers: request.inputs.map((t) => t.buffer), compute: compute ?? { start: now, end: now } });
        },
        fail: (err) => {
          check();
          state = 'failed';
          reject(err);
        },
      };
      this.calls.push(call);
    });
  }
}

/** A batching model with one variable-length FP32 input X and output Y, serving fp32 (and int8 with `int8`). */
export function identityModel(maxBatchSize = 8, int8 = false): ModelInfo {
  return {
    name: 'ident',
    version: 1,
    platform: 'onnxruntime_onnx',
    maxBatchSize,
    inputs: [{ name: 'X', datatype: 'FP32', dims: [-1], optional: false }],
    outputs: [{ name: 'Y', datatype: 'FP32', dims: [-1], optional: false }],
    ...(int8 ? { precision: { defaultPrecision: 'fp32', served: ['fp32', 'int8'], unavailable: new Map(), fp16Io: false } } : {}),
  };
}

export interface RequestOptions {
  /** Items in the request (its batch dim); default 1. */
  readonly rows?: number;
  /** Elements per item; default 3. */
  readonly width?: number;
  /** The request id; default `r<marker>`. */
  readonly id?: string;
  readonly priority?: number;
  readonly timeoutUs?: number;
  /** Request parameter `precision`. */
  readonly precision?: string;
  /** Sequence parameters: `sequence_id` (a number as int64_param, a string as string_param), start and end. */
  readonly sequence?: { readonly id: number | string; readonly start?: boolean; readonly end?: boolean };
}

/** The values `makeRequest` puts in X: marker*1000 + row*100 + column. */
export function markerValues(marker: number, rows: number, width: number): number[] {
  const values: number[] = [];
  for (let r = 0; r < rows; r++) for (let k = 0; k < width; k++) values.push(marker * 1000 + r * 100 + k);
  return values;
}

/** A validated request for `model` whose X values carry `marker` (0..999). */
export function makeRequest(model: ModelInfo, marker: number, options: RequestOptions = {}): ValidatedRequest {
  const rows = options.rows ?? 1;
  const width = options.width ?? 3;
  const values = markerValues(marker, model.maxBatchSize > 0 ? rows : 1, width);
  const parameters = new Map<string, ParameterValue>();
  if (options.priority !== undefined) parameters.set('priority', { kind: 'uint64', value: BigInt(options.priority) });
  if (options.timeoutUs !== undefined) parameters.set('timeout', { kind: 'int64', value: BigInt(options.timeoutUs) });
  if (options.precision !== undefined) parameters.set('precision', { kind: 'string', value: options.precision });
  if (options.sequence !== undefined) {
    const id = options.sequence.id;
    parameters.set('sequence_id', typeof id === 'string' ? { kind: 'string', value: id } : { kind: 'int64', value: BigInt(id) });
    parameters.set('sequence_start', { kind: 'bool', value: options.sequence.start ?? false });
    parameters.set('sequence_end', { kind: 'bool', value: options.sequence.end ?? false });
  }
  return validateInferRequest(
    {
      id: options.id ?? `r${marker}`,
      modelName: model.name,
      modelVersion: '',
      inputs: [
        {
          name: 'X',
          datatype: 'FP32',
          shape: model.maxBatchSize > 0 ? [rows, width] : [width],
          data: new Uint8Array(Float32Array.from(values).buffer),
        },
      ],
      outputs: [],
      parameters,
    },
    model,
  );
}

/** FP32 values of a tensor's bytes (any alignment). */
export function readFloat32(data: Uint8Array): number[] {
  return Array.from(new Float32Array(data.slice().buffer));
}

/** Counts property reads on the requests wrapped by `countReads`. */
export interface ReadCounter {
  reads: number;
}

/**
 * `request` behind a proxy that counts every property read into `counter`: the work a
 * scheduler does on queued requests, measured without touching the scheduler. Walking the
 * queue reads every queued request; an operation that costs O(1) reads a fixed number.
 */
export function countReads(request: ValidatedRequest, counter: ReadCounter): ValidatedRequest {
  return new Proxy(request, {
    get(target, key, receiver) {
      counter.reads += 1;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so a seed reproduces a test. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A copy of `items` in a random order drawn from `random` (Fisher-Yates). */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
