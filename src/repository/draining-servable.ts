import type { CancelSignal } from '../core/cancel-signal.js';
import type { InferResponse, ResponseSink } from '../core/infer-request.js';
import type { ValidatedRequest } from '../core/request-validation.js';
import type { Servable } from '../core/servable.js';

/**
 * A Servable that counts the requests it accepted and can be retired without failing
 * any of them: the registry stops routing new requests to a version first (it is no
 * longer READY), then `retire` waits until every accepted request has its answer (queued
 * ones included) and only then stops the instances and frees the scheduler's buffers.
 * The transport calls `infer` in the same turn of the event loop as the registry lookup,
 * so no request can slip in between. Main thread only.
 */
export class DrainingServable implements Servable {
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(private readonly inner: Servable) {}

  infer(request: ValidatedRequest, signal: CancelSignal, sink?: ResponseSink): Promise<InferResponse> {
    this.inFlight += 1;
    return this.inner.infer(request, signal, sink).finally(() => {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
    });
  }

  /** Requests accepted and not yet answered. */
  accepted(): number {
    return this.inFlight;
  }

  pending(): number {
    return this.inner.pending();
  }

  instances() {
    return this.inner.instances();
  }

  statistics() {
    return this.inner.statistics();
  }

  /** Sequence models: active sequences and their implicit state's bytes; undefined for other models. */
  sequences(): { readonly active: number; readonly stateBytes: number } | undefined {
    return this.inner.sequences?.();
  }

  crashInstance(name: string): void {
    this.inner.crashInstance(name);
  }

  /** Stops at once: running requests finish, queued ones fail (server shutdown). */
  stop(): Promise<void> {
    return this.inner.stop();
  }

  /** Waits for every accepted request to be answered, then stops (unload and reload). */
  async retire(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    await this.inner.stop();
  }
}
