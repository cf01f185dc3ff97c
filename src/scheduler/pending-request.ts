import type { CancelSignal } from '../core/cancel-signal.js';
import { InferError } from '../core/errors.js';
import type { InferResponse, ResponseSink } from '../core/infer-request.js';
import type { ValidatedRequest } from '../core/request-validation.js';
import type { Clock } from './clock.js';

export interface PendingRequestOptions {
  readonly request: ValidatedRequest;
  readonly signal: CancelSignal;
  readonly clock: Clock;
  resolve(response: InferResponse): void;
  reject(err: InferError): void;
  /** The signal aborted before the request settled (it has already been failed). */
  onAbort(pending: PendingRequest): void;
  /** Runs once when the request fails, for statistics. */
  onFailed?(pending: PendingRequest, err: InferError): void;
  /** Decoupled models: where the request's responses go (see `respond`). */
  readonly sink?: ResponseSink | undefined;
}

/**
 * A request waiting in, or leaving, a scheduler's queue: its promise, its abort signal
 * and its timestamps. Settles exactly once; after the signal aborts, a late result is
 * dropped. Main thread only.
 */
export class PendingRequest {
  readonly request: ValidatedRequest;
  readonly signal: CancelSignal;
  /** When the scheduler accepted it (ms since the epoch). */
  readonly enqueuedAt: number;
  private settled = false;
  private key: string | undefined;
  private readonly abortListener: () => void;

  constructor(private readonly options: PendingRequestOptions) {
    this.request = options.request;
    this.signal = options.signal;
    this.enqueuedAt = options.clock.now();
    this.abortListener = () => {
      this.fail(abortReason(this.signal));
      options.onAbort(this);
    };
    if (this.signal.aborted) queueMicrotask(this.abortListener);
    else this.signal.addEventListener('abort', this.abortListener, { once: true });
  }

  /**
   * Memory holding it costs, near enough: its message's bytes (raw tensors are views that
   * keep the whole message alive), or its tensors' bytes when those are more (inputs read
   * from shared memory or converted from typed contents are copies of their own).
   */
  get bytes(): number {
    const request = this.request;
    const tensors = request.inputs.reduce((sum, input) => sum + input.tensor.data.byteLength, 0);
    return Math.max(request.request.messageBytes ?? 0, tensors);
  }

  /** When the transport received it, or when it was enqueued if unknown. */
  get receivedAt(): number {
    return this.request.request.receivedAt ?? this.enqueuedAt;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /**
   * Requests with equal keys may share a batch: the same model variant, and the same
   * inputs with the same non-batch shapes and datatypes.
   */
  get shapeKey(): string {
    this.key ??= `${this.request.variant}|${this.request.inputs.map((i) => `${i.tensor.name}:${i.tensor.datatype}:${i.modelShape.slice(1).join('x')}`).join('|')}`;
    return this.key;
  }

  succeed(response: InferResponse): void {
    if (this.finish()) this.options.resolve(response);
  }

  /**
   * One response of a decoupled request: handed to the sink, unless the request already
   * settled (cancelled); the final one also settles the request, with an empty response
   * when the model sent only the final flag.
   */
  respond(response: InferResponse | undefined, final: boolean): void {
    if (this.settled) return;
    this.options.sink?.(response, final);
    if (!final) return;
    const request = this.request.request;
    const model = this.request.model;
    this.succeed(response ?? { id: request.id, modelName: model.name, modelVersion: String(model.version), outputs: [] });
  }

  fail(err: InferError): void {
    if (!this.finish()) return;
    this.options.onFailed?.(this, err);
    this.options.reject(err);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.signal.removeEventListener('abort', this.abortListener);
    return true;
  }
}

/** The InferError an aborted signal carries (the transport sets one), or a generic cancel. */
export function abortReason(signal: CancelSignal): InferError {
  return signal.reason instanceof InferError ? signal.reason : new InferError('REQUEST_CANCELLED', 'request cancelled');
}
