import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { CancelSignal } from '../../core/cancel-signal.js';
import { clip } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import type { InferResponse } from '../../core/infer-request.js';
import type { Logger } from '../../core/logger.js';
import type { RequestTrace } from '../../core/telemetry.js';
import type { ModelInferRequest, ModelStreamInferResponse } from '../../generated/grpc_service.js';
import { admit } from '../common/admission.js';
import type { OutputRegions } from '../common/shm-tensors.js';
import { callSignal } from './call-signal.js';
import { decodeInferRequest } from './infer-codec.js';
import { header, logFailure, logIds } from './request-log.js';
import type { ServiceContext } from './service-context.js';
import { undecodedError, wireBytes } from './request-decoding.js';
import { grpcCode, toServiceError } from './status.js';
import { emptyFinalResponse, responseBytes, streamError, streamResponse } from './stream-codec.js';

/** How much unfinished work one stream may make the server hold before it stops reading from it. */
export interface StreamBounds {
  /** Requests read and not yet answered, plus responses not yet written to the connection. */
  readonly maxPending: number;
  /** Bytes of those: the requests' messages and the unwritten responses (a client that does not read). */
  readonly maxPendingBytes: number;
}

/** The bounds a stream gets: reading stops at 1024 pending requests and responses, or 64 MiB of them. */
export const STREAM_BOUNDS: StreamBounds = { maxPending: 1024, maxPendingBytes: 64 * 1024 * 1024 };

/** One successful request in this many is logged at debug level, as for ModelInfer. */
const SUCCESS_LOG_EVERY = 100;

type Call = ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>;

/**
 * One ModelStreamInfer call. Every request read from it runs as a ModelInfer would
 * (lookup, decode, validation, the model's scheduler), concurrently with the others; a
 * sequence model's scheduler keeps each sequence's requests in order. Each response is
 * written as soon as it is ready, with the request's id; a failed request gets a response
 * with `error_message` and the stream goes on. A decoupled model's responses are written
 * as the model sends them.
 *
 * The call's deadline and cancellation are one CancelSignal shared by its requests, so a
 * cancelled stream drops its queued requests unrun. After the client half-closes, the
 * requests in flight finish, their responses go out, and the stream ends with OK.
 * Back-pressure: when requests in flight plus unwritten responses reach
 * `bounds.maxPending`, or their bytes (request messages, and responses a client that
 * stops reading leaves unwritten) pass `bounds.maxPendingBytes`, the stream stops reading
 * (HTTP/2 flow control then holds the client back) until half of that has drained.
 *
 * Tracing: the stream has a server span, and each request a server span of its own linked
 * to it, with the same phases as a ModelInfer. Main thread only.
 */
export class InferStream {
  private readonly signal: CancelSignal;
  private readonly disposeSignal: () => void;
  private readonly trace: RequestTrace | undefined;
  private inFlight = 0;
  private unsent = 0;
  /** Bytes of the requests in flight and of the responses not yet written. */
  private pendingBytes = 0;
  private paused = false;
  private halfClosed = false;
  private closing: InferError | undefined;
  private ended = false;

  constructor(
    private readonly call: Call,
    private readonly context: ServiceContext,
    private readonly logger: Logger,
    private readonly bounds: StreamBounds,
    private readonly counter: { successes: number },
    private readonly onEnd: () => void,
  ) {
    ({ signal: this.signal, dispose: this.disposeSignal } = callSignal(call));
    this.trace = context.telemetry.startCall({ method: 'ModelStreamInfer', model: '', header: (name) => header(call.metadata, name) });
    call.on('data', (message: ModelInferRequest) => this.receive(message));
    call.on('end', () => {
      this.halfClosed = true;
      this.finishIfDone();
    });
    call.on('cancelled', () => this.end({ code: this.signal.reason instanceof InferError ? this.signal.reason.code : 'CANCELLED', grpcStatus: status.CANCELLED }));
  }

  /** Requests read and not yet answered, and responses not yet written (for tests and shutdown). */
  get pending(): number {
    return this.inFlight + this.unsent;
  }

  /** Server shutdown: later requests are refused, and the stream ends with `error` once those in flight are answered. */
  drain(error: InferError): void {
    this.closing ??= error;
    this.finishIfDone();
  }

  private receive(message: ModelInferRequest): void {
    const messageBytes = wireBytes(message);
    this.inFlight += 1;
    this.pendingBytes += messageBytes;
    this.flow();
    const trace = this.context.telemetry.startCall({
      method: 'ModelStreamInfer',
      model: message.modelName,
      header: (name) => header(this.call.metadata, name),
      link: this.trace,
    });
    let regions: OutputRegions | undefined;
    const run = async (): Promise<InferResponse | undefined> => {
      // A message that did not parse, or was past a request limit, fails as any request does.
      const undecoded = undecodedError(message);
      if (undecoded !== undefined) throw undecoded;
      if (this.closing !== undefined) throw new InferError('SERVER_STOPPING', 'Server is shutting down');
      const admitted = admit(this.context, { modelName: message.modelName, modelVersion: message.modelVersion }, () =>
        decodeInferRequest(message, trace, this.context.sharedMemory),
      );
      const { model, request: validated } = admitted;
      regions = admitted.regions;
      const outputs = regions;
      if (model.info.decoupled !== true) return outputs.write(await model.servable.infer(validated, this.signal));
      await model.servable.infer(validated, this.signal, (response, final) => {
        try {
          if (response !== undefined) this.send(streamResponse(outputs.write(response), final));
          else if (final && validated.emptyFinalResponse) this.send(emptyFinalResponse(message));
        } catch (err) {
          this.send(streamError(message, InferError.from(err)));
        }
      });
      return undefined;
    };
    run()
      .then(
        (response) => {
          if (response !== undefined) this.send(streamResponse(response, true), response.release);
          this.context.telemetry.endCall(trace, { code: 'OK', grpcStatus: status.OK });
          if (++this.counter.successes % SUCCESS_LOG_EVERY === 0) {
            this.logger.debug({ model: clip(message.modelName), request_id: clip(message.id), ...logIds(trace, this.call.metadata) }, 'inference request served (sampled)');
          }
        },
        (err: unknown) => {
          const error = InferError.from(err);
          this.context.telemetry.endCall(trace, { code: error.code, grpcStatus: grpcCode(error.code), error });
          logFailure(this.logger, error, { model: clip(message.modelName), version: clip(message.modelVersion), request_id: clip(message.id), ...logIds(trace, this.call.metadata) });
          this.send(streamError(message, error));
        },
      )
      .finally(() => {
        regions?.release();
        this.inFlight -= 1;
        this.pendingBytes -= messageBytes;
        this.flow();
        this.finishIfDone();
      });
  }

  /**
   * Writes one response, counting it as unsent until grpc-js has handed it to the connection.
   * `release` gives its outputs' buffers back to their instance once written: grpc-js serializes
   * (copies) a message before it calls the write's callback, but a write queued behind others
   * is serialized later, so not at once. A response never written leaves them to the collector.
   */
  private send(response: ModelStreamInferResponse, release?: () => void): void {
    if (this.ended) return;
    const bytes = responseBytes(response);
    this.unsent += 1;
    this.pendingBytes += bytes;
    this.call.write(response, () => {
      release?.();
      this.unsent -= 1;
      this.pendingBytes -= bytes;
      this.flow();
    });
    this.flow();
  }

  /** Stops reading at the bounds; reads again once half of it has drained. */
  private flow(): void {
    if (this.ended) return;
    const pending = this.inFlight + this.unsent;
    if (!this.paused && (pending >= this.bounds.maxPending || this.pendingBytes > this.bounds.maxPendingBytes)) {
      this.paused = true;
      this.call.pause();
    } else if (this.paused && pending <= this.bounds.maxPending / 2 && this.pendingBytes <= this.bounds.maxPendingBytes / 2) {
      this.paused = false;
      this.call.resume();
    }
  }

  /** Ends the stream once nothing is in flight, after a half-close (OK) or a shutdown (its error). */
  private finishIfDone(): void {
    if (this.ended || this.inFlight > 0 || (!this.halfClosed && this.closing === undefined)) return;
    const closing = this.closing;
    this.end(closing === undefined ? { code: 'OK', grpcStatus: status.OK } : { code: closing.code, grpcStatus: grpcCode(closing.code), error: closing });
    // Responses already written are flushed before the status (end() follows the writes).
    if (closing === undefined) this.call.end();
    else this.call.emit('error', toServiceError(closing));
  }

  private end(outcome: Parameters<ServiceContext['telemetry']['endCall']>[1]): void {
    if (this.ended) return;
    this.ended = true;
    this.disposeSignal();
    this.context.telemetry.endCall(this.trace, outcome);
    this.onEnd();
  }
}
