import { CachingServable } from './cache/caching-servable.js';
import { decideCacheUse } from './cache/cache-use.js';
import type { ResponseCache } from './cache/response-cache.js';
import type { Logger } from './core/logger.js';
import type { ProfileGate } from './core/profiling.js';
import type { Servable } from './core/servable.js';
import type { CacheObserver, ExecutionObserver } from './core/telemetry.js';
import { InstancePool } from './instance/instance-pool.js';
import { spawnInstanceWorker } from './instance/worker-port.js';
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

/** The server's response cache and who hears of its lookups; absent without --cache-config. */
export interface ServableCache {
  readonly cache: ResponseCache;
  readonly observer?: CacheObserver;
}

/**
 * Wiring for one model version: its instances (worker threads), the scheduler that feeds
 * them (sequence batcher, dynamic batcher or FIFO, as the config says) and its statistics. The version is
 * ready only when every instance has loaded. A version whose config enables
 * `response_cache` gets the cache in front of its scheduler (cache/caching-servable.ts);
 * the others are not wrapped at all.
 */
export async function createServable(spec: ServableSpec, logger: Logger, observer?: ExecutionObserver, cache?: ServableCache, profileGate?: ProfileGate): Promise<Servable> {
  const cacheUse = decideCacheUse({
    model: spec.info.name,
    enabled: spec.config.responseCache?.enable === true,
    decoupled: spec.info.decoupled === true,
    scheduling: spec.scheduling.kind,
    serverCache: cache !== undefined,
  });
  if (!cacheUse.use && cacheUse.warning !== undefined) logger.warn(cacheUse.warning);
  const pool = new InstancePool(spec.instances, spec.backend, logger, spawnInstanceWorker, spec.warmup, profileGate);
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
  const servable: Servable = {
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
  return cacheUse.use && cache !== undefined ? new CachingServable(servable, cache.cache, cache.observer) : servable;
}
