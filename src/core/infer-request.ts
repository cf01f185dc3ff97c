import { clip } from './client-text.js';
import type { DataType } from './data-type.js';
import type { RequestTrace } from './telemetry.js';
import type { Tensor } from './tensor.js';

/** Printed (like Triton) for a datatype string that names no datatype. */
export const INVALID_DATATYPE = '<invalid>';

/** A request input as received: like a Tensor, but its datatype string is not yet checked. */
export interface RequestTensor extends Omit<Tensor, 'datatype'> {
  readonly datatype: DataType | typeof INVALID_DATATYPE;
}

/** A request or tensor parameter, keeping the protocol's type so that checks can be exact. */
export type ParameterValue =
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'int64'; readonly value: bigint }
  | { readonly kind: 'uint64'; readonly value: bigint }
  | { readonly kind: 'double'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string };

/** An output the client asked for by name. */
export interface RequestedOutput {
  readonly name: string;
  readonly parameters: ReadonlyMap<string, ParameterValue>;
}

/**
 * One inference request as the transport decoded it, before any check against the model.
 * Input tensors are views over the received message; nobody writes to them.
 */
export interface InferRequest {
  /** Client-chosen id, echoed in the response ('' when absent). */
  readonly id: string;
  readonly modelName: string;
  /** Version string as sent: '' means the latest ready version. */
  readonly modelVersion: string;
  readonly inputs: readonly RequestTensor[];
  /** Empty means every output of the model. */
  readonly outputs: readonly RequestedOutput[];
  readonly parameters: ReadonlyMap<string, ParameterValue>;
  /** When the transport received it (ms since the epoch), for request-duration statistics. */
  readonly receivedAt?: number;
  /** The request's trace when it is sampled. */
  readonly trace?: RequestTrace;
  /**
   * Bytes of the message it was decoded from, when the transport knows: its tensors are
   * views that keep all of it alive, so this is what holding the request costs.
   */
  readonly messageBytes?: number;
}

/** The answer to an InferRequest: outputs in the order they were requested. */
export interface InferResponse {
  readonly id: string;
  readonly modelName: string;
  readonly modelVersion: string;
  readonly outputs: readonly Tensor[];
  /**
   * Set when the outputs are views of an instance's output buffers that can go back to it:
   * the transport calls it once, after it has copied the outputs' bytes (encoded the
   * response), and reads them no more. A consumer that keeps the outputs (the response
   * cache copies them) or never calls it only leaves the buffers to the garbage collector.
   */
  readonly release?: () => void;
}

/**
 * Receives a decoupled request's responses as the model sends them. `final` marks the
 * last; a final call may carry no response (the model sent only the final flag).
 */
export type ResponseSink = (response: InferResponse | undefined, final: boolean) => void;

/**
 * Prefix Triton puts in front of request-level validation messages. The client chooses
 * the id, so a long one is cut (see clip).
 */
export function requestLogPrefix(id: string): string {
  return `[request id: ${id === '' ? '<id_unknown>' : clip(id)}] `;
}
