import type { Logger } from './core/logger.js';
import type { Servable } from './core/servable.js';
import type { ExecutionObserver } from './core/telemetry.js';
import { InstancePool } from './instance/instance-pool.js';
import type { ServableSpec } from './repository/model-registry.js';
import { BatchRunner } from './scheduler/batch-runner.js';
import { systemClock } from './scheduler/clock.js';
import { DynamicBatcher } from './scheduler/dynamic-batcher.js';
import { FifoScheduler } from './scheduler/fifo-scheduler.js';
import type { Scheduler } from './scheduler/scheduler.js';
import { SequenceBatcher } from './scheduler/sequence-batcher.js';
import { StagingPool } from './scheduler/staging-pool.js';
import { StatisticsRecorder } from './scheduler/statistics-recorder.js';

/** Staging buffers kept per model version for reuse. */
const STAGING_POOL_BYTES = 64 * 1024 * 1024;

/**
 * Wiring for one model version: its instances (worker threads), the scheduler that feeds
 * them (sequence batcher, dynamic batcher or FIFO, as the config says) and its statistics. The version is
 * ready only when every instance has loaded.
 */
export async function createServable(spec: ServableSpec, logger: Logger, observer?: ExecutionObserver): Promise<Servable> {
  const pool = new InstancePool(spec.instances, spec.backend, logger);
  await pool.start();
  const stats = new StatisticsRecorder();
  const runner = new BatchRunner(new StagingPool(STAGING_POOL_BYTES), stats, systemClock, logger, observer);
  const scheduling = spec.scheduling;
  const scheduler: Scheduler =
    scheduling.kind === 'dynamic'
      ? new DynamicBatcher(pool, runner, scheduling, stats, systemClock, spec.queue)
      : scheduling.kind === 'sequence'
        ? new SequenceBatcher(spec.info.name, pool, runner, scheduling, stats, systemClock, logger)
        : new FifoScheduler(pool, runner, stats, systemClock, spec.queue);
  return {
    infer: (request, signal, sink) => scheduler.enqueue(request, signal, sink),
    pending: () => scheduler.pending(),
    instances: () => pool.statuses(),
    statistics: () => stats.snapshot(),
    ...(scheduler instanceof SequenceBatcher ? { sequences: () => ({ active: scheduler.sequences, stateBytes: scheduler.stateBytes }) } : {}),
    crashInstance: (name: string) => pool.crash(name),
    async stop() {
      await scheduler.stop();
      await pool.stop();
    },
  };
}
