import { InferError } from '../core/errors.js';
import type { Executor } from '../core/execution.js';
import { precisionOf } from '../core/precision.js';
import type { Logger } from '../core/logger.js';
import type { ExecutionObserver } from '../core/telemetry.js';
import type { RunnableBatch } from './runnable-batch.js';
import type { Clock } from './clock.js';
import type { StagingPool } from './staging-pool.js';
import type { StatisticsRecorder } from './statistics-recorder.js';

/**
 * Runs formed batches on leased instances, for every scheduler: assembly into staging
 * buffers, execution on the instance's worker, the split back into responses, staging
 * buffers returned to the pool, and the statistics of each phase. Main thread only.
 */
export class BatchRunner {
  private running = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly staging: StagingPool,
    private readonly stats: StatisticsRecorder,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly observer?: ExecutionObserver,
  ) {}

  /** Runs `batch` on `executor`; never rejects (failures settle the batch's requests). */
  async run(executor: Executor, batch: RunnableBatch): Promise<void> {
    this.running += 1;
    const dispatchAt = this.clock.now();
    let leased = true;
    // The lease goes back once the staging buffers are back, so the batch that the pool's
    // idle call lets the scheduler form next can reuse them.
    const release = () => {
      if (!leased) return;
      leased = false;
      executor.release();
    };
    try {
      const execution = batch.assemble(this.staging);
      const assembled = this.clock.now();
      const result = await executor.execute(execution);
      const received = this.clock.now();
      for (const buffer of result.inputBuffers) this.staging.give(buffer);
      release();
      const answered = batch.complete(result);
      const end = this.clock.now();
      const timing = {
        dispatchAt,
        computeStart: result.compute.start,
        computeEnd: result.compute.end,
        end,
        mainThreadMs: assembled - dispatchAt + (end - received),
      };
      this.stats.recordExecution(batch.size, batch.entries.length, answered, timing, Date.now(), precisionOf(execution.variant));
      this.observer?.onExecution({
        model: batch.model.name,
        version: batch.model.version,
        instance: executor.instanceName,
        executionProvider: executor.executionProvider,
        deviceId: executor.deviceId,
        variant: execution.variant,
        items: batch.size,
        requests: batch.entries.map((entry) => ({
          id: entry.request.request.id,
          trace: entry.request.request.trace,
          receivedAt: entry.receivedAt,
          enqueuedAt: entry.enqueuedAt,
          answered: answered.includes(entry),
        })),
        dispatchAt,
        computeStart: timing.computeStart,
        computeEnd: timing.computeEnd,
        end,
      });
    } catch (err) {
      const error = InferError.from(err);
      if (error.code === 'INTERNAL') this.logger.error({ err: error.message, instance: executor.instanceName, batch: batch.size }, 'execution failed');
      batch.fail(error);
    } finally {
      release();
      this.running -= 1;
      if (this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Resolves when no batch is running. */
  whenIdle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
