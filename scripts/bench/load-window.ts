/**
 * What a load worker (load-worker.ts over gRPC, http-load-worker.ts over HTTP/REST) counts
 * between two of the coordinator's collections, how many of its requests are outstanding, and
 * its side of the coordinator's messages.
 */
import type { MessagePort } from 'node:worker_threads';
import type { FromLoadWorker, ToLoadWorker } from './load-worker.js';
import { LatencyRecorder } from './stats.js';

export class LoadWindow {
  private readonly recorder = new LatencyRecorder();
  private completed = 0;
  private errors = 0;
  private firstError = '';
  private recvUs = 0;
  private recvSamples = 0;
  private outstanding = 0;
  private onDrained: (() => void) | undefined;
  /** Between start and stop: a closed loop sends again as each answer comes. */
  running = false;

  /** A request is on its way. */
  sent(): void {
    this.outstanding++;
  }

  /** A request was answered or failed; after a stop, the last one lets the worker report stopped. */
  settled(): void {
    this.outstanding = Math.max(0, this.outstanding - 1);
    if (this.outstanding === 0) this.onDrained?.();
  }

  /** Counts an answer and its latency; true for the one in `decodeEvery` to decode and check. */
  succeeded(latencyUs: number, decodeEvery: number): boolean {
    this.completed++;
    this.recorder.add(latencyUs);
    return this.completed % decodeEvery === 0;
  }

  failed(message: string): void {
    this.errors++;
    if (this.firstError === '') this.firstError = message;
  }

  /** Time spent decoding one sampled response (Client Recv). */
  decoded(us: number): void {
    this.recvUs += us;
    this.recvSamples++;
  }

  /**
   * Answers the coordinator on `port`: start runs `start`; collect posts this window and begins
   * the next; stop ends the loop and, once nothing is outstanding, runs `close` and reports.
   */
  serve(port: MessagePort, start: () => void, close: () => void): void {
    port.on('message', (message: ToLoadWorker) => {
      if (message.type === 'start') {
        this.running = true;
        start();
      } else if (message.type === 'collect') {
        const latencies = this.recorder.values().slice();
        const { completed, errors, firstError, recvUs, recvSamples } = this;
        port.postMessage({ type: 'window', latencies, completed, errors, firstError, recvUs, recvSamples } satisfies FromLoadWorker, [latencies.buffer]);
        this.recorder.clear();
        this.completed = this.errors = this.recvUs = this.recvSamples = 0;
      } else {
        this.running = false;
        const done = () => {
          close();
          port.postMessage({ type: 'stopped' } satisfies FromLoadWorker);
        };
        if (this.outstanding === 0) done();
        else this.onDrained = done;
      }
    });
  }
}
