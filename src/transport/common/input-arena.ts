import type { ValidatedInput, ValidatedRequest } from '../../core/request-validation.js';

/** Requests whose inputs total less than this keep views of their message (copying costs more than it saves). */
export const MIN_COPY_BYTES = 32 * 1024;
const MIN_CLASS_BYTES = 64 * 1024;

/** Pooled input memory one front door keeps between requests. */
export const INPUT_ARENA_BYTES = 64 * 1024 * 1024;

/**
 * Pooled memory for the inputs of large requests while they wait for their batch.
 *
 * Why: raw inputs are views of the received message, which keeps the whole message alive
 * until the call is answered. A request that waits in the queue across a scavenge gets
 * its buffer promoted to the old generation, where only a full mark-compact frees it; at
 * ocr_cls's 110 KB per request this made V8 run a mark-compact about every second
 * ("external memory pressure"), about a third of the main thread. Copying the inputs
 * once into a pooled buffer lets the message die young, and the pooled buffers are never
 * freed, so they put no pressure on the collector.
 *
 * A buffer goes back to the pool only when its call has been answered: the scheduler
 * reads a request's inputs only until its batch is assembled, and nothing reads them
 * after the request settled. gRPC copies a decoded request's inputs in (`hold`); HTTP
 * reads a large body straight into a pooled buffer (`take`), so its binary inputs, views
 * of the body, are pooled without a copy of their own. Main thread only; one arena per
 * front door.
 */
export class InputArena {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private pooledBytes = 0;

  constructor(private readonly maxPooledBytes: number) {}

  /**
   * `request` with its inputs copied into one pooled buffer, and the function that gives
   * the buffer back (call it once the call is answered). Small requests, and sequence
   * requests (whose batcher keeps requests across executions), come back as they are.
   */
  hold(request: ValidatedRequest): { request: ValidatedRequest; release(): void } {
    let total = 0;
    for (const input of request.inputs) total += input.tensor.data.byteLength;
    if (total < MIN_COPY_BYTES || request.sequence.id !== undefined) return { request, release: noop };
    const { bytes, release } = this.take(total);
    // Every view of the message goes: the validated tensors and the decoded request's own.
    const copies = new Map<Uint8Array, Uint8Array>();
    let offset = 0;
    for (const input of request.inputs) {
      const data = input.tensor.data;
      bytes.set(data, offset);
      copies.set(data, bytes.subarray(offset, offset + data.byteLength));
      offset += data.byteLength;
    }
    const copyOf = (data: Uint8Array) => copies.get(data) ?? data;
    const inputs: ValidatedInput[] = request.inputs.map((input) => ({ ...input, tensor: { ...input.tensor, data: copyOf(input.tensor.data) } }));
    const decoded = { ...request.request, inputs: request.request.inputs.map((t) => ({ ...t, data: copyOf(t.data) })) };
    return { request: { ...request, request: decoded, inputs }, release };
  }

  /**
   * A pooled buffer of `byteLength` bytes (a view of the first `byteLength` bytes of a
   * pooled ArrayBuffer, contents undefined), or undefined below the size worth pooling,
   * and the function that gives it back (once; later calls do nothing). Whoever takes it
   * gives it back only once nothing reads it any more, or never: a buffer not given back
   * is garbage like any other.
   */
  take(byteLength: number): { bytes: Buffer; release(): void };
  take(byteLength: number, minBytes: number): { bytes: Buffer; release(): void } | undefined;
  take(byteLength: number, minBytes = 0): { bytes: Buffer; release(): void } | undefined {
    if (byteLength < minBytes) return undefined;
    const size = sizeClass(byteLength);
    const pooled = this.free.get(size)?.pop();
    if (pooled !== undefined) this.pooledBytes -= size;
    const buffer = pooled ?? new ArrayBuffer(size);
    let released = false;
    return {
      bytes: Buffer.from(buffer, 0, byteLength),
      release: () => {
        if (released) return;
        released = true;
        this.give(buffer);
      },
    };
  }

  /** Bytes kept for reuse. */
  get retainedBytes(): number {
    return this.pooledBytes;
  }

  private give(buffer: ArrayBuffer): void {
    if (this.pooledBytes + buffer.byteLength > this.maxPooledBytes) return;
    const list = this.free.get(buffer.byteLength) ?? [];
    list.push(buffer);
    this.free.set(buffer.byteLength, list);
    this.pooledBytes += buffer.byteLength;
  }
}

function noop(): void {}

function sizeClass(byteLength: number): number {
  let size = MIN_CLASS_BYTES;
  while (size < byteLength) size *= 2;
  return size;
}
