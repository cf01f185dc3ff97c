import { InferError } from '../core/errors.js';
import { nowMs } from '../core/execution.js';
import type { InferResponse } from '../core/infer-request.js';
import type { ValidatedRequest } from '../core/request-validation.js';

/**
 * A request waiting in, or leaving, a scheduler's queue: its promise, its abort signal
 * and its timestamps. Settles exactly once; after the signal aborts, a late result is
 * dropped.
 */
export class PendingRequest {
  readonly enqueuedAt = nowMs();
  private settled = false;
  private readonly onAbort: () => void;

  constructor(
    readonly request: ValidatedRequest,
    readonly signal: AbortSignal,
    private readonly resolveFn: (response: InferResponse) => void,
    private readonly rejectFn: (err: InferError) => void,
    onAbort: (pending: PendingRequest) => void,
  ) {
    this.onAbort = () => {
      this.fail(abortReason(signal));
      onAbort(this);
    };
    if (signal.aborted) queueMicrotask(this.onAbort);
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  get isSettled(): boolean {
    return this.settled;
  }

  succeed(response: InferResponse): void {
    if (this.finish()) this.resolveFn(response);
  }

  fail(err: InferError): void {
    if (this.finish()) this.rejectFn(err);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.signal.removeEventListener('abort', this.onAbort);
    return true;
  }
}

/** The InferError an aborted signal carries (the transport sets one), or a generic cancel. */
export function abortReason(signal: AbortSignal): InferError {
  return signal.reason instanceof InferError ? signal.reason : new InferError('REQUEST_CANCELLED', 'request cancelled');
}
