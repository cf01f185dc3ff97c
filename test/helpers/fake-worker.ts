/**
 * A test double of an instance's worker thread (instance/worker-port.ts), driven by hand:
 * the test reads what the main thread posted and answers as a worker would. No thread runs.
 */
import { EventEmitter } from 'node:events';
import type { BufferTensor, InstancePlan } from '../../src/core/execution.js';
import type { CrashMessage, FromWorker, ProfileEndMessage, ResultMessage, RunMessage, StopMessage, ToWorker, WorkerStartup } from '../../src/instance/messages.js';
import { isResultWire, isRunWire, packResult, unpackRun } from '../../src/instance/run-wire.js';
import type { SpawnWorker, WorkerPort } from '../../src/instance/worker-port.js';

/** A message the main thread posted (a run unpacked from its wire form), with its transfer list. */
export interface Posted {
  readonly message: RunMessage | StopMessage | CrashMessage | ProfileEndMessage;
  readonly transfer: readonly ArrayBuffer[];
}

export class FakeWorker implements WorkerPort {
  readonly posted: Posted[] = [];
  terminated = false;
  private readonly events = new EventEmitter();

  constructor(readonly startup: WorkerStartup) {}

  postMessage(posted: ToWorker, transfer: readonly ArrayBuffer[] = []): void {
    const message = isRunWire(posted) ? unpackRun(posted) : posted;
    this.posted.push({ message, transfer });
    // A real worker exits once it has released its session after 'stop'.
    if (message.type === 'stop') queueMicrotask(() => this.exit(0));
  }

  on(event: string, listener: (...args: never[]) => void): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once(event: string, listener: (...args: never[]) => void): this {
    this.events.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  terminate(): Promise<number> {
    this.terminated = true;
    this.exit(1);
    return Promise.resolve(1);
  }

  /** Sends a message to the main thread, as the worker would (a result in its wire form). */
  send(message: FromWorker | ResultMessage): void {
    this.events.emit('message', isResultWire(message) || message.type !== 'result' ? message : packResult(message));
  }

  /** The run messages received so far. */
  get runs(): RunMessage[] {
    return this.posted.flatMap((p) => (p.message.type === 'run' ? [p.message] : []));
  }

  /** Answers run `runId` with `outputs` and the run's input buffers back. */
  answer(run: RunMessage, outputs: BufferTensor[] = []): void {
    const inputBuffers = [...new Set(run.inputs.map((t) => t.buffer))];
    this.send({ type: 'result', runId: run.runId, outputs, inputBuffers, compute: { start: 1, end: 2 } });
  }

  /** The worker dies with `code` (a crash, or the exit after stop). */
  exit(code: number): void {
    this.events.emit('exit', code);
  }
}

/** A SpawnWorker that hands out FakeWorkers and keeps them, in spawn order. */
export function fakeSpawner(): { spawn: SpawnWorker; workers: FakeWorker[] } {
  const workers: FakeWorker[] = [];
  return {
    workers,
    spawn: (startup) => {
      const worker = new FakeWorker(startup);
      workers.push(worker);
      return worker;
    },
  };
}

/** A CPU instance plan named `name`. */
export function cpuPlan(name: string): InstancePlan {
  return { name, kind: 'cpu', settings: { executionProvider: 'cpu', deviceId: 0, intraOpThreads: 1, interOpThreads: 1, allowSpinning: false } };
}

/** An FP32 tensor of `values` in a buffer of its own. */
export function floatTensor(name: string, values: number[]): BufferTensor {
  const buffer = Float32Array.from(values).buffer;
  return { name, datatype: 'FP32', shape: [values.length], buffer, byteOffset: 0, byteLength: buffer.byteLength };
}
