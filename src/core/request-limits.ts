import { InferError } from './errors.js';

/**
 * Bounds on what one inference request may make the server hold, checked before the
 * server allocates for it: the transport checks the wire message against them before
 * decoding it (transport/grpc/infer-request-scan.ts). A decoded request costs far more
 * than its bytes on the wire where the protocol packs small things densely: an empty
 * input is 2 bytes on the wire and hundreds in memory, a shape dim or an int64 typed
 * element 1 byte and 8 to 32. Without these, a 32 MiB message took 3 GiB and 16 s of
 * the main thread. The message size itself is enforced by gRPC (grpc-js refuses a longer
 * message from its 5-byte length prefix, before reading it).
 */
export interface RequestLimits {
  /** Most bytes of one request message on the wire (gRPC's max receive message length). */
  readonly maxMessageBytes: number;
  /** Most inputs, requested outputs and raw_input_contents entries, each, and entries of one parameters map. */
  readonly maxInputs: number;
  /** Most elements of one input: its shape's product. */
  readonly maxTensorElements: number;
  /**
   * Most elements in the typed `contents` of one input, all fields together. Lower than the
   * tensor bound: decoded, each element costs about 32 bytes whatever its size on the wire
   * (one byte for a small int), so 16 MiB of int_contents took 540 MiB.
   */
  readonly maxTypedElements: number;
  /** Most bytes of one BYTES element, raw or typed (shared memory inputs are bounded by their region). */
  readonly maxBytesElementBytes: number;
  /** Most UTF-8 bytes of the model name, version, id, a tensor name, a datatype or a parameter key. */
  readonly maxNameBytes: number;
}

/** Most dims a tensor may have: NumPy's limit (NPY_MAXDIMS in NumPy 2); no model comes near it. */
export const MAX_TENSOR_RANK = 64;

/** The flags that raise each limit, named in refusals so that an operator knows what to change. */
export const LIMIT_FLAGS: Readonly<Record<keyof RequestLimits, string>> = {
  maxMessageBytes: '--grpc-max-receive-message-bytes',
  maxInputs: '--max-request-inputs',
  maxTensorElements: '--max-tensor-elements',
  maxTypedElements: '--max-typed-elements',
  maxBytesElementBytes: '--max-bytes-element-bytes',
  maxNameBytes: '--max-request-name-bytes',
};

/** The refusal for a request past one limit: `message` says what and how much; the flag follows. */
export function limitError(message: string, limit: keyof RequestLimits): InferError {
  return new InferError('REQUEST_LIMIT', `${message} (${LIMIT_FLAGS[limit]})`);
}
