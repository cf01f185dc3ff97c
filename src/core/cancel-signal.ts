/**
 * A call's deadline and its cancellation by the client, as one signal (the design's "one
 * AbortSignal"). It is the part of AbortSignal the schedulers use, so a DOM AbortSignal
 * is one (tests use AbortController); the transport uses {@link CancelSource}, which
 * skips the EventTarget machinery (an AbortController, its signal and an event listener
 * per request cost the main thread several microseconds and a dozen objects per call).
 * Main thread only.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  /** Why it aborted: the transport sets an InferError (DEADLINE_EXCEEDED, REQUEST_CANCELLED). */
  readonly reason: unknown;
  /** `listener` runs once, when the signal aborts (never if it already has). */
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A CancelSignal and its trigger, without EventTarget: listeners are kept in one slot
 * (one request per unary call) or a set (the requests of a stream), and each runs once.
 * Main thread only.
 */
export class CancelSource implements CancelSignal {
  private abortedWith: { reason: unknown } | undefined;
  private one: (() => void) | undefined;
  private many: Set<() => void> | undefined;

  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  get reason(): unknown {
    return this.abortedWith?.reason;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.abortedWith !== undefined) return;
    if (this.many !== undefined) this.many.add(listener);
    else if (this.one === undefined) this.one = listener;
    else if (this.one !== listener) {
      this.many = new Set([this.one, listener]);
      this.one = undefined;
    }
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.one === listener) this.one = undefined;
    else this.many?.delete(listener);
  }

  /** Aborts with `reason` and runs every listener once; later calls do nothing. */
  abort(reason: unknown): void {
    if (this.abortedWith !== undefined) return;
    this.abortedWith = { reason };
    const one = this.one;
    const many = this.many;
    this.one = undefined;
    this.many = undefined;
    one?.();
    if (many !== undefined) for (const listener of many) listener();
  }
}
