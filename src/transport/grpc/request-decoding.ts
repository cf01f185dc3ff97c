import type { Server, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { InferError } from '../../core/errors.js';
import { toServiceError } from './status.js';

/**
 * A request message the server could not accept as its type: it did not parse, or a check
 * made before decoding refused it. The deserializer returns it instead of throwing, and
 * the method's handler is never called with it: the call is answered with its error.
 */
class UndecodedRequest {
  constructor(readonly error: InferError) {}
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
type Call = { request?: unknown; push?: (chunk: unknown) => boolean; emit(event: 'error', err: unknown): boolean };

/**
 * Adds a service whose undecodable requests are the client's error. grpc-js answers a
 * request that its deserializer throws on with INTERNAL "Error deserializing request",
 * which service meshes retry (Envoy's `retry_on: internal`) and dashboards count as a
 * server fault. Here every method's deserializer first runs `checks[method]` (if any) on
 * the encoded bytes, then decodes; an InferError from either, or any decoder error as
 * REQUEST_MALFORMED with the decoder's message, becomes the call's status through
 * status.ts (INVALID_ARGUMENT), for unary and streaming methods alike. Decoded messages
 * carry their size on the wire ({@link wireBytes}).
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
          if (err instanceof InferError) return new UndecodedRequest(err);
          const reason = err instanceof Error ? err.message : String(err);
          return new UndecodedRequest(new InferError('REQUEST_MALFORMED', `${name} request does not parse as protobuf: ${reason}`));
        }
      },
    };
    const handler = implementation[method] as Handler | undefined;
    if (handler !== undefined) guardedImplementation[method] = guard(handler, attributes.requestStream);
  }
  server.addService(guardedDefinition as ServiceDefinition, guardedImplementation as UntypedServiceImplementation);
}

/**
 * Unary and server-streaming calls have their request before the handler runs: answer
 * an undecoded one at once. Client and bidi streams receive messages later (grpc-js
 * pushes each into the call): end the call at the first undecoded one.
 */
function guard(handler: Handler, requestStream: boolean): Handler {
  if (!requestStream) {
    return ((call: Call, callback?: (err: unknown) => void) => {
      if (!(call.request instanceof UndecodedRequest)) return (handler as (c: Call, cb?: unknown) => unknown)(call, callback);
      const error = toServiceError(call.request.error);
      if (callback !== undefined) callback(error);
      else call.emit('error', error);
      return undefined;
    }) as Handler;
  }
  return ((call: Call, callback?: (err: unknown) => void) => {
    const push = call.push!.bind(call);
    let failed = false;
    call.push = (chunk: unknown) => {
      if (failed) return false;
      if (!(chunk instanceof UndecodedRequest)) return push(chunk);
      failed = true;
      const error = toServiceError(chunk.error);
      if (callback !== undefined) callback(error);
      else call.emit('error', error);
      return false;
    };
    return (handler as (c: Call, cb?: unknown) => unknown)(call, callback);
  }) as Handler;
}
