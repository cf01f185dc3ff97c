import { InferError } from '../core/errors.js';
import type { ExecutorPool } from '../core/execution.js';
import type { InferResponse } from '../core/infer-request.js';
import type { ValidatedRequest } from '../core/request-validation.js';
import { Batch } from './batch.js';
import type { BatchRunner } from './batch-runner.js';
import type { Clock } from './clock.js';
import { abortReason, PendingRequest } from './pending-request.js';
import type { Scheduler } from './scheduler.js';
import type { StatisticsRecorder } from './statistics-recorder.js';

/**
 * First in, first out, one request per execution: the scheduler for models without
 * dynamic batching (Triton's default scheduler). Sole owner of its queue. Whenever an
 * instance is idle the oldest live request goes to it; requests aborted while queued are
 * dropped without running.
 */
export class FifoScheduler implements Scheduler {
  private readonly queue: PendingRequest[] = [];
  private stopped = false;

  constructor(
    private readonly pool: ExecutorPool,
    private readonly runner: BatchRunner,
    private readonly stats: StatisticsRecorder,
    private readonly clock: Clock,
  ) {
    pool.onIdle(() => this.pump());
  }

  enqueue(request: ValidatedRequest, signal: AbortSignal): Promise<InferResponse> {
    if (this.stopped) return Promise.reject(new InferError('SERVER_STOPPING', 'the model is being unloaded'));
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      this.queue.push(
        new PendingRequest({
          request,
          signal,
          clock: this.clock,
          resolve,
          reject,
          onAbort: (p) => this.remove(p),
          onFailed: (p, err) => this.stats.recordFailure(p, err, this.clock.now()),
        }),
      );
      this.pump();
    });
  }

  pending(): number {
    return this.queue.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const pending of this.queue.splice(0)) pending.fail(new InferError('SERVER_STOPPING', 'the model is being unloaded'));
    await this.runner.whenIdle();
  }

  private remove(pending: PendingRequest): void {
    const index = this.queue.indexOf(pending);
    if (index >= 0) this.queue.splice(index, 1);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const executor = this.pool.acquire();
      if (executor === undefined) return;
      void this.runner.run(executor, new Batch([this.queue.shift()!]));
    }
  }
}
