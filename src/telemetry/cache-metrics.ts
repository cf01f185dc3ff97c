import { Gauge, type Registry } from 'prom-client';
import type { ModelStatisticsSnapshot } from '../core/statistics.js';
import { statisticsCounter, us, type MeteredModel } from './metrics.js';

/** The response cache's cache-wide figures, as the metrics read them (cache/response-cache.ts). */
export interface MeteredCache {
  counters(): {
    readonly capacityBytes: number;
    readonly usedBytes: number;
    readonly entries: number;
    readonly lookups: number;
    readonly hits: number;
    readonly misses: number;
    readonly evictions: number;
    readonly lookupNs: bigint;
    readonly insertionNs: bigint;
  };
}


/**
 * Triton's response-cache metrics, read at scrape time. Per model (only versions that use
 * the cache, as Triton creates them only where the cache is enabled):
 * nv_cache_num_hits_per_model, nv_cache_num_misses_per_model and the cumulative
 * nv_cache_hit_duration_per_model and nv_cache_miss_duration_per_model in µs, read from
 * ModelStatistics so both tell the same numbers. Cache-wide, with the names and kinds
 * (gauges) of Triton's local cache: nv_cache_util, nv_cache_num_entries,
 * nv_cache_num_lookups, nv_cache_num_hits, nv_cache_num_misses, nv_cache_num_evictions,
 * nv_cache_lookup_duration and nv_cache_insertion_duration (µs).
 *
 * With `counterLatencies` false (--metrics-config counter_latencies=false) the four per-model
 * counters are left out, counts included: Triton creates them in the same block as the
 * nv_inference_*_duration_us counters (core's MetricModelReporter::InitializeCounters). The
 * cache-wide gauges belong to the cache, not to the model reporter, and stay.
 */
export function registerCacheMetrics(registry: Registry, models: () => Iterable<MeteredModel>, cache: MeteredCache | undefined, counterLatencies = true): void {
  const perModel: [string, string, (s: ModelStatisticsSnapshot) => number | undefined][] = [
    ['nv_cache_num_hits_per_model', 'Number of cache hits per model', (s) => s.cacheHit?.count],
    ['nv_cache_num_misses_per_model', 'Number of cache misses per model', (s) => s.cacheMiss?.count],
    ['nv_cache_hit_duration_per_model', 'Total cache hit duration per model, in microseconds', (s) => (s.cacheHit === undefined ? undefined : us(s.cacheHit.ns))],
    ['nv_cache_miss_duration_per_model', 'Total cache miss (insert+lookup) duration per model, in microseconds', (s) => (s.cacheMiss === undefined ? undefined : us(s.cacheMiss.ns))],
  ];
  for (const [name, help, value] of counterLatencies ? perModel : []) statisticsCounter(registry, models, name, help, value);
  if (cache === undefined) return;
  const cacheWide: [string, string, (c: ReturnType<MeteredCache['counters']>) => number][] = [
    ['nv_cache_util', 'Cache utilization [0.0 - 1.0]', (c) => c.usedBytes / c.capacityBytes],
    ['nv_cache_num_entries', 'Number of responses stored in response cache', (c) => c.entries],
    ['nv_cache_num_lookups', 'Number of cache lookups in response cache', (c) => c.lookups],
    ['nv_cache_num_hits', 'Number of cache hits in response cache', (c) => c.hits],
    ['nv_cache_num_misses', 'Number of cache misses in response cache', (c) => c.misses],
    ['nv_cache_num_evictions', 'Number of cache evictions in response cache', (c) => c.evictions],
    ['nv_cache_lookup_duration', 'Total cache lookup duration (hit and miss), in microseconds', (c) => us(c.lookupNs)],
    ['nv_cache_insertion_duration', 'Total cache insertion duration, in microseconds', (c) => us(c.insertionNs)],
  ];
  for (const [name, help, value] of cacheWide) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(cache.counters()));
      },
    });
  }
}
