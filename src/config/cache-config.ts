import { ConfigError } from './config-error.js';

/** The response cache (Triton's `local` cache): its size in bytes; undefined = no cache. */
export interface CacheConfig {
  readonly sizeBytes: number;
}

/** The largest size accepted: a Map of entries in this process, so JavaScript's safe integers bound it. */
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

/**
 * Reads Triton's `--cache-config <cache>,<key>=<value>` entries (one setting per flag, the
 * flag repeated for several). Only the `local` cache exists here, and its one setting is
 * `size` in bytes; another cache (Triton's `redis`) or key stops start-up, since its
 * promise cannot be kept. No entry means no cache: models that enable `response_cache`
 * then compute every request, as in Triton. Throws ConfigError naming the entry.
 */
export function readCacheConfig(entries: readonly string[], flag: string): CacheConfig | undefined {
  let size: number | undefined;
  for (const entry of entries) {
    const match = /^([^,=]+),([^,=]+)=(.*)$/.exec(entry.trim());
    if (match === null) throw new ConfigError(`invalid value '${entry}' for ${flag}: expected <cache>,<key>=<value>, e.g. local,size=1048576`);
    const [, cache, key, value] = match as unknown as [string, string, string, string];
    if (cache !== 'local') {
      throw new ConfigError(`${flag} ${entry} cannot be honoured: Nereid has only the 'local' cache (in-process, LRU by bytes); '${cache}' is not available`);
    }
    if (key !== 'size') throw new ConfigError(`${flag} ${entry}: the local cache has one setting, size=<bytes>; '${key}' is unknown`);
    const bytes = Number(value);
    if (!/^\d+$/.test(value) || bytes < 1 || bytes > MAX_SIZE) throw new ConfigError(`invalid value '${entry}' for ${flag}: size must be a whole number of bytes, at least 1`);
    size = bytes;
  }
  return size === undefined ? undefined : { sizeBytes: size };
}
