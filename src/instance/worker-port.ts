import type { FromWorker, ToWorker, WorkerStartup } from './messages.js';
import { instanceWorkerEntry, startWorker } from './start-worker.js';

/**
 * What a ModelInstance needs of its worker thread: Node's `Worker` is one; unit tests pass
 * a double. Main thread only. Buffers in a transfer list belong to the worker afterwards.
 */
export interface WorkerPort {
  postMessage(message: ToWorker, transfer?: readonly ArrayBuffer[]): void;
  on(event: 'message', listener: (message: FromWorker) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  once(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

/** Starts the worker of one instance, which loads its backend from `startup` at once. */
export type SpawnWorker = (startup: WorkerStartup) => WorkerPort;

/** The real thing: a worker thread running instance/worker-entry. */
export const spawnInstanceWorker: SpawnWorker = (startup) =>
  startWorker(instanceWorkerEntry(), { workerData: startup, name: startup.instanceName }) as WorkerPort;
