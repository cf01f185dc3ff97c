import type { Server, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { InferError } from '../../core/errors.js';
import { toServiceError } from './status.js';

/**
 * Where a message that could not be accepted carries its error. The deserializer returns
 * the method's empty request instead of throwing, with the error under this key; unary and
 * server-streaming handlers never see it (the call is answered with the error), and a
 * request stream's handler asks {@link undecodedError} for each message it reads.
 */
const UNDECODED = Symbol('undecoded request');

/** The error of a request message that could not be accepted (see {@link addService}); undefined for a decoded one. */
export function undecodedError(message: object): InferError | undefined {
  return (message as { [UNDECODED]?: InferError })[UNDECODED];
}

/** An encoded request that was decoded: the message, and how many bytes it had on the wire. */
export interface Received {
  /** Bytes of the encoded message: what its tensor views keep alive while the request is held. */
  readonly wireBytes: number;
}

/** How many bytes `message` had on the wire, when it came through {@link addService}; else 0. */
export function wireBytes(message: object): number {
  return (message as Partial<Received>).wireBytes ?? 0;
}

type Handler = (...args: never[]) => unknown;
type Call = { request?: unknown; emit(event: 'error', err: unknown): boolean };

/**
 * Adds a service whose undecodable requests are the client's error. grpc-js answers a
 * request that its deserializer throws on with INTERNAL "Error deserializing request",
 * which service meshes retry (Envoy's `retry_on: internal`) and dashboards count as a
 * server fault. Here every method's deserializer first runs `checks[method]` (if any) on
 * the encoded bytes, then decodes; an InferError from either, or any decoder error as
 * REQUEST_MALFORMED with the decoder's message, is answered through status.ts
 * (INVALID_ARGUMENT): as the call's status for unary and server-streaming methods, and by
 * the handler of a request stream (see {@link undecodedError}). Decoded messages carry
 * their size on the wire ({@link wireBytes}).
 */
export function addService(
  server: Server,
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
  checks: Readonly<Record<string, (bytes: Buffer) => void>> = {},
): void {
  const guardedDefinition: Record<string, unknown> = {};
  const guardedImplementation: Record<string, Handler> = {};
  for (const [method, attributes] of Object.entries(definition)) {
    const decode = attributes.requestDeserialize;
    // The RPC's name as the client called it: the last part of its path (/inference.GRPCInferenceService/ModelInfer).
    const name = attributes.path.slice(attributes.path.lastIndexOf('/') + 1);
    const check = checks[method];
    guardedDefinition[method] = {
      ...attributes,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          check?.(bytes);
          const message = decode(bytes);
          if (message !== null && typeof message === 'object') Object.defineProperty(message, 'wireBytes', { value: bytes.length });
          return message;
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          const error = err instanceof InferError ? err : new InferError('REQUEST_MALFORMED', `${name} request does not parse as protobuf: ${reason}`);
          // The method's empty request (what an empty message decodes to), carrying the error.
          const empty = decode(Buffer.alloc(0));
          Object.defineProperty(empty, UNDECODED, { value: error });
          return empty;
        }
      },
    };
    const handler = implementation[method] as Handler | undefined;
    if (handler !== undefined) guardedImplementation[method] = guard(handler, attributes.requestStream);
  }
  server.addService(guardedDefinition as ServiceDefinition, guardedImplementation as UntypedServiceImplementation);
}

/**
 * Unary and server-streaming calls have their request before the handler runs: answer an
 * undecodable one at once. A request stream's messages reach its handler, which answers
 * each undecodable one as it answers any failed request (ModelStreamInfer: an
 * error_message, and the stream goes on).
 */
function guard(handler: Handler, requestStream: boolean): Handler {
  if (requestStream) return handler;
  return ((call: Call, callback?: (err: unknown) => void) => {
    const error = call.request !== null && typeof call.request === 'object' ? undecodedError(call.request) : undefined;
    if (error === undefined) return (handler as (c: Call, cb?: unknown) => unknown)(call, callback);
    if (callback !== undefined) callback(toServiceError(error));
    else call.emit('error', toServiceError(error));
    return undefined;
  }) as Handler;
}
