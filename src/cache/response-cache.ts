import type { Tensor } from '../core/tensor.js';

/** A computed response as the cache keeps it: the version that ran and its outputs. */
export interface CachedResponse {
  readonly modelVersion: string;
  /** Outputs over the entry's own buffer; nobody writes to them. */
  readonly outputs: readonly Tensor[];
}

/** Cache-wide counters, for Triton's local-cache metrics (nv_cache_*). */
export interface ResponseCacheCounters {
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly entries: number;
  readonly lookups: number;
  readonly hits: number;
  readonly misses: number;
  readonly insertions: number;
  readonly evictions: number;
  /** Cumulative time in lookups and insertions (copies included), in nanoseconds. */
  readonly lookupNs: bigint;
  readonly insertionNs: bigint;
}

interface Entry {
  readonly response: CachedResponse;
  readonly bytes: number;
}

/**
 * What an entry is charged besides its output bytes: the Map slot, the entry and response
 * objects and the key (a rough figure, so that many tiny entries cannot exceed the size).
 */
const ENTRY_OVERHEAD_BYTES = 256;
/** Per output: its Tensor object, name, datatype and shape. */
const TENSOR_OVERHEAD_BYTES = 96;

/**
 * Triton's `local` response cache: one store of computed responses shared by every model
 * that enables it, bounded by bytes (`--cache-config local,size=N`) and evicting the least
 * recently used entries to make room. A Map keeps the order: a hit deletes and re-inserts
 * its entry, so the first key is always the least recently used. An entry larger than the
 * whole cache is not stored. Responses are copied in once, into one buffer per entry, so
 * an entry never keeps a batch's or a message's buffers alive. Main thread only.
 */
export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private used = 0;
  private lookups = 0;
  private hits = 0;
  private insertions = 0;
  private evictions = 0;
  private lookupNs = 0n;
  private insertionNs = 0n;

  constructor(readonly capacityBytes: number) {}

  /** The response stored under `key`, now the most recently used; undefined on a miss. */
  lookup(key: string): CachedResponse | undefined {
    const start = process.hrtime.bigint();
    this.lookups += 1;
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.hits += 1;
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    this.lookupNs += process.hrtime.bigint() - start;
    return entry?.response;
  }

  /**
   * Stores a copy of `response` under `key`, evicting least recently used entries until it
   * fits. Returns false when it is larger than the whole cache (nothing is evicted then).
   */
  insert(key: string, response: CachedResponse): boolean {
    const start = process.hrtime.bigint();
    try {
      const bytes = entryBytes(key, response);
      if (bytes > this.capacityBytes) return false;
      const previous = this.entries.get(key);
      if (previous !== undefined) {
        // A concurrent identical request computed it too: keep one copy, the newest.
        this.entries.delete(key);
        this.used -= previous.bytes;
      }
      for (const [oldest, entry] of this.entries) {
        if (this.used + bytes <= this.capacityBytes) break;
        this.entries.delete(oldest);
        this.used -= entry.bytes;
        this.evictions += 1;
      }
      this.entries.set(key, { response: copy(response), bytes });
      this.used += bytes;
      this.insertions += 1;
      return true;
    } finally {
      this.insertionNs += process.hrtime.bigint() - start;
    }
  }

  counters(): ResponseCacheCounters {
    return {
      capacityBytes: this.capacityBytes,
      usedBytes: this.used,
      entries: this.entries.size,
      lookups: this.lookups,
      hits: this.hits,
      misses: this.lookups - this.hits,
      insertions: this.insertions,
      evictions: this.evictions,
      lookupNs: this.lookupNs,
      insertionNs: this.insertionNs,
    };
  }
}

/** The bytes an entry is charged: its outputs' data plus fixed overheads. */
export function entryBytes(key: string, response: CachedResponse): number {
  let bytes = ENTRY_OVERHEAD_BYTES + key.length + response.modelVersion.length;
  for (const tensor of response.outputs) bytes += TENSOR_OVERHEAD_BYTES + tensor.name.length + 8 * tensor.shape.length + tensor.data.byteLength;
  return bytes;
}

/** One buffer for all outputs, so the entry owns exactly what it is charged for. */
function copy(response: CachedResponse): CachedResponse {
  const total = response.outputs.reduce((sum, t) => sum + t.data.byteLength, 0);
  const buffer = new Uint8Array(total);
  let offset = 0;
  const outputs = response.outputs.map((tensor) => {
    buffer.set(tensor.data, offset);
    const data = buffer.subarray(offset, offset + tensor.data.byteLength);
    offset += tensor.data.byteLength;
    return { name: tensor.name, datatype: tensor.datatype, shape: [...tensor.shape], data };
  });
  return { modelVersion: response.modelVersion, outputs };
}
