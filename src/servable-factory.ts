import type { Logger } from './core/logger.js';
import type { Servable } from './core/servable.js';
import { InstancePool } from './instance/instance-pool.js';
import type { ServableSpec } from './repository/model-registry.js';
import { FifoScheduler } from './scheduler/fifo-scheduler.js';
import { StagingPool } from './scheduler/staging-pool.js';

/** Staging buffers kept per model version for reuse. */
const STAGING_POOL_BYTES = 64 * 1024 * 1024;

/**
 * Wiring for one model version: its instances (worker threads) and the scheduler that
 * feeds them. The version is ready only when every instance has loaded.
 */
export async function createServable(spec: ServableSpec, logger: Logger): Promise<Servable> {
  const pool = new InstancePool(spec.instances, spec.backend, logger);
  await pool.start();
  const scheduler = new FifoScheduler(pool, new StagingPool(STAGING_POOL_BYTES), logger);
  return {
    infer: (request, signal) => scheduler.enqueue(request, signal),
    inflight: () => scheduler.inflight(),
    instances: () => pool.statuses(),
    crashInstance: (name: string) => pool.crash(name),
    async stop() {
      await scheduler.stop();
      await pool.stop();
    },
  };
}
