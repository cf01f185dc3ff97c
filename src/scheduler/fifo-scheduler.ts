import { InferError } from '../core/errors.js';
import type { ExecutorPool, Executor } from '../core/execution.js';
import type { InferResponse } from '../core/infer-request.js';
import type { Logger } from '../core/logger.js';
import type { ValidatedRequest } from '../core/request-validation.js';
import { Batch } from './batch.js';
import { abortReason, PendingRequest } from './pending-request.js';
import type { Scheduler } from './scheduler.js';
import type { StagingPool } from './staging-pool.js';

/**
 * First in, first out, one request per execution: the scheduler for models without
 * dynamic batching. Sole owner of its queue. Whenever an instance is idle the oldest
 * live request goes to it; requests aborted while queued are dropped without running.
 */
export class FifoScheduler implements Scheduler {
  private readonly queue: PendingRequest[] = [];
  private running = 0;
  private stopped = false;
  private readonly drained: (() => void)[] = [];

  constructor(
    private readonly pool: ExecutorPool,
    private readonly staging: StagingPool,
    private readonly logger: Logger,
  ) {
    pool.onIdle(() => this.pump());
  }

  enqueue(request: ValidatedRequest, signal: AbortSignal): Promise<InferResponse> {
    if (this.stopped) return Promise.reject(new InferError('SERVER_STOPPING', 'the model is being unloaded'));
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      this.queue.push(new PendingRequest(request, signal, resolve, reject, (p) => this.remove(p)));
      this.pump();
    });
  }

  inflight(): number {
    return this.queue.length + this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const pending of this.queue.splice(0)) pending.fail(new InferError('SERVER_STOPPING', 'the model is being unloaded'));
    if (this.running > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  private remove(pending: PendingRequest): void {
    const index = this.queue.indexOf(pending);
    if (index >= 0) this.queue.splice(index, 1);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const executor = this.pool.acquire();
      if (executor === undefined) return;
      const pending = this.queue.shift()!;
      void this.run(executor, new Batch([pending]));
    }
  }

  private async run(executor: Executor, batch: Batch): Promise<void> {
    this.running += 1;
    try {
      let execution;
      try {
        execution = batch.assemble(this.staging);
      } catch (err) {
        executor.release();
        throw err;
      }
      const result = await executor.execute(execution);
      for (const buffer of result.inputBuffers) this.staging.give(buffer);
      batch.complete(result);
    } catch (err) {
      const error = InferError.from(err);
      if (error.code === 'INTERNAL') this.logger.error({ err: error.message, instance: executor.instanceName }, 'execution failed');
      batch.fail(error);
    } finally {
      this.running -= 1;
      if (this.running === 0) for (const resolve of this.drained.splice(0)) resolve();
    }
  }
}
