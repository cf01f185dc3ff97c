import type { Variant } from './precision.js';

/**
 * ONNX Runtime profiling on demand: the ports between the transport (an operator asks),
 * the profiler (main thread, owns each model's profile), the model instances (which run
 * flagged executions under a profiling session) and their workers. Plain data crosses
 * threads; nothing here costs anything while no profile is asked for.
 */

/** One event of ONNX Runtime's profile file (Chrome trace format; µs since the session's profiler started). */
export interface OrtProfileEvent {
  readonly cat: string;
  readonly name: string;
  readonly ph: string;
  readonly ts: number;
  readonly dur?: number;
  readonly args?: Readonly<Record<string, unknown>>;
}

/** One profiling session a worker created for a variant, with its events. */
export interface ProfiledSession {
  readonly variant: Variant;
  /** ms since the epoch (the clock of ExecutionEvent) when the session's set-up began (creation, then one unrecorded run). */
  readonly startMs: number;
  /** ms since the epoch when the set-up ended. */
  readonly readyMs: number;
  /** The instant, on the same clock, that ORT's `ts` 0 stands for. */
  readonly originMs: number;
  /** ORT's `ts` (µs) from which events belong to profiled executions (the end of the set-up run). */
  readonly firstUs: number;
  readonly events: readonly OrtProfileEvent[];
}

/** What one instance's worker recorded for a profile: its sessions and the executions it ran under them. */
export interface WorkerProfile {
  readonly instance: string;
  readonly sessions: readonly ProfiledSession[];
  /** The profiled executions' compute instants (ms since the epoch), as their results reported them. */
  readonly runs: readonly { readonly variant: Variant; readonly computeStart: number; readonly computeEnd: number }[];
  /** Set when the worker could not end or read a session's profile. */
  readonly error?: string;
}

/** A flagged execution: run it under profile `id`, with ORT's files named from `filePrefix`. */
export interface ProfileTicket {
  readonly id: string;
  readonly filePrefix: string;
}

/** An instance that took part in a profile: asked once the profile ends for what its worker recorded. */
export interface ProfileParticipant {
  collect(id: string): Promise<WorkerProfile>;
}

/**
 * Decides, per execution, whether it runs under ONNX Runtime's profiler. Called by a model
 * instance just before it sends an execution to its worker. Main thread only.
 */
export interface ProfileGate {
  claim(instance: string, participant: ProfileParticipant): ProfileTicket | undefined;
}

/** Where a profile stands, as TraceSetting reports it. */
export interface ProfileStatus {
  readonly model: string;
  readonly instance: string | undefined;
  /** Executions asked for, and those still to profile. */
  readonly executions: number;
  readonly remaining: number;
  readonly state: 'running' | 'writing' | 'written' | 'failed';
  /** The Chrome/Perfetto trace JSON, and the summary beside it (written once the state is `written`). */
  readonly file: string;
  readonly summaryFile: string;
  readonly error?: string;
}

/** The operator's side: start (or, with 0 executions, finish early) a model's profile. Main thread only. */
export interface ProfileControl {
  start(model: string, executions: number, instance: string | undefined): ProfileStatus | undefined;
  /** The model's current or last profile; undefined when none was asked for. */
  status(model: string): ProfileStatus | undefined;
}
