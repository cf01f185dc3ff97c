const MIN_CLASS_BYTES = 1024;
const MAX_PER_CLASS = 8;

/**
 * A bounded pool of staging buffers for batch inputs. Buffers travel to an instance's
 * worker by transfer and come back with the result, so steady traffic allocates nothing.
 * Sizes are rounded up to powers of two; at most `maxBytes` are kept. Main thread only.
 */
export class StagingPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private pooledBytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** A buffer of at least `byteLength` bytes, owned by the caller until `give`. */
  take(byteLength: number): ArrayBuffer {
    const size = sizeClass(byteLength);
    const buffer = this.free.get(size)?.pop();
    if (buffer === undefined) return new ArrayBuffer(size);
    this.pooledBytes -= size;
    return buffer;
  }

  /** Returns a buffer for reuse; dropped when the pool is full or the buffer was detached. */
  give(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    if (size === 0 || size !== sizeClass(size) || this.pooledBytes + size > this.maxBytes) return;
    const list = this.free.get(size) ?? [];
    if (list.length >= MAX_PER_CLASS) return;
    list.push(buffer);
    this.free.set(size, list);
    this.pooledBytes += size;
  }

  /** Bytes currently kept for reuse. */
  get retainedBytes(): number {
    return this.pooledBytes;
  }
}

function sizeClass(byteLength: number): number {
  let size = MIN_CLASS_BYTES;
  while (size < byteLength) size *= 2;
  return size;
}
