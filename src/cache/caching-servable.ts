import type { CancelSignal } from '../core/cancel-signal.js';
import { nowMs } from '../core/execution.js';
import type { InferResponse, ResponseSink } from '../core/infer-request.js';
import type { ValidatedRequest } from '../core/request-validation.js';
import type { Servable } from '../core/servable.js';
import type { CacheObserver } from '../core/telemetry.js';
import { responseCacheKey } from './cache-key.js';
import { CacheStatistics } from './cache-statistics.js';
import type { ResponseCache } from './response-cache.js';

/**
 * Puts the response cache in front of a model version's scheduler: the hook where a
 * validated request enters the version, whatever transport decoded it. A hit is answered
 * at once from the cache and never reaches the scheduler; a miss runs as usual, and its
 * response is then stored. Only successful responses are stored. Concurrent identical
 * misses each run (as in Triton); the last to finish leaves its copy.
 *
 * Only versions whose config enables `response_cache` on a server with a cache get this
 * wrapper (servable-factory.ts), so every other request pays nothing for the cache. Main
 * thread only.
 */
export class CachingServable implements Servable {
  private readonly stats = new CacheStatistics();

  constructor(
    private readonly inner: Servable,
    private readonly cache: ResponseCache,
    private readonly observer?: CacheObserver,
  ) {}

  infer(request: ValidatedRequest, signal: CancelSignal, sink?: ResponseSink): Promise<InferResponse> {
    const start = nowMs();
    const key = responseCacheKey(request);
    const hit = this.cache.lookup(key);
    const end = nowMs();
    const { name, version } = request.model;
    this.observer?.onCacheLookup({ model: name, version, requestId: request.request.id, trace: request.request.trace, hit: hit !== undefined, start, end });
    if (hit !== undefined) {
      this.stats.recordHit(request.precision, request.request.receivedAt ?? start, start, end);
      // The id is this request's own; the outputs are shared views nobody writes to.
      return Promise.resolve({ id: request.request.id, modelName: name, modelVersion: hit.modelVersion, outputs: hit.outputs });
    }
    return this.inner.infer(request, signal, sink).then((response) => {
      const insertStart = nowMs();
      this.cache.insert(key, response);
      this.stats.recordMiss(request.precision, end - start, nowMs() - insertStart);
      return response;
    });
  }

  pending(): number {
    return this.inner.pending();
  }

  instances() {
    return this.inner.instances();
  }

  statistics() {
    return this.stats.merge(this.inner.statistics());
  }

  sequences() {
    return this.inner.sequences?.();
  }

  crashInstance(name: string): void {
    this.inner.crashInstance(name);
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }
}
