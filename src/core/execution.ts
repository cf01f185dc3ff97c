import type { CpuFeatures } from './cpu-features.js';
import type { DataType } from './data-type.js';
import type { ErrorId } from './errors.js';
import type { Variant } from './precision.js';
import type { RequestTrace } from './telemetry.js';

/**
 * A tensor whose bytes sit in an ArrayBuffer that can be transferred between threads.
 * Whoever holds the object owns the buffer; sending it to another thread detaches it here.
 * Numeric data starts at an offset aligned to its element size.
 */
export interface BufferTensor {
  readonly name: string;
  readonly datatype: DataType;
  /** Shape as the model sees it, batch dimension included. */
  readonly shape: readonly number[];
  readonly buffer: ArrayBuffer;
  readonly byteOffset: number;
  readonly byteLength: number;
}

/** One model execution: the assembled inputs, the outputs to fetch and the variant that runs. */
export interface ExecutionRequest {
  readonly inputs: readonly BufferTensor[];
  readonly outputNames: readonly string[];
  readonly variant: Variant;
  /** The traces of the sampled requests in the execution, so that the instance's log lines name them. */
  readonly traces?: readonly RequestTrace[];
  /**
   * Decoupled models only: receives every response of the execution's requests, on the
   * main thread, as the backend sends them. They may keep coming after the execution
   * itself has returned (and the instance is free), until each request's final one.
   */
  readonly onResponse?: (response: DecoupledResponse) => void;
}

/** One response (or only the final flag) of a decoupled execution. */
export interface DecoupledResponse {
  /** Which request of the batch it answers; -1 (with an error) answers every request still waiting. */
  readonly index: number;
  /** The response's outputs; absent when the backend sent only the final flag. */
  readonly outputs?: readonly BufferTensor[];
  /** An error response, which is always the request's last. */
  readonly error?: { readonly id: ErrorId; readonly message: string };
  /** The request's last response: nothing more will come for it. */
  readonly final: boolean;
}

/** Wall-clock instants (ms since the epoch, sub-ms precision) of one execution in the worker. */
export interface ComputeTiming {
  readonly start: number;
  readonly end: number;
}

/** What an execution gives back: outputs, the input buffers for reuse, and its timing. */
export interface ExecutionResult {
  readonly outputs: readonly BufferTensor[];
  /** The input buffers, returned so the caller can reuse them. */
  readonly inputBuffers: readonly ArrayBuffer[];
  readonly compute: ComputeTiming;
  /**
   * Gives the output buffers back to the instance that made them (a large output arriving
   * in the main isolate counts as external memory, which starts full garbage collections of
   * the main heap until the buffer dies; handed back, it leaves the main isolate). Call at
   * most once, when nothing will read the outputs again. Absent: the buffers stay garbage.
   */
  readonly giveBack?: () => void;
}

/** Current wall-clock time in ms since the epoch with sub-ms precision; comparable across threads. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Whether an execution provider can be used on this machine, and if not, why. */
export interface ProviderStatus {
  readonly available: boolean;
  /** Set when unavailable: what is missing, precisely enough to fix it. */
  readonly reason?: string;
}

/** What the machine offers for running models; probed once at start-up. */
export interface DeviceInventory {
  /** Logical CPU cores available to this process. */
  readonly cpuCores: number;
  /** The CPU's int8 features, which decide the int8 format of precision variants. */
  readonly cpu: CpuFeatures;
  /** Indices of visible GPUs. */
  readonly gpuIds: readonly number[];
  readonly providers: Readonly<Record<ExecutionProvider, ProviderStatus>>;
}

/**
 * What an instance runs: an ONNX model file through ONNX Runtime, Triton's identity
 * backend, which returns each input unchanged as its paired output (byte-exact, with no
 * model file; ONNX Runtime cannot carry NUL bytes inside string tensors), or Triton's
 * repeat backend.
 */
export type BackendSpec =
  | {
      readonly kind: 'onnxruntime';
      /** The fp32 model. */
      readonly modelPath: string;
      /** Model files of the other served variants; each instance holds a session for each. */
      readonly variants?: Readonly<Partial<Record<Variant, string>>>;
    }
  | { readonly kind: 'identity'; readonly outputToInput: Readonly<Record<string, string>> }
  /** Triton's repeat example backend (decoupled): N responses for N elements of IN, each after its DELAY. */
  | { readonly kind: 'repeat' };

/** One model instance to start: its name and how its session is built. */
export interface InstancePlan {
  readonly name: string;
  readonly kind: 'cpu' | 'gpu';
  readonly settings: SessionSettings;
}

/** Execution providers an instance can run on. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

/**
 * How one model instance builds its ONNX Runtime session. Plain data, so it can be sent to
 * the instance's worker thread.
 */
export interface SessionSettings {
  readonly executionProvider: ExecutionProvider;
  /** GPU index for cuda/webgpu; 0 on CPU. */
  readonly deviceId: number;
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  /** ORT's `session.intra_op.allow_spinning`: busy-wait pool threads between runs. */
  readonly allowSpinning: boolean;
}

/**
 * One idle model instance, leased to the caller for at most one execution. The caller
 * gives the lease back with `release`, once, after `execute` settled (when it has
 * finished with the execution's buffers) or instead of executing.
 */
export interface Executor {
  readonly instanceName: string;
  /** Where it runs: provider and device of the instance. */
  readonly executionProvider: ExecutionProvider;
  readonly deviceId: number;
  execute(request: ExecutionRequest): Promise<ExecutionResult>;
  /** Gives the lease back; the pool announces the idle instance afterwards, never inside this call. */
  release(): void;
}

/**
 * The instances of a model, seen from its scheduler: which one runs the next batch is the
 * pool's decision (Triton keeps this apart from batch formation, in its rate limiter).
 * Main thread only.
 */
export interface ExecutorPool {
  /** Leases an idle instance, or returns undefined when all are busy or starting. */
  acquire(): Executor | undefined;
  /** Registers the callback run (in a microtask of its own) after an instance becomes idle. */
  onIdle(listener: () => void): void;
}

/**
 * Instances addressed by position, for schedulers that keep work on one instance (the
 * sequence batcher: a sequence stays on the instance it started on). Index i names the
 * same instance, or its replacement after a failure, for the version's whole life.
 * Main thread only.
 */
export interface InstanceSet extends ExecutorPool {
  readonly instanceCount: number;
  /** Whether instance `index` is idle (so acquireInstance would lease it). */
  isInstanceIdle(index: number): boolean;
  /** Leases instance `index` if it is idle, else undefined. */
  acquireInstance(index: number): Executor | undefined;
  /** Registers the callback run when an instance's worker dies (before its replacement starts). */
  onInstanceFailed(listener: (index: number, name: string) => void): void;
}
