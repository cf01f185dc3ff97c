import { PRECISIONS, type Precision } from '../core/precision.js';
import type { DurationStat, ModelStatisticsSnapshot, PhaseStatistics } from '../core/statistics.js';

interface Totals {
  /** Hits: requests answered from the cache; their request and queue durations. */
  hit: { count: number; ns: bigint };
  hitSuccessNs: bigint;
  hitQueueNs: bigint;
  /** Misses that were computed and offered to the cache: lookup + insertion. */
  miss: { count: number; ns: bigint };
  /** Insertion time, added to the request duration of misses (it follows the execution). */
  missInsertNs: bigint;
}

const totals = (): Totals => ({ hit: { count: 0, ns: 0n }, hitSuccessNs: 0n, hitQueueNs: 0n, miss: { count: 0, ns: 0n }, missInsertNs: 0n });
const NONE: DurationStat = { count: 0, ns: 0n };
const NO_PHASES: PhaseStatistics = {
  inferenceCount: 0,
  executionCount: 0,
  success: NONE,
  fail: NONE,
  queue: NONE,
  computeInput: NONE,
  computeInfer: NONE,
  computeOutput: NONE,
};
const ns = (ms: number) => BigInt(Math.max(0, Math.round(ms * 1e6)));

/**
 * One model version's response-cache statistics, merged into the scheduler's statistics
 * with Triton's rules (infer_stats.cc): a hit counts as a successful request with its
 * whole duration and a queue time (until its lookup started), adds to `cache_hit`, and adds
 * nothing to the compute phases, `inference_count` or `execution_count`; a miss adds its
 * lookup and insertion time to `cache_miss` and the insertion time to the request duration.
 * Per precision alike. Main thread only.
 */
export class CacheStatistics {
  private readonly all = totals();
  private readonly byPrecision = new Map<Precision, Totals>();

  /** A hit: received at `receivedAt`, looked up from `lookupStart` to `end` (ms since the epoch). */
  recordHit(precision: Precision, receivedAt: number, lookupStart: number, end: number): void {
    for (const t of [this.all, this.scoped(precision)]) {
      t.hit.count += 1;
      t.hit.ns += ns(end - lookupStart);
      t.hitSuccessNs += ns(end - receivedAt);
      t.hitQueueNs += ns(lookupStart - receivedAt);
    }
  }

  /** A computed response offered to the cache: its lookup and insertion durations (ms). */
  recordMiss(precision: Precision, lookupMs: number, insertMs: number): void {
    for (const t of [this.all, this.scoped(precision)]) {
      t.miss.count += 1;
      t.miss.ns += ns(lookupMs + insertMs);
      t.missInsertNs += ns(insertMs);
    }
  }

  /**
   * The scheduler's snapshot with the cache's share added. A precision served only from the
   * cache since the version loaded has no scheduler entry and gets one, in fp32, fp16, int8
   * order.
   */
  merge(snapshot: ModelStatisticsSnapshot): ModelStatisticsSnapshot {
    const byName = new Map(snapshot.precisions.map((p) => [p.precision, p]));
    const precisions = PRECISIONS.filter((p) => byName.has(p) || this.byPrecision.has(p)).map((precision) =>
      add(byName.get(precision) ?? { precision, ...NO_PHASES }, this.byPrecision.get(precision) ?? totals()),
    );
    return { ...add(snapshot, this.all), precisions };
  }

  private scoped(precision: Precision): Totals {
    let t = this.byPrecision.get(precision);
    if (t === undefined) {
      t = totals();
      this.byPrecision.set(precision, t);
    }
    return t;
  }
}

function add<T extends PhaseStatistics>(phases: T, t: Totals): T {
  const plus = (d: DurationStat, count: number, extra: bigint): DurationStat => ({ count: d.count + count, ns: d.ns + extra });
  return {
    ...phases,
    success: plus(phases.success, t.hit.count, t.hitSuccessNs + t.missInsertNs),
    queue: plus(phases.queue, t.hit.count, t.hitQueueNs),
    cacheHit: { count: t.hit.count, ns: t.hit.ns },
    cacheMiss: { count: t.miss.count, ns: t.miss.ns },
  };
}
