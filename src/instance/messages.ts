import type { BackendSpec, BufferTensor, ComputeTiming, SessionSettings } from '../core/execution.js';
import type { ErrorId } from '../core/errors.js';
import type { Variant } from '../core/precision.js';
import type { ProfileTicket, WorkerProfile } from '../core/profiling.js';
import type { WarmupRun } from '../core/warmup.js';
import type { ResultWire, RunWire } from './run-wire.js';

/**
 * The typed protocol between a ModelInstance (main thread) and its worker thread.
 * ArrayBuffers inside tensors always travel in the transfer list, never by copy.
 */

/** Passed as `workerData` when the worker starts; it loads the model at once. */
export interface WorkerStartup {
  readonly instanceName: string;
  readonly backend: BackendSpec;
  readonly settings: SessionSettings;
  /** model_warmup runs, done after loading and before `ready`; a failure is a failed load. */
  readonly warmup: readonly WarmupRun[];
}

/** Main -> worker, as posted: runs go flat (run-wire.ts). */
export type ToWorker = RunWire | StopMessage | CrashMessage | ProfileEndMessage;

export interface RunMessage {
  readonly type: 'run';
  readonly runId: number;
  readonly inputs: readonly BufferTensor[];
  readonly outputNames: readonly string[];
  readonly variant: Variant;
  /**
   * Output buffers of earlier results that the main thread has written out and gives back
   * (in the transfer list), so they leave the main isolate; the worker frees them at once.
   */
  readonly returned?: readonly ArrayBuffer[];
  /** Run through the backend's runDecoupled: responses come as ResponseMessages. */
  readonly decoupled: boolean;
  /** Run under ONNX Runtime's profiler, for this profile (see backend/profiling-sessions.ts). */
  readonly profile?: ProfileTicket;
}

/** Ends a profile: the worker answers with a ProfileDataMessage once the runs before this one are done. */
export interface ProfileEndMessage {
  readonly type: 'profile-end';
  readonly id: string;
}

export interface StopMessage {
  readonly type: 'stop';
}

/**
 * Fault drill: the worker exits with a non-zero code, as a crashed worker would, once the
 * executions sent before this message are done; one sent after it is lost with the worker.
 */
export interface CrashMessage {
  readonly type: 'crash';
}

/** Worker -> main, as posted: results go flat (run-wire.ts). */
export type FromWorker = ReadyMessage | LoadFailedMessage | ResultWire | RunFailedMessage | ResponseMessage | ResponsesEndMessage | LogMessage | ProfileDataMessage;

export interface ReadyMessage {
  readonly type: 'ready';
}

export interface LoadFailedMessage {
  readonly type: 'load-failed';
  readonly message: string;
}

export interface ResultMessage {
  readonly type: 'result';
  readonly runId: number;
  readonly outputs: readonly BufferTensor[];
  readonly inputBuffers: readonly ArrayBuffer[];
  readonly compute: ComputeTiming;
}

export interface RunFailedMessage {
  readonly type: 'run-failed';
  readonly runId: number;
  readonly errorId: ErrorId;
  readonly message: string;
  readonly inputBuffers: readonly ArrayBuffer[];
}

/**
 * One response of a decoupled run, for request `index` of its execution (see
 * DecoupledResponse). May arrive after the run's ResultMessage.
 */
export interface ResponseMessage {
  readonly type: 'response';
  readonly runId: number;
  readonly index: number;
  readonly outputs?: readonly BufferTensor[];
  readonly error?: { readonly id: ErrorId; readonly message: string };
  readonly final: boolean;
}

/** Every request of a decoupled run has sent its final response. */
export interface ResponsesEndMessage {
  readonly type: 'responses-end';
  readonly runId: number;
}

/** Workers never write to stdout; their log lines go through the main thread's logger. */
export interface LogMessage {
  readonly type: 'log';
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  /** Structured fields of the line (structured-clonable values only). */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** What the worker recorded for a profile (answer to ProfileEndMessage). */
export interface ProfileDataMessage {
  readonly type: 'profile-data';
  readonly id: string;
  readonly profile: WorkerProfile;
}
