/** What decides whether a model version uses the response cache. */
export interface CacheUseInput {
  readonly model: string;
  /** The config's `response_cache { enable: true }`. */
  readonly enabled: boolean;
  readonly decoupled: boolean;
  readonly scheduling: 'fifo' | 'dynamic' | 'sequence';
  /** The server has a cache (`--cache-config local,size=N`). */
  readonly serverCache: boolean;
}

/** The decision: use the cache or not, and a load-time warning when the config asked for it in vain. */
export type CacheUse = { readonly use: true } | { readonly use: false; readonly warning?: string };

/**
 * Triton's rules for the response cache: a model uses it only when its config enables it
 * and the server has a cache; the default and dynamic batchers' models only (a sequence's
 * requests depend on the state before them, so the sequence batcher never caches, with a
 * warning here where Triton is silent); a decoupled model that enables it fails to load,
 * with Triton's message. Throws Error for that refusal.
 */
export function decideCacheUse(input: CacheUseInput): CacheUse {
  if (!input.enabled) return { use: false };
  if (input.decoupled) {
    throw new Error(`Response Cache does not currently support model ${input.model} with 'decoupled' transaction policy`);
  }
  if (input.scheduling === 'sequence') {
    return { use: false, warning: 'response_cache is enabled, but sequence models are never cached (each answer depends on the sequence\'s state, as in Triton); every request is computed' };
  }
  if (!input.serverCache) {
    return { use: false, warning: 'response_cache is enabled, but the server has no cache (start it with --cache-config local,size=<bytes>); every request is computed' };
  }
  return { use: true };
}
